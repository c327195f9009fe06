"""From the factor cells' rows to the ``factors`` block of a study in ``summary.json``.

The answer analysed is the robustness split's (logit P(first action)), decomposed by
:func:`~subrational.evaluation.robustness.decompose` with the design's own terms::

    state + persona + order + F1 + ... + F1:state + ... + persona:state + order:state

(``F`` the factors varied). A factor's **share** is the omega squared of its main effect plus
its interaction with the state (how much it moves the answers, on average and state by state),
with the 95 % wild-bootstrap interval of that sum; the interactions of the persona and the
option order with the state come last, so that a saturated design drops them before a
factor's. What the terms leave over is the noise floor (residual mean square).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .design import FILE, FactorRun
from .levels import LEVELS

__all__ = ["FACTORS_VERSION", "HOW_TO_RUN", "assess_factors", "caveats", "not_run", "terms_of"]

FACTORS_VERSION = 1
"""Version of the ``factors`` block (levels, terms and caveats)."""

HOW_TO_RUN = ("the design factors were not run: run again with --factor temperature, --factor "
              "reasoning and/or --factor placement (or factors = [...] in the config file); "
              "`subrational plan --factor ...` shows their extra calls")

SCALE = "logit P(first action)"
FLAT = "every answered row gives the same P(first action): no factor moves it"

_BASE = {"state": "state", "persona": "persona", "order": "variant"}


def not_run() -> dict[str, Any]:
    """The ``factors`` block of a study made without ``--factor``."""
    return {"run": False, "note": HOW_TO_RUN}


def terms_of(factors: Sequence[str]) -> tuple[str, ...]:
    """The model's terms, in the order their sums of squares are taken (module docstring)."""
    return ("state", "persona", "order", *factors, *(f"{f}:state" for f in factors),
            "persona:state", "order:state")


def caveats(factors: Sequence[str], method: str, *, samples: int,
            temperature: float) -> dict[str, str]:
    """What each factor's levels change besides the factor, for this run's method."""
    out = {}
    if "temperature" in factors:
        out["temperature"] = (
            "levels 0.5 and 1.0; scored answers are not asked again: the temperature is "
            "applied to the options' distribution, p^(1/T) renormalised, which is what "
            "sampling at T gives restricted to the options when each option is one token "
            "(an approximation for options of several tokens)"
            + ("; the cot cells, sampled, are drawn at each temperature"
               if "reasoning" in factors else "")
            if method == "choice-probs"
            else "levels 0.5 and 1.0, each sampled (the same seeds at both temperatures)")
    if "reasoning" in factors:
        out["reasoning"] = (
            f"direct: the one-word question, scored; cot: the think-then-answer question, "
            f"which cannot be scored, so it is sampled ({samples} draws a cell at temperature "
            f"{temperature:g}): this level also changes the method, so a model that ignores "
            "the question still gets a share here from the draws' noise and their clipping at "
            "0 and 1 on the logit scale; run with --method sample to compare the two questions "
            "on equal terms" if method == "choice-probs"
            else "direct: the one-word question, sampled with a budget of a few tokens; cot: "
                 "the think-then-answer question (the run's own)")
    if "placement" in factors:
        out["placement"] = ("system: the persona opens the instructions (the run's own); user: "
                            "the instructions without it, the persona's text first in the user "
                            "message")
    return out


def _constant(frame: Any) -> bool:
    """Whether every answered row gives the same P(first action): nothing moves the answers."""
    ok = frame[frame["status"] == "ok"]
    first = [float(p[0]) for p in ok["probs"]]
    return len(first) >= 3 and max(first) - min(first) <= 1e-12


def _share(parts: Mapping[str, Any], name: str) -> dict[str, Any]:
    group = parts["groups"].get(name)
    terms = {t: {"share": parts["shares"].get(t),
                 "interval": parts["intervals"].get(t)} for t in (name, f"{name}:state")}
    if group is None:
        return {"share": None, "interval": None, "terms": terms}
    return {"share": group["share"], "interval": group["interval"], "terms": terms}


def assess_factors(run: FactorRun, frame: Any, *, asked: Sequence[str], method: str,
                   config: Any, n_boot: int, seed: int) -> dict[str, Any]:
    """The study's ``factors`` block (documented in ``SUMMARY_FORMAT``)."""
    from ..evaluation.robustness import decompose, not_varied

    not_run_here = dict(run.not_varied)
    factors = list(run.factors)
    columns = {**_BASE, **{f: f for f in factors}}
    parts: dict[str, Any] = {"shares": {}, "intervals": {}, "groups": {}, "noise_floor": None,
                             "residual_df": 0, "n_rows": 0, "not_estimable": []}
    if len(frame):
        for name in not_varied(frame, columns):
            if name in factors:  # every cell of a level failed
                not_run_here[name] = "only one of its levels has answered rows"
        parts = decompose(frame, n_boot=n_boot, seed=seed, factors=columns,
                          terms=terms_of(factors),
                          groups={f: (f, f"{f}:state") for f in factors})
    # Answers that do not vary at all have no variance to share out: every factor moves
    # them by exactly nothing, a share of 0 (the decomposition itself would be 0 / 0).
    flat = bool(len(frame)) and _constant(frame)
    block = {}
    for name in asked:
        entry: dict[str, Any] = {"levels": [str(x) for x in LEVELS[name]]}
        if name in not_run_here:
            entry.update(share=None, interval=None, not_varied=not_run_here[name])
        elif flat:
            entry.update(share=0.0, interval=[0.0, 0.0], terms={}, note=FLAT)
        else:
            entry.update(_share(parts, name))
        block[name] = entry
    return {"run": True, "version": FACTORS_VERSION, "scale": SCALE, "method": method,
            "factors": block, "not_varied": not_run_here,
            "noise_floor": parts["noise_floor"], "residual_df": parts["residual_df"],
            "n_rows": parts["n_rows"], "n_boot": n_boot,
            "not_estimable": parts["not_estimable"],
            "personas_sampled": parts.get("personas_sampled"), "cells": len(run.cells),
            "design": "the run's personas x states x the first wording x every option order",
            "caveats": caveats(factors, method, samples=config.samples,
                               temperature=config.temperature),
            "demonstrations": FILE if len(frame) else None}
