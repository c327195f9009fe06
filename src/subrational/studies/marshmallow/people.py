"""Population results of the marshmallow test: the children's wait-time distribution.

Per child (persona), from its episodes (exact where the game is small, else rollouts, or the
LLM's own sampled episodes): its distribution of minutes waited (0 .. horizon; the horizon
means she waited to the end), the share of its horizon it waits on average, and P(eat at
once) and P(full wait), each with its within-child variance (the model's own randomness).

The population's distribution is the mixture of the children's: a random child's wait. Its
shape is summarised by Sarle's bimodality coefficient on that mixture, BC = (skewness^2 + 1) /
kurtosis (population moments, kurtosis not in excess); BC > 5/9, the value of a uniform
distribution, suggests bimodality (SAS Institute 1990; Pfister et al. 2013, Frontiers in
Psychology 4:700). Human wait times are bimodal (Watts, Duncan & Quan 2018; Mischel's
studies, [V/S]): many give in almost at once, a large group waits to the end. As a strongly
skewed distribution with one peak (say, most eat at once and the rest leave soon after) can
also pass 5/9, the shape is checked directly too: ``end_peaks`` is 1 when both end minutes are
more likely than any minute between (a design choice).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...evaluation.behaviour import LEARNED_SOURCES, EvalSettings, episode_weights, episodes
from ...evaluation.people import PersonMeasures, PersonOutcome, mixture, person_id
from ...evaluation.records import Analysis
from ...experiments.core import Persona, Policy
from .game import WAIT

__all__ = ["person_measures", "bimodality_coefficient", "BIMODAL"]

BIMODAL = 5 / 9
"""Sarle's bimodality coefficient of a uniform distribution; above it suggests bimodality."""

LABELS = {
    "wait_share": "mean minutes waited as a share of the horizon",
    "eat_at_once": "P(eats at minute 0)",
    "full_wait": "P(waits to the end)",
    "eat_at_once_share": "share of the population eating at once (mixture)",
    "full_wait_share": "share of the population waiting to the end (mixture)",
    "mean_wait_share": "mean wait as a share of the horizon (mixture)",
    "bimodality": "Sarle's bimodality coefficient of the wait-time mixture (> 5/9 suggests "
                  "bimodality; SAS Institute 1990, Pfister et al. 2013; a strongly skewed "
                  "one-peak distribution can exceed it too)",
    "end_peaks": "waits pile up at both ends: eating at once and waiting to the end each more "
                 "likely than any minute between (1 yes, 0 no; a design choice)",
}


def bimodality_coefficient(x: Sequence[float] | np.ndarray,
                           p: Sequence[float] | np.ndarray) -> float:
    """Sarle's BC of a distribution over ``x`` with probabilities ``p`` (population moments)."""
    x_arr, w = np.asarray(x, dtype=float), np.asarray(p, dtype=float)
    w = w / w.sum()
    mean = float(w @ x_arr)
    var = float(w @ (x_arr - mean) ** 2)
    if var <= 0:
        return float("nan")
    skew = float(w @ (x_arr - mean) ** 3) / var ** 1.5
    kurt = float(w @ (x_arr - mean) ** 4) / var ** 2
    return (skew ** 2 + 1) / kurt


def _statistics(horizon: int) -> Any:
    def statistics(outcomes: Sequence[PersonOutcome]) -> dict[str, float]:
        pmf = mixture(outcomes)
        if pmf is None:
            return {}
        minutes = np.arange(horizon + 1)
        return {"eat_at_once_share": float(pmf[0]), "full_wait_share": float(pmf[-1]),
                "mean_wait_share": float(pmf @ minutes / horizon),
                "bimodality": bimodality_coefficient(minutes, pmf),
                "end_peaks": float(min(pmf[0], pmf[-1]) > pmf[1:-1].max())}
    return statistics


def _outcome(persona: Persona, waits: np.ndarray, weights: np.ndarray,
             horizon: int) -> PersonOutcome:
    pmf = np.bincount(waits, weights=weights, minlength=horizon + 1)[: horizon + 1]
    share = waits / horizon
    mean = float(weights @ share)
    eat, full = float(pmf[0]), float(pmf[-1])
    traits = {**persona.traits, "age": float(persona.values["age"])}
    return PersonOutcome(persona.name, person_id(persona.name), traits,
                         {"wait_share": mean, "eat_at_once": eat, "full_wait": full},
                         {"wait_share": float(weights @ (share - mean) ** 2),
                          "eat_at_once": eat * (1 - eat), "full_wait": full * (1 - full)}, pmf)


def person_measures(experiment: Any, policies: Mapping[str, Policy],
                    personas: Sequence[Persona], *, settings: EvalSettings,
                    analysis: Analysis) -> PersonMeasures:
    """Each child's wait distribution and shares (see the module docstring)."""
    horizon = experiment.horizon
    out: dict[str, list[PersonOutcome]] = {}
    for source in [s for s in LEARNED_SOURCES if s in policies]:
        rows = []
        for persona in personas:
            got = episodes(experiment, policies[source], persona, source=source,
                           settings=settings)
            if got is None or not got.trajectories:
                continue  # an episode reached a state with no answer: unknown
            waits = np.array([sum(a == WAIT for a in t.actions) for t in got.trajectories])
            w = episode_weights(got.trajectories, got.origin)
            w = np.full(len(waits), 1 / len(waits)) if w is None else w
            rows.append(_outcome(persona, waits, w, horizon))
        out[source] = rows
    return PersonMeasures(out, _statistics(horizon), LABELS, list(range(horizon + 1)),
                          "minutes waited (the horizon: waited to the end)", axis="age",
                          notes=[f"Waits are capped at the study's {horizon} minutes; the human "
                                 "studies capped them at 7-15 minutes, so the shares at the "
                                 "ends compare only approximately."])
