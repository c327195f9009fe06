"""Robustness as a designed factor: what moves the LLM's answers, and by how much.

Every demonstration row is one persona x state x wording x option order, so the plan is a full
factorial design and the variance of P(first action) over the rows splits into main effects.
The shares come from the sums of squares of a main-effects linear model (statsmodels
``anova_lm``, type II, which for this balanced design equals the sequential split); what the
main effects leave over (interactions and sampling noise) is reported as ``residual``.
A study where the wording or the option order explains more than the state does is flagged:
there the model answers the form of the question, not its content.

A factor the design does not vary (a game with one decision state, a run with one persona or
one wording) has no share at all: it is reported as ``None`` and listed in ``not_varied``, and
it is never compared, so it neither beats nor is beaten. A share equal to the state's (within
:data:`TIE`) does not beat it either.
"""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

__all__ = ["FACTORS", "TIE", "variance_shares", "not_varied", "persona_sensitivity", "robustness"]

FACTORS = {"state": "state", "persona": "persona", "wording": "paraphrase", "order": "variant"}
"""Report name of each factor -> demonstrations column."""
TIE = 1e-9
"""Shares closer than this are a tie (numerical noise of the sums of squares), not a win."""


def _first_action(frame: pd.DataFrame) -> pd.DataFrame:
    ok = frame[frame["status"] == "ok"]
    data = ok[list(FACTORS.values())].astype(str).copy()
    data["y"] = ok["probs"].map(lambda p: float(p[0])).to_numpy()
    return data


def variance_shares(frame: pd.DataFrame) -> dict[str, float | None]:
    """Share of the variance of P(first action) due to each factor, plus ``residual``.

    Factors with one level in ``frame`` (one state, a single persona) were not varied: their
    share is ``None``, not 0. When the answers do not vary at all, every share is ``None``.
    """
    data = _first_action(frame)
    total = float(((data["y"] - data["y"].mean()) ** 2).sum()) if len(data) else 0.0
    shares: dict[str, float | None] = {name: None for name in FACTORS}
    if total <= 1e-15:
        return {**shares, "residual": None}
    varying = [(name, col) for name, col in FACTORS.items() if data[col].nunique() > 1]
    if not varying:
        return {**shares, "residual": 1.0}
    formula = "y ~ " + " + ".join(f"C({col})" for _, col in varying)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a perfect fit warns about a zero residual
        table = anova_lm(smf.ols(formula, data=data).fit(), typ=2)
    for name, col in varying:
        shares[name] = float(table.loc[f"C({col})", "sum_sq"] / total)
    shares["residual"] = float(table.loc["Residual", "sum_sq"] / total)
    return shares


def not_varied(frame: pd.DataFrame) -> list[str]:
    """Factors with a single level among the answered rows (one state, one persona, ...)."""
    data = _first_action(frame)
    return [name for name, col in FACTORS.items() if data[col].nunique() < 2]


def persona_sensitivity(frame: pd.DataFrame) -> float | None:
    """Mean over states of the range across personas of P(first action) (wordings averaged)."""
    data = _first_action(frame)
    if data["persona"].nunique() < 2:
        return None
    by_cell = data.groupby(["state", "persona"])["y"].mean()
    return float(by_cell.groupby(level=0).agg(lambda v: v.max() - v.min()).mean())


def robustness(frame: pd.DataFrame) -> dict[str, Any]:
    """Variance shares, persona sensitivity and the flag, as stored in ``summary.json``."""
    shares = variance_shares(frame)
    state = shares["state"]
    form = {k: v for k, v in shares.items() if k in ("wording", "order") and v is not None}
    flagged = [] if state is None else sorted(k for k, v in form.items() if v > state + TIE)
    return {"variance_shares": shares, "persona_sensitivity": persona_sensitivity(frame),
            "form_beats_state": flagged, "not_varied": not_varied(frame),
            "rule": "flagged when the wording or the option order explains a larger share of the "
                    "variance of P(first action) than the state does"}
