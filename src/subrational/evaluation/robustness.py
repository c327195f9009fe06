"""Robustness as a designed factor: what moves the LLM's answers, and by how much.

Every demonstration row is one persona x state x wording x option order, a full factorial
design. The answer analysed is the **logit** of P(first action) (clipped to [1e-4, 1 - 1e-4]),
the scale on which choice models are additive. The linear model has the main effects and the
interactions that matter::

    state + persona + wording + order + persona:state + wording:state + order:state

``persona:state`` is the effect of interest (fairness moves the rejection curve, age moves the
waiting curve); it used to sit in the residual. Each term's share is **omega squared**,
``(SS - df * MS_residual) / (SS_total + MS_residual)``: the sums of squares are corrected for
their degrees of freedom, so 20 offer levels no longer beat one option order by counting alone
(a term no bigger than noise has a share near 0, clipped at 0). What the terms leave over (the
higher-order interactions and, for sampled answers, the draws' noise) is the residual mean
square, reported as ``noise_floor``.

The terms group into **content** (state, persona, persona:state: what the situation and the
person are) and **form** (wording, order, wording:state, order:state: how the question is put).
Intervals are basic intervals from a wild bootstrap of the residuals (Gaussian weights,
``n_boot`` replicates, seeded), taken on the unclipped omega squared (a share below 0 is shown
as 0), all replicates at once through the QR factors of the nested designs. A
study is flagged "form beats content" only when the form share exceeds the content share with
95 % confidence (the bootstrap's lower bound of their difference is above 0); the flag lists the
form factors with a share above zero.

A factor the design does not vary (a game with one decision state, a run with one persona or
one wording) has no share at all: it is ``None`` and listed in ``not_varied``, never compared.

:func:`decompose` takes the factors (report name -> column), the terms and their groups as
parameters: the optional design factors (:mod:`subrational.factors`) add their own columns as
main effects and interactions with the state, and group each factor's two terms into its share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..seeding import derived_rng

__all__ = ["FACTORS", "TERMS", "CONTENT", "FORM", "GROUPS", "MAX_CELLS", "decompose", "not_varied",
           "persona_sensitivity", "robustness"]

FACTORS = {"state": "state", "persona": "persona", "wording": "paraphrase", "order": "variant"}
"""Report name of each factor -> demonstrations column."""
TERMS = ("state", "persona", "wording", "order", "persona:state", "wording:state",
         "order:state")
"""Model terms, in the sequential order their sums of squares are taken."""
CONTENT = ("state", "persona", "persona:state")
FORM = ("wording", "order", "wording:state", "order:state")
GROUPS = {"content": CONTENT, "form": FORM}
"""Groups of terms whose shares are summed (with an interval of the sum)."""
_CLIP = 1e-4
MAX_CELLS = 2000
"""Most persona x state cells the decomposition takes whole. Its design is dense, with a column
per cell (``persona:state``), so memory grows as rows x cells: 200 people crossed with five
stakes and 20 states made 20,000 columns over 40,000 rows and ran a 24 GiB machine out of
memory. A population beyond it is decomposed on a seeded sample of whole personas (every row of
each), ``MAX_CELLS // states`` of them; ``personas_sampled`` says so (a design choice: omega
squared estimates population shares, and a random sample of personas estimates them, less
precisely: the intervals are conditional on the personas drawn, like the unsampled ones)."""
RULE = ("flagged when the wording and option order (with their interactions with the state) "
        "explain more of the variance of logit P(first action) than the state, the persona and "
        "their interaction do, with 95 % confidence (omega squared, wild bootstrap)")


def _first_action(frame: pd.DataFrame, factors: Mapping[str, str] = FACTORS) -> pd.DataFrame:
    ok = frame[frame["status"] == "ok"]
    data = ok[list(factors.values())].astype(str).copy()
    p = np.clip(ok["probs"].map(lambda v: float(v[0])).to_numpy(dtype=float), _CLIP, 1 - _CLIP)
    data["y"] = np.log(p / (1 - p))
    return data.reset_index(drop=True)


def not_varied(frame: pd.DataFrame, factors: Mapping[str, str] = FACTORS) -> list[str]:
    """Factors with a single level among the answered rows (one state, one persona, ...)."""
    data = _first_action(frame, factors)
    return [name for name, col in factors.items() if data[col].nunique() < 2]


def _dummies(data: pd.DataFrame, term: str, factors: Mapping[str, str]) -> np.ndarray:
    cols = [factors[f] for f in term.split(":")]
    key = data[cols[0]]
    for col in cols[1:]:
        key = key + "|" + data[col]
    return pd.get_dummies(key).to_numpy(dtype=float)


def _orthonormal(x: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the column space of ``x``, dropping directions it does not span.

    From the eigenvectors of its Gram matrix: the columns are few (a factor's levels).
    """
    if x.shape[1] == 0:
        return x
    values, vectors = np.linalg.eigh(x.T @ x)
    keep = values > max(float(values.max()), 0.0) * 1e-10
    return (x @ vectors[:, keep]) / np.sqrt(values[keep])


def _bases(data: pd.DataFrame, terms: list[str], factors: Mapping[str, str] = FACTORS
           ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Sequential orthonormal blocks: each term's block is what it adds to the terms before it."""
    n = len(data)
    basis = [np.ones((n, 1)) / np.sqrt(n)]
    blocks: dict[str, np.ndarray] = {}
    for term in terms:
        x = _dummies(data, term, factors)
        prior = np.hstack(basis)
        block = _orthonormal(x - prior @ (prior.T @ x))
        if block.shape[1]:
            blocks[term] = block
            basis.append(block)
    return blocks, np.hstack(basis)


def _interval(values: np.ndarray, truth: float, *, clip: bool) -> list[float]:
    """95 % basic bootstrap interval of the estimate ``values[0]``.

    ``values[1:]`` are the replicates and ``truth`` the value they estimate in the bootstrap
    world (its fitted effects plus noise): the interval is the estimate minus the replicates'
    errors, ``values[0] - (quantiles - truth)``. A percentile interval would sit above the
    estimate, since the fitted effects the bootstrap starts from already carry noise.
    """
    lo_q, hi_q = np.quantile(values[1:], [0.025, 0.975])
    lo, hi = float(values[0] - (hi_q - truth)), float(values[0] - (lo_q - truth))
    return [max(lo, 0.0), min(max(hi, 0.0), 1.0)] if clip else [lo, hi]


def decompose(frame: pd.DataFrame, *, n_boot: int = 200, seed: int = 0,
              factors: Mapping[str, str] = FACTORS, terms: Sequence[str] = TERMS,
              groups: Mapping[str, Sequence[str]] = GROUPS) -> dict[str, Any]:
    """Omega-squared share of each term with a 95 % interval, the groups and the noise floor.

    ``factors`` maps each factor's name to its column of ``frame``, ``terms`` are the model's
    terms in the order their sums of squares are taken (``a:b`` an interaction) and ``groups``
    the sets of terms whose summed share gets an interval too; ``form_minus_content`` is there
    when the groups are ``content`` and ``form``.
    """
    frame, sampled = _sample_personas(frame, factors, seed)
    data = _first_action(frame, factors)
    fixed = set(not_varied(frame, factors))
    all_terms = tuple(terms)
    kept = [t for t in all_terms if not set(t.split(":")) & fixed]
    y = data["y"].to_numpy(dtype=float)
    n = len(y)
    empty: dict[str, Any] = {"shares": {t: None for t in all_terms}, "intervals": {},
                             "groups": {}, "noise_floor": None, "residual_df": 0, "n_rows": n,
                             "not_estimable": [], "personas_sampled": sampled}
    if n < 3 or float(np.var(y)) <= 1e-15:
        return empty
    # Interactions that would leave no residual degrees of freedom (one wording: order:state
    # alone saturates the design) are left out, last first, and said so.
    dropped: list[str] = []
    while True:
        blocks, full = _bases(data, kept, factors)
        df_res = n - full.shape[1]
        if df_res >= 1 or not any(":" in t for t in kept):
            break
        last = [t for t in kept if ":" in t][-1]
        kept.remove(last)
        dropped.append(last)
    if df_res < 1:
        return {**empty, "residual_df": df_res, "not_estimable": dropped}
    fitted = full @ (full.T @ y)
    residual = y - fitted
    rng = derived_rng(seed, "robustness")
    # column 0: the data; columns 1..: wild-bootstrap replicates of it. The residuals are
    # scaled by sqrt(n / df) (the design is balanced: every row has leverage p / n), so that the
    # replicates' noise has the data's variance.
    weights = rng.standard_normal(size=(n, n_boot))
    scaled = residual * np.sqrt(n / df_res)
    ys = np.column_stack([y, fitted[:, None] + scaled[:, None] * weights])
    centred = ys - ys.mean(axis=0)
    ss_total = (centred ** 2).sum(axis=0)
    proj = {t: ((b.T @ ys) ** 2).sum(axis=0) for t, b in blocks.items()}
    ss_res = ss_total - sum(proj.values())
    ms_res = np.maximum(ss_res, 0.0) / df_res
    # unclipped, so that sums over terms and differences stay unbiased; clipped when shown
    omega = {t: (ss - blocks[t].shape[1] * ms_res) / (ss_total + ms_res)
             for t, ss in proj.items()}
    # What the replicates estimate: the fitted effects' share of fitted effects plus noise.
    world = sum(ss[0] for ss in proj.values()) + n * ms_res[0]
    truth = {t: float(ss[0] / world) for t, ss in proj.items()}
    shares: dict[str, float | None] = {t: None for t in all_terms}
    intervals: dict[str, list[float]] = {}
    for t, w in omega.items():
        shares[t] = max(float(w[0]), 0.0)
        intervals[t] = _interval(w, truth[t], clip=True)
    summed = {}
    for name, members in groups.items():
        present = [t for t in members if t in omega]
        if present:
            total = np.sum([omega[t] for t in present], axis=0)
            summed[name] = {"share": max(float(total[0]), 0.0), "interval": _interval(
                total, sum(truth[t] for t in present), clip=True)}
    gap = None
    if {"content", "form"} <= set(summed):
        form = [t for t in groups["form"] if t in omega]
        content = [t for t in groups["content"] if t in omega]
        diff = np.sum([omega[t] for t in form], axis=0) - np.sum([omega[t] for t in content],
                                                                  axis=0)
        gap = {"estimate": float(diff[0]), "interval": _interval(
            diff, sum(truth[t] for t in form) - sum(truth[t] for t in content), clip=False)}
    return {"shares": shares, "intervals": intervals, "groups": summed, "form_minus_content": gap,
            "noise_floor": float(ms_res[0]), "residual_df": int(df_res), "n_rows": n,
            "n_boot": n_boot, "not_estimable": dropped, "personas_sampled": sampled}


def _sample_personas(frame: pd.DataFrame, factors: Mapping[str, str],
                     seed: int) -> tuple[pd.DataFrame, dict[str, int] | None]:
    """``frame`` itself, or the rows of a seeded sample of its personas (:data:`MAX_CELLS`)."""
    persona, state = factors.get("persona"), factors.get("state")
    if persona is None or state is None:
        return frame, None
    ok = frame[frame["status"] == "ok"]
    names = sorted(ok[persona].astype(str).unique())
    states = max(int(ok[state].astype(str).nunique()), 1)
    if len(names) * states <= MAX_CELLS:
        return frame, None
    k = max(2, MAX_CELLS // states)
    chosen = derived_rng(seed, "robustness personas").choice(len(names), size=k, replace=False)
    keep = {names[i] for i in chosen}
    return (frame[frame[persona].astype(str).isin(keep)],
            {"kept": k, "of": len(names), "max_cells": MAX_CELLS})


def persona_sensitivity(frame: pd.DataFrame) -> float | None:
    """Mean over states of the range across personas of P(first action) (wordings averaged)."""
    ok = frame[frame["status"] == "ok"]
    if ok["persona"].nunique() < 2:
        return None
    y = ok["probs"].map(lambda p: float(p[0]))
    by_cell = y.groupby([ok["state"], ok["persona"]]).mean()
    return float(by_cell.groupby(level=0).agg(lambda v: v.max() - v.min()).mean())


def robustness(frame: pd.DataFrame, *, n_boot: int = 200, seed: int = 0) -> dict[str, Any]:
    """The decomposition, persona sensitivity and the flag, as stored in ``summary.json``."""
    parts = decompose(frame, n_boot=n_boot, seed=seed)
    gap = parts.get("form_minus_content")
    beats = gap is not None and gap["interval"][0] > 0
    shares = parts["shares"]
    flagged = sorted({t.split(":")[0] for t in FORM if (shares.get(t) or 0.0) > 0}) if beats \
        else []
    return {"scale": "logit P(first action)", "variance_shares": parts["shares"],
            "intervals": parts["intervals"], "groups": parts["groups"],
            "form_minus_content": gap, "noise_floor": parts["noise_floor"],
            "residual_df": parts["residual_df"], "n_rows": parts["n_rows"],
            "not_estimable": parts["not_estimable"],
            "personas_sampled": parts["personas_sampled"],
            "persona_sensitivity": persona_sensitivity(frame), "form_beats_state": flagged,
            "not_varied": not_varied(frame), "rule": RULE}
