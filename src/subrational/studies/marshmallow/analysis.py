"""Evaluation of the marshmallow test: survival curves by age, the paper's findings, human bands.

Every statistic comes from the episodes of :func:`~subrational.evaluation.behaviour.episodes`:
every episode of the policy weighted by its probability (exact), rollouts where the game is too
large for that, or the LLM's own sampled episodes. The minutes a child waits is the number of
"Wait" answers in an episode, so ``horizon`` means she waited to the end. Claims that waiting
*rises* with age use Spearman's rho over the ages present and also ask the oldest age to wait
longer than the youngest by more than a margin. With rolled-out statistics the margin is three
Monte Carlo standard errors of a difference of two shares (otherwise the rank order of a flat
policy's simulation noise would count as a rise half of the time); exact statistics have no such
noise, so their margin is 0 (a strict rise). The LLM's sampled episodes keep the rollout margin
for now.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from ...elicitation.smoothing import wilson
from ...evaluation.behaviour import (
    EXACT,
    LEARNED_SOURCES,
    SAMPLED,
    EvalSettings,
    common_origin,
    episode_weights,
    episodes,
)
from ...evaluation.records import DESIGN_CHOICE, PAPER_CLAIM, Analysis, Curve, Finding, band_finding
from ...experiments.core import Persona, Policy
from ...experiments.rollout import Trajectory
from ...experiments.study import HumanReference
from . import manipulations
from .fits import structural_models
from .game import WAIT

__all__ = ["WaitStats", "wait_stats", "analyse", "structural_models", "PANEL_SURVIVAL",
           "PANEL_FULL_WAIT"]

PANEL_SURVIVAL = "Survival: P(still waiting)"
PANEL_FULL_WAIT = "Full wait by age"
PAPER_YOUNG, PAPER_OLD = 2, 5  # our paraphrase of "delayed gratification in children"
PAPER_REF = "Coletta et al. 2024 (abstract): delayed gratification in children"


@dataclass(frozen=True)
class WaitStats:
    """Waiting behaviour of one source and persona.

    Attributes:
        survival: P(still waiting at the start of minute t) for t = 0 .. horizon; the last entry
            is the full-wait share. Shape ``(horizon + 1,)``.
        full_wait: P(the marshmallow is still there when the adult comes back).
        mean_wait: Mean minutes waited as a share of the horizon.
        eat_at_once: P(eat at minute 0).
        n_episodes: Episodes behind the shares (0: unknown, every share NaN); ``None`` for exact
            statistics, which no finite number of episodes is behind.
        full_wait_interval: 95 % Wilson interval of ``full_wait`` over the episodes; for exact
            statistics ``(full_wait, full_wait)``: there is no sampling error.
        survival_interval: 95 % Wilson interval of each entry of ``survival`` (low, high);
            for exact statistics the survival curve itself, twice.
        origin: ``sampled episodes`` (the LLM's own), ``rollouts`` or ``exact``; ``""`` when
            unknown.
    """

    survival: np.ndarray
    full_wait: float
    mean_wait: float
    eat_at_once: float
    n_episodes: int | None = 0
    full_wait_interval: tuple[float, float] = (math.nan, math.nan)
    survival_interval: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
    origin: str = ""

    def as_metrics(self, age: float) -> dict[str, Any]:
        """JSON-safe dict for ``Analysis.metrics``."""
        return {"age": age, "survival": self.survival.tolist(), "full_wait": self.full_wait,
                "mean_wait_share": self.mean_wait, "eat_at_once": self.eat_at_once,
                "full_wait_interval": list(self.full_wait_interval),
                "survival_interval": [list(x) for x in self.survival_interval],
                "episodes": self.n_episodes, "episodes_from": self.origin or "unknown"}


def wait_stats(trajectories: Sequence[Trajectory], horizon: int, *,
               origin: str = "") -> WaitStats:
    """Survival curve, full-wait share, mean wait and P(eat at once) of some episodes.

    Sampled episodes (rollouts, the LLM's) count once each and every share has a Wilson
    interval over them. Exact episodes (``origin`` ``exact``) are weighted by their
    probabilities and have no interval (each is the value itself). With no episode every value
    is NaN.
    """
    n = len(trajectories)
    if n == 0:
        nan = np.full(horizon + 1, math.nan)
        return WaitStats(nan, math.nan, math.nan, math.nan, 0, (math.nan, math.nan),
                         (tuple(nan), tuple(nan)), origin)
    waits = np.array([sum(a == WAIT for a in t.actions) for t in trajectories])
    weights = episode_weights(trajectories, origin)
    if weights is not None:
        return _exact_wait_stats(waits, weights, horizon)
    still = (waits[:, None] >= np.arange(horizon + 1)).sum(axis=0)
    survival = still / n
    bounds = [wilson(float(k), n) for k in still]
    return WaitStats(survival=survival, full_wait=float(survival[-1]),
                     mean_wait=float(waits.mean() / horizon), eat_at_once=float(1 - survival[1]),
                     n_episodes=n, full_wait_interval=bounds[-1],
                     survival_interval=(tuple(b[0] for b in bounds), tuple(b[1] for b in bounds)),
                     origin=origin)


def _exact_wait_stats(waits: np.ndarray, weights: np.ndarray, horizon: int) -> WaitStats:
    """:func:`wait_stats` of every episode, weighted by ``weights`` (summing to 1)."""
    survival = (weights[:, None] * (waits[:, None] >= np.arange(horizon + 1))).sum(axis=0)
    survival = np.minimum(survival, 1.0)  # weights sum to 1 up to rounding: "all" is 1, not more
    return WaitStats(survival=survival, full_wait=float(survival[-1]),
                     mean_wait=float(np.sum(weights * waits) / horizon),
                     eat_at_once=float(1 - survival[1]), n_episodes=None,
                     full_wait_interval=(float(survival[-1]),) * 2,
                     survival_interval=(tuple(survival.tolist()), tuple(survival.tolist())),
                     origin=EXACT)


def _age(persona: Persona) -> float:
    return float(persona.values["age"])


@dataclass(frozen=True)
class _Margin:
    """How much the oldest age must beat the youngest by, and why (shown in the criterion)."""

    value: float
    why: str

    def __str__(self) -> str:
        return f"{self.value:.3f} ({self.why})" if self.value else f"0 ({self.why})"


def _margin(stats: Mapping[float, WaitStats], ages: Sequence[float],
            settings: EvalSettings) -> _Margin:
    """0 for exact statistics; three Monte Carlo SE of a difference of two rolled-out shares.

    Each rolled-out share has SE <= 0.5 / sqrt(episodes). The LLM's sampled episodes get 0
    too: their sampling noise is what the bootstrap over them
    (:mod:`~subrational.evaluation.uncertainty`) decides the check on.
    """
    origin = common_origin(stats[a].origin for a in ages)
    if origin == EXACT:
        return _Margin(0.0, "exact statistics: no Monte Carlo error")
    if origin == SAMPLED:
        return _Margin(0.0, "the LLM's sampled episodes: decided on their bootstrap interval")
    value = 3 * 0.5 * math.sqrt(2 / settings.episodes)
    return _Margin(value, f"3 Monte Carlo SE of {settings.episodes} rollouts")


def _rises(ages: Sequence[float], values: Sequence[float],
           margin: float) -> tuple[float | None, bool | None]:
    """Spearman rho of ``values`` on ``ages`` and whether it counts as a rise (None: < 3 ages)."""
    if len(ages) < 3:
        return None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant input: rho is undefined, handled below
        rho = float(spearmanr(ages, values).statistic)
    if math.isnan(rho):
        return None, False
    return rho, rho > 0 and values[-1] - values[0] > margin


def _wait_stats(experiment: Any, policy: Policy, persona: Persona, source: str,
                settings: EvalSettings, reliable: bool | None = None) -> WaitStats:
    """Sampled demonstrations: the LLM's own episodes; else exact, or rollouts if too large.

    ``reliable`` (version 2) keeps the episodes that start with that adult; ``None`` all.
    """
    start = keep = None
    if reliable is not None:
        start = experiment.state_type(0, reliable)
        keep = lambda s: s.reliable == reliable  # noqa: E731
    got = episodes(experiment, policy, persona, source=source, settings=settings,
                   start_state=start, keep=keep)
    if got is None:  # an episode reached a state the policy never answered in: unknown
        return wait_stats([], experiment.horizon)
    return wait_stats(got.trajectories, experiment.horizon, origin=got.origin)


def classic_condition(experiment: Any) -> bool | None:
    """The adult of the classic findings: reliable where version 2's axis has it, else None."""
    adults = getattr(experiment, "adults", None)
    if not adults:
        return None
    return "reliable" in adults


def _simulate_ages(experiment: Any, policy: Policy, personas: Sequence[Persona], source: str,
                   settings: EvalSettings, reliable: bool | None = None
                   ) -> dict[float, WaitStats]:
    if reliable is None:
        reliable = classic_condition(experiment)
    memo: dict[str, WaitStats] = {}
    by_age: dict[float, list[WaitStats]] = {}
    for p in personas:  # a bootstrap replicate may list a child twice: counted twice
        if p.name not in memo:
            memo[p.name] = _wait_stats(experiment, policy, p, source, settings, reliable)
        by_age.setdefault(_age(p), []).append(memo[p.name])
    return {age: got[0] if len(got) == 1 else _mixture(got) for age, got in by_age.items()}


def _mixture(stats: Sequence[WaitStats]) -> WaitStats:
    """The children of one age pooled (a population): every share is the mean of theirs.

    The survival curve of a group is the mean of its members' curves. The Wilson bounds are
    the means of the members' (an approximation, wider than the group's own); a population's
    intervals come from resampling its people (:mod:`~subrational.evaluation.uncertainty`).
    """
    counts = [s.n_episodes for s in stats]
    lows = np.array([s.survival_interval[0] for s in stats], dtype=float)
    highs = np.array([s.survival_interval[1] for s in stats], dtype=float)
    return WaitStats(
        survival=np.mean([s.survival for s in stats], axis=0),
        full_wait=float(np.mean([s.full_wait for s in stats])),
        mean_wait=float(np.mean([s.mean_wait for s in stats])),
        eat_at_once=float(np.mean([s.eat_at_once for s in stats])),
        n_episodes=None if any(c is None for c in counts) else int(sum(counts)),
        full_wait_interval=(float(np.mean([s.full_wait_interval[0] for s in stats])),
                            float(np.mean([s.full_wait_interval[1] for s in stats]))),
        survival_interval=((tuple(lows.mean(axis=0)), tuple(highs.mean(axis=0)))
                           if lows.ndim == 2 and lows.shape[1] else ((), ())),
        origin=common_origin(s.origin for s in stats))


def _paper_findings(source: str, stats: Mapping[float, WaitStats], bands: Mapping[str, Any],
                    settings: EvalSettings) -> list[Finding]:
    """The paper's "delayed gratification in children": older children wait, and wait longer.

    "5-year-olds wait" is checked against the lower end of the human band for ages 4-5 (a child
    like Lamm et al.'s German 4-year-olds, 28 % full wait, waits), not "more than half": a
    human-like 5-year-old sits anywhere in [0.2, 0.7]. "2-year-olds take the immediate reward"
    has no human number behind it and is a design choice.
    """
    out = []
    flo = bands["full_wait"][0]
    if PAPER_YOUNG in stats:
        p = stats[PAPER_YOUNG].full_wait
        out.append(Finding("2-year-olds take the immediate reward", source, p,
                           "P(full wait | age 2) < 0.5", p < 0.5, origin=DESIGN_CHOICE,
                           source_ref=f"{DESIGN_CHOICE}; no cited number for 2-year-olds"))
    if PAPER_OLD in stats:
        p = stats[PAPER_OLD].full_wait
        ref = bands.get("thresholds", {}).get("full_wait", {}).get("source_ref",
                                                                    bands.get("source", ""))
        out.append(Finding("5-year-olds wait", source, p,
                           f"P(full wait | age 5) >= {flo} (the lower end of the human band "
                           "for ages 4-5)", p >= flo, origin=PAPER_CLAIM,
                           source_ref=f"{PAPER_REF}; threshold: {ref}"))
    ages = sorted(stats)
    margin = _margin(stats, ages, settings)
    rho, ok = _rises(ages, [stats[a].mean_wait for a in ages], margin.value)
    out.append(Finding("waiting rises with age", source, rho,
                       f"Spearman rho(age, mean wait) > 0 over ages present (>= 3) and oldest - "
                       f"youngest mean wait share > {margin}", ok,
                       origin=PAPER_CLAIM, direction="persona",
                       source_ref=f"{PAPER_REF}; direction: Imuta, Hayne & Scarf 2014, "
                                  "Carlson et al. 2018"))
    return out


def _rise_bands(source: str, stats: Mapping[float, WaitStats], bands: Mapping[str, Any],
                settings: EvalSettings) -> list[Finding]:
    lo, hi = bands["rise_ages"]
    ages = [a for a in sorted(stats) if lo <= a <= hi]
    margin = _margin(stats, ages, settings)
    out = []
    for what, key in (("full-wait probability", "full_wait"), ("mean wait", "mean_wait")):
        rho, ok = _rises(ages, [getattr(stats[a], key) for a in ages], margin.value)
        out.append(band_finding(f"{what} does not fall from age {lo} to {hi}", source, rho,
                                f"Spearman rho(age, {what}) > 0 on ages {lo}-{hi} present "
                                f"(>= 3) and a rise > {margin}", ok, bands, "rise_ages",
                                direction="persona"))
    return out


def _band_findings(source: str, stats: Mapping[float, WaitStats], bands: Mapping[str, Any],
                   settings: EvalSettings) -> list[Finding]:
    out = _rise_bands(source, stats, bands, settings)
    flo, fhi = bands["full_wait"]
    mlo, mhi = bands["mean_wait_share"]
    for age in [a for a in bands["band_ages"] if a in stats]:
        full, mean = stats[age].full_wait, stats[age].mean_wait
        out.append(band_finding(f"age {age}: full-wait share like children's", source, full,
                                f"P(full wait | age {age}) in [{flo}, {fhi}]",
                                flo <= full <= fhi, bands, "full_wait", "band_ages"))
        out.append(band_finding(f"age {age}: mean wait like children's", source, mean,
                                f"mean wait / horizon at age {age} in [{mlo}, {mhi}]",
                                mlo <= mean <= mhi, bands, "mean_wait_share", "band_ages"))
    young, least = bands["eat_at_once_age"], bands["eat_at_once_min"]
    if young in stats:
        p = stats[young].eat_at_once
        out.append(band_finding(f"a {young}-year-old mostly eats at once", source, p,
                                f"P(eat at minute 0 | age {young}) > {least}", p > least,
                                bands, "eat_at_once_age", "eat_at_once_min"))
    return out


def _curves(label: str, source: str, stats: Mapping[float, WaitStats],
            persona_names: Mapping[float, str], *, per_age: bool) -> list[Curve]:
    ages = sorted(stats)
    out = [Curve(PANEL_FULL_WAIT, label, source, "", ages, [stats[a].full_wait for a in ages],
                 xlabel="age (years)", ylabel="P(full wait)")]
    shown = ages if per_age else ages[:1]
    for age in shown:
        survival = stats[age].survival
        out.append(Curve(PANEL_SURVIVAL, f"{label}: age {age:g}" if per_age else label, source,
                         persona_names[age] if per_age else "", list(range(len(survival))),
                         survival.tolist(), xlabel="minute", ylabel="P(still waiting)"))
    return out


def _human_curve(bands: Mapping[str, Any]) -> Curve:
    ages = list(bands["band_ages"])
    lo, hi = bands["full_wait"]
    return Curve(PANEL_FULL_WAIT, f"children aged {ages[0]}-{ages[-1]}: band across studies",
                 "human", "", ages, [(lo + hi) / 2] * len(ages), y_low=[lo] * len(ages),
                 y_high=[hi] * len(ages), xlabel="age (years)", ylabel="P(full wait)",
                 band_label="band across studies (HUMAN_DATA)")


def _distance(stats: Mapping[float, WaitStats], bands: Mapping[str, Any]) -> float | None:
    lo, hi = bands["full_wait"]
    gaps = [max(0.0, lo - stats[a].full_wait, stats[a].full_wait - hi)
            for a in bands["band_ages"] if a in stats]
    return float(np.mean(gaps)) if gaps else None


def _baselines(out: Analysis, experiment: Any, policies: Mapping[str, Policy],
               personas: Sequence[Persona], settings: EvalSettings) -> None:
    names = manipulations.age_names(personas)
    for name in experiment.baselines():
        if name not in policies or not personas:
            continue
        stats = _simulate_ages(experiment, policies[name], personas, name, settings)
        out.curves.extend(_curves(name, "baseline", stats, names, per_age=False))
        out.per_persona(name).update({names[a]: s.as_metrics(a) for a, s in stats.items()})
        manipulations.add(out, experiment, policies[name], personas, source=name,
                          classic=stats, settings=settings, simulate=_simulate_ages)
        if name == "exponential":
            first = stats[min(stats)]
            both = first.eat_at_once + first.full_wait
            out.findings.append(Finding(
                "exponential discounter is time-consistent: eats at once or waits to the end",
                name, both, "P(eat at minute 0) + P(full wait) >= 0.95", both >= 0.95,
                origin=DESIGN_CHOICE))


def analyse(experiment: Any, policies: Mapping[str, Policy], personas: Sequence[Persona], *,
            settings: EvalSettings, human: HumanReference) -> Analysis:
    """Survival curves, findings, human bands and distances for every age and source present."""
    bands = human["bands"]
    ordered = sorted(personas, key=_age)
    names = manipulations.age_names(ordered)
    out = Analysis(curves=[_human_curve(bands)])
    distance: dict[str, Any] = {
        "measure": f"mean over ages {bands['band_ages']} present of the distance from "
                   f"P(full wait) to the human band {bands['full_wait']} (0 inside the band)"}
    for source in [s for s in LEARNED_SOURCES if s in policies]:
        stats = _simulate_ages(experiment, policies[source], ordered, source, settings)
        out.curves.extend(_curves(source, source, stats, names, per_age=True))
        out.per_persona(source).update({names[a]: s.as_metrics(a) for a, s in stats.items()})
        out.findings.extend(_paper_findings(source, stats, bands, settings))
        out.findings.extend(_band_findings(source, stats, bands, settings))
        if (gap := _distance(stats, bands)) is not None:
            distance[source] = gap
        manipulations.add(out, experiment, policies[source], ordered, source=source,
                          classic=stats, settings=settings, simulate=_simulate_ages)
    _baselines(out, experiment, policies, ordered, settings)
    out.metrics["distance_to_humans"] = distance
    out.notes.append("Baselines do not depend on age; their survival curve is shown once.")
    return out
