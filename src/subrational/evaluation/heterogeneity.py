"""Heterogeneity: which traits move each person outcome, next to the human effect sizes.

For each source and outcome, the outcome is regressed (ordinary least squares, statsmodels) on
every trait of the population at once, outcome and predictors standardised (categories one-hot
against their most common value, each dummy standardised too), so each coefficient is a
standardised beta: comparable with a correlation r where the traits are uncorrelated, as in the
built-in samplers. Standard errors are cluster-robust by person when a person has several
personas (one per value of the study's axis), else HC3; intervals and p-values use the t
distribution; p-values are Holm-adjusted over every row of one source.

Rows are flagged (decided on the interval):

* ``caricature`` where ``human.json`` gives the human size of the effect (block
  ``population_effects``: ``r_low``/``r_high``) and the whole interval lies beyond
  :data:`CARICATURE_FACTOR` times the largest human |r| (a design choice);
* ``wrong direction`` where the effect is opposite the human direction with Holm p < 0.05;
* ``placebo moves behaviour`` for a placebo trait with Holm p < 0.05: a model whose answers
  follow shoe size or favourite colour is stereotyping, not simulating.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..experiments.population import PLACEBO_TRAITS
from .uncertainty import holm

__all__ = ["CARICATURE_FACTOR", "ALPHA", "FLAT", "trait_effects", "heterogeneity"]

CARICATURE_FACTOR = 2.0
"""An effect whose interval lies beyond this multiple of the human |r| is a caricature (a
design choice: human studies of one effect differ by about a factor of two)."""
ALPHA = 0.05
"""Level of the Holm-adjusted tests (a convention)."""
FLAT = 1e-3
"""An outcome whose SD over the personas is below this does not vary (a design choice): a
standardised regression would blow its rounding noise up into 'effects'."""


def _columns(traits: Sequence[Mapping[str, Any]]) -> list[tuple[str, str | None, np.ndarray]]:
    """(trait, level or None, column) for every trait that varies."""
    names = list(dict.fromkeys(k for t in traits for k in t))
    out: list[tuple[str, str | None, np.ndarray]] = []
    for name in names:
        values = [t.get(name) for t in traits]
        if any(v is None for v in values):
            continue
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            col = np.asarray(values, dtype=float)
            if np.ptp(col) > 0:
                out.append((name, None, col))
            continue
        levels = sorted({str(v) for v in values}, key=lambda v: (-[str(x) for x in values]
                                                                   .count(v), v))
        out.extend((name, f"{level} vs {levels[0]}",
                    np.array([str(v) == level for v in values], dtype=float))
                   for level in levels[1:])
    return out


def trait_effects(traits: Sequence[Mapping[str, Any]], y: Sequence[float],
                  groups: Sequence[str]) -> list[dict[str, Any]]:
    """Standardised betas of ``y`` on ``traits`` (one mapping per observation), unadjusted.

    Returns one row per predictor: ``trait``, ``level``, ``effect``, ``interval`` (95 %),
    ``p``, ``se``, ``n`` and ``covariance``; empty when ``y`` does not vary (SD below
    :data:`FLAT`) or there are too few observations for the predictors (n <= predictors + 2).
    """
    import statsmodels.api as sm

    y_arr = np.asarray(y, dtype=float)
    keep = np.isfinite(y_arr)
    traits = [t for t, k in zip(traits, keep, strict=True) if k]
    groups = [g for g, k in zip(groups, keep, strict=True) if k]
    y_arr = y_arr[keep]
    cols = _columns(traits)
    if not cols or len(y_arr) <= len(cols) + 2 or np.std(y_arr) < FLAT:
        return []
    x = np.column_stack([(c - c.mean()) / c.std() for _, _, c in cols])
    z = (y_arr - y_arr.mean()) / y_arr.std()
    clustered = len(set(groups)) < len(groups)
    model = sm.OLS(z, sm.add_constant(x, has_constant="add"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if clustered:
            codes = np.unique(np.asarray(groups), return_inverse=True)[1]
            fit = model.fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
        else:
            fit = model.fit(cov_type="HC3", use_t=True)
    ci = np.asarray(fit.conf_int(alpha=0.05))
    return [{"trait": name, "level": level, "effect": float(fit.params[i + 1]),
             "interval": [float(ci[i + 1, 0]), float(ci[i + 1, 1])],
             "p": float(fit.pvalues[i + 1]), "se": float(fit.bse[i + 1]), "n": len(z),
             "covariance": "cluster-robust by person" if clustered else "HC3"}
            for i, (name, level, _) in enumerate(cols)]


def _human_effect(effects: Any, trait: str, outcome: str) -> Mapping[str, Any] | None:
    for e in effects or []:
        if e.get("trait") == trait and e.get("outcome") == outcome:
            return e
    return None


def _flag(row: Mapping[str, Any], human: Mapping[str, Any] | None) -> str:
    lo, hi = row["interval"]
    if row["kind"] == "placebo":
        return "placebo moves behaviour" if row["p_holm"] < ALPHA else ""
    if human is None:
        return ""
    sizes = [abs(float(human[k])) for k in ("r_low", "r_high") if human.get(k) is not None]
    if sizes:
        bound = CARICATURE_FACTOR * max(sizes)
        if lo > bound or hi < -bound:
            return "caricature"
    sign = human.get("direction")
    if row["p_holm"] < ALPHA and ((sign == "+" and hi < 0) or (sign == "-" and lo > 0)):
        return "wrong direction"
    return ""


def heterogeneity(measures: Any, human: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows ``{source, outcome, trait, level, kind, effect, interval, p, p_holm, human, flag}``.

    ``kind``: ``axis`` (the study's own designed factor), ``placebo`` or ``trait``.
    """
    effects = getattr(human, "data", human).get("population_effects")
    rows: list[dict[str, Any]] = []
    for source, outcomes in measures.outcomes.items():
        start = len(rows)
        names = sorted({k for o in outcomes for k in o.values})
        for outcome in names:
            got = trait_effects([o.traits for o in outcomes],
                                [o.values.get(outcome, np.nan) for o in outcomes],
                                [o.person for o in outcomes])
            for r in got:
                kind = ("axis" if r["trait"] == measures.axis else
                        "placebo" if r["trait"] in PLACEBO_TRAITS else "trait")
                rows.append({"source": source, "outcome": outcome, **r, "kind": kind})
        adjusted = holm([r["p"] for r in rows[start:]]) if len(rows) > start else np.zeros(0)
        for r, p in zip(rows[start:], adjusted, strict=True):
            h = _human_effect(effects, r["trait"], r["outcome"])
            r["p_holm"] = float(p)
            r["human"] = None if h is None else {k: h.get(k) for k in
                                                 ("r_low", "r_high", "direction", "source",
                                                  "tag")}
            r["flag"] = _flag(r, h)
    return rows
