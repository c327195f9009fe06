"""Population results of double-or-nothing: each person's certainty-equivalent proxy.

The game asks keep-or-gamble, not a price, so a certainty equivalent is not observed. The
closest available proxy, per persona: the CE / EV ratio implied by its P(gamble) at round 0
(fair odds where asked, else the persona's win probability p) through the study's own myopic
logit chooser, ``P(gamble) = sigmoid(s log(CE / w))`` with the baselines' sensitivity ``s`` =
5 (a design choice, the same as the structural fit's): ``CE / EV = exp(logit(P) / s) / (2 p)``
(P clipped to [0.001, 0.999]). It sits next to the CPT reference CE / EV = 0.75 (computed
from Tversky & Kahneman 1992) and the human band [0.6, 0.95] (HUMAN_DATA.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.special import logit

from ...evaluation.behaviour import LEARNED_SOURCES, EvalSettings
from ...evaluation.people import PersonMeasures, PersonOutcome, person_id
from ...evaluation.records import Analysis
from ...experiments.core import Persona, Policy
from .game import SENSITIVITY

__all__ = ["person_measures", "ce_ev_proxy", "BAND"]

BAND = (0.6, 0.95)
"""HUMAN_DATA.md band of the CE / EV ratio (also in human.json ``bands.ce_ev_ratio``)."""

LABELS = {
    "ce_ev": "CE / EV proxy: exp(logit P(gamble at round 0) / 5) / (2 p) (the study's myopic "
             "logit chooser, sensitivity 5: a design choice)",
    "p_gamble": "P(gamble at round 0) (within-person: its Bernoulli variance)",
    "ce_ev_median": "median CE / EV proxy",
    "ce_ev_mean": "mean CE / EV proxy",
    "in_band_share": "share of people with CE / EV in the human band [0.6, 0.95]",
    "p_gamble_mean": "mean P(gamble at round 0)",
}


def ce_ev_proxy(p_gamble: float, win_prob: float) -> float:
    """The CE / EV ratio of a myopic logit chooser who gambles with ``p_gamble``."""
    p = float(np.clip(p_gamble, 1e-3, 1 - 1e-3))
    return float(np.exp(logit(p) / SENSITIVITY) / (2 * win_prob))


def _statistics(outcomes: Sequence[PersonOutcome]) -> dict[str, float]:
    ce = np.array([o.values["ce_ev"] for o in outcomes])
    return {"ce_ev_median": float(np.median(ce)), "ce_ev_mean": float(np.mean(ce)),
            "in_band_share": float(np.mean((ce >= BAND[0]) & (ce <= BAND[1]))),
            "p_gamble_mean": float(np.mean([o.values["p_gamble"] for o in outcomes]))}


def _round0(stored: Mapping[str, Any]) -> tuple[float, float] | None:
    by_p = stored.get("p_gamble_round0_by_win_prob") or {}
    if "0.5" in by_p:
        return float(by_p["0.5"]), 0.5
    if stored.get("p_gamble_round0") is None:
        return None
    return float(stored["p_gamble_round0"]), float(stored.get("win_prob") or 0.5)


def person_measures(experiment: Any, policies: Mapping[str, Policy],
                    personas: Sequence[Persona], *, settings: EvalSettings,
                    analysis: Analysis) -> PersonMeasures:
    """Each person's CE / EV proxy and P(gamble at round 0) (see the module docstring)."""
    per = analysis.metrics.get("per_persona", {})
    bins = np.round(np.arange(0.2, 2.01, 0.05), 2)
    out: dict[str, list[PersonOutcome]] = {}
    for source in [s for s in LEARNED_SOURCES if s in policies]:
        rows = []
        for persona in personas:
            got = _round0(per.get(source, {}).get(persona.name, {}))
            if got is None or not np.isfinite(got[0]):
                continue
            p, q = got
            ce = ce_ev_proxy(p, q)
            pmf = np.zeros(len(bins))
            pmf[int(np.argmin(np.abs(bins - min(ce, bins[-1]))))] = 1.0
            traits = {**persona.traits, "stake": float(persona.values["stake"])}
            rows.append(PersonOutcome(persona.name, person_id(persona.name), traits,
                                      {"ce_ev": ce, "p_gamble": p},
                                      {"p_gamble": p * (1 - p)}, pmf))
        out[source] = rows
    return PersonMeasures(out, _statistics, LABELS, bins.tolist(),
                          "CE / EV proxy (binned by 0.05; 2 and above in the last bin)",
                          marks=("ce_ev_median",), axis="stake", shares=("in_band_share",),
                          notes=["No certainty equivalent is asked: the CE / EV ratio is a proxy "
                                 "inferred from P(gamble) at round 0 through the study's logit "
                                 "chooser with sensitivity 5 (a design choice)."])
