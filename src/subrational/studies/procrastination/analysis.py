"""Evaluation of academic procrastination: when the work gets done, by GPA.

Every source (``demonstrations``, ``policy``, the baselines) is played from day 1 by
:func:`~subrational.evaluation.behaviour.episodes`: every episode weighted by its probability
(exact) where the game is small enough, else rollouts; sampled demonstrations give the LLM's own
episodes. From the episodes come the
cumulative share of the work done by the end of each day, the share of sessions done in the last
two days, the share of late reports and the mean days before the deadline at completion (0 = on
the last day; a late report counts as -1, like OULAD's late submissions). The paper's findings
(lower GPA works later; work piles up near the deadline) are checked on the learned sources, the
OULAD bands of HUMAN_DATA.md on the same sources, and one sanity check on the baselines (the naive
present-biased student leaves more work to the end than the exponential one). The baselines ignore
the GPA, so they are simulated once, for the first persona.

"Lower GPA works later" ranks the episodes of all GPAs together. Sampled and rolled-out episodes
need a one-sided test (:data:`SIGNIFICANCE`) so that a split smaller than their noise is not a
finding; exact episodes have no such noise, so the rank correlation itself decides (the
population Spearman rho of the episodes weighted by their probabilities, each GPA weighing the
same, as each has the same number of rollouts).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from ...elicitation.smoothing import wilson
from ...evaluation.behaviour import (
    EXACT,
    LEARNED_SOURCES,
    ROLLOUTS,
    SAMPLED,
    EvalSettings,
    MemoPolicy,
    _sampled,
    episode_weights,
    episodes,
)
from ...evaluation.records import DESIGN_CHOICE, PAPER_CLAIM, Analysis, Curve, Finding, band_finding
from ...experiments.core import Persona, Policy
from ...experiments.rollout import Trajectory, UnknownStateError
from ...experiments.study import HumanReference
from . import manipulations
from .exact_timing import exact_work_timing
from .fits import structural_models
from .game import WORK
from .timing import LATE_DAYS, WorkTiming

__all__ = ["WorkTiming", "work_timing", "analyse", "structural_models"]

CUMULATIVE = "Cumulative work by day"
BY_GPA = "Finishing time by GPA"
def work_timing(trajectories: Sequence[Trajectory], *, deadline: int, sessions: int,
                last_days: int, origin: str = "") -> WorkTiming:
    """Work timing statistics of a set of episodes of the procrastination game.

    Exact episodes (``origin`` ``exact``) are weighted by their probabilities, so the counts
    are expectations for one episode; other episodes count once each. With no episode
    (unknown) the shares are NaN and the per-episode arrays empty.
    """
    if not trajectories:
        return WorkTiming([math.nan] * (deadline + 1), 0, 0, np.zeros(0, dtype=bool),
                          np.zeros(0), origin=origin)
    weights = episode_weights(trajectories, origin)
    work_days, day_weights, late, days_before = [], [], [], []
    for i, traj in enumerate(trajectories):
        days = [s.day for s, a in zip(traj.states, traj.actions, strict=True) if a == WORK]
        work_days.extend(days)
        if weights is not None:
            day_weights.extend([weights[i]] * len(days))
        finished = len(days) >= sessions
        late.append(not finished)
        days_before.append(deadline - days[-1] if finished else LATE_DAYS)
    late_arr, before = np.asarray(late), np.asarray(days_before, dtype=float)
    if weights is not None:
        per_day = np.bincount(np.asarray(work_days, dtype=int), weights=day_weights,
                              minlength=deadline + 1)
        # Shares of weights summing to 1 up to rounding: clipped so that "all" is 1, not 1 + 2e-16.
        return WorkTiming(cumulative=np.minimum(np.cumsum(per_day) / sessions, 1.0).tolist(),
                          sessions_done=float(per_day.sum()),
                          sessions_late_days=float(per_day[deadline - last_days + 1:].sum()),
                          late=late_arr, days_before=before, weights=weights, origin=origin)
    per_day = np.bincount(np.asarray(work_days, dtype=int), minlength=deadline + 1)
    cumulative = np.cumsum(per_day) / (len(trajectories) * sessions)
    return WorkTiming(cumulative=cumulative.tolist(), sessions_done=len(work_days),
                      sessions_late_days=int(per_day[deadline - last_days + 1:].sum()),
                      late=late_arr, days_before=before, origin=origin)


def _exact(timings: Sequence[WorkTiming]) -> bool:
    return any(t.weights is not None for t in timings)


def _pooled_last_share(timings: Sequence[WorkTiming]) -> float:
    if _exact(timings):  # expectations of one episode: every persona weighs the same
        done = sum(t.sessions_done / t.mass for t in timings if t.mass)
        late = sum(t.sessions_late_days / t.mass for t in timings if t.mass)
        return late / done if done else math.nan
    done = sum(t.sessions_done for t in timings)
    return sum(t.sessions_late_days for t in timings) / done if done else math.nan


def _pooled_late(timings: Sequence[WorkTiming]) -> float:
    if _exact(timings):
        return float(np.mean([t.late_share for t in timings if len(t.late)]))
    return float(np.mean(np.concatenate([t.late for t in timings])))


SIGNIFICANCE = 0.05
"""One-sided level of the GPA rank test: a split smaller than rollout noise is not a finding."""


def _episode_rank(timings: Sequence[tuple[Persona, WorkTiming]]
                  ) -> tuple[float | None, float | None]:
    """Spearman rho of (GPA, days before the deadline) over episodes, and its one-sided p.

    Exact episodes give the population rho and no p (``None``: no sampling error to test).
    """
    if _exact([t for _, t in timings]):
        return _exact_rank(timings), None
    sampled = all(t.origin == SAMPLED for _, t in timings)
    gpas = np.concatenate([np.full(len(t.days_before), _gpa(p)) for p, t in timings])
    days = np.concatenate([t.days_before for _, t in timings])
    if len(set(gpas.tolist())) < 2 or len(set(days.tolist())) < 2:
        return None, 1.0
    result = spearmanr(gpas, days, alternative="greater")
    rho, p_value = float(result.statistic), float(result.pvalue)
    if not math.isfinite(rho):
        return None, 1.0
    # The LLM's own episodes: the bootstrap over them decides, not a test within one sample.
    return rho, (None if sampled else p_value)


def _midranks(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """P(X < x) + P(X = x) / 2 of each value under ``weights``: Spearman's ranks, scaled."""
    distinct, inverse = np.unique(values, return_inverse=True)
    mass = np.bincount(inverse, weights=weights, minlength=len(distinct))
    return (np.cumsum(mass) - mass / 2)[inverse]


def _exact_rank(timings: Sequence[tuple[Persona, WorkTiming]]) -> float | None:
    """Population Spearman rho of (GPA, days before the deadline), every GPA weighing the same.

    The Pearson correlation of the mid-ranks. The GPA is constant within a persona, so the
    covariance is that of the GPA rank with each persona's mean days rank; it is taken about
    the first persona's mean, so a GPA-blind policy (every persona's episodes the same) gives
    exactly 0, not a rounding error of either sign.
    """
    parts = [(_gpa(p), t.days_before, t.weights) for p, t in timings
             if len(t.days_before) and t.weights is not None]
    if len({g for g, _, _ in parts}) < 2:
        return None
    share = 1.0 / len(parts)
    days = np.concatenate([d for _, d, _ in parts])
    weights = np.concatenate([w * share for _, _, w in parts])
    if len(set(days.tolist())) < 2:
        return None
    day_rank = _midranks(days, weights)
    gpa_rank = _midranks(np.array([g for g, _, _ in parts]), np.full(len(parts), share))
    bounds = np.cumsum([0] + [len(d) for _, d, _ in parts])
    means = np.array([w @ day_rank[a:b]
                      for (_, _, w), a, b in zip(parts, bounds[:-1], bounds[1:], strict=True)])
    centred = gpa_rank - gpa_rank.mean()
    cov = share * float(centred @ (means - means[0]))
    spread = float(weights @ (day_rank - weights @ day_rank) ** 2)
    return cov / math.sqrt(share * float(centred @ centred) * spread)


def _gpa(persona: Persona) -> float:
    return float(persona.values["gpa"])


def _significant(p_value: float | None) -> bool:
    return p_value is None or p_value < SIGNIFICANCE


def _rank_test(timings: Sequence[tuple[Persona, WorkTiming]]) -> str:
    """How the criterion of a rank finding guards against sampling noise."""
    if _exact([t for _, t in timings]):
        return "no sampling error to test (exact: every episode weighted by its probability)"
    if all(t.origin == SAMPLED for _, t in timings):
        return "the LLM's sampled episodes: decided on their bootstrap interval"
    return f"one-sided p < {SIGNIFICANCE}"


def _paper_findings(source: str, timings: Sequence[tuple[Persona, WorkTiming]], *,
                    deadline: int, last_days: int) -> list[Finding]:
    rho, p_value = _episode_rank(timings) if len(timings) >= 3 else (None, 1.0)
    pooled = _pooled_last_share([t for _, t in timings])
    even = last_days / deadline
    return [
        Finding("lower GPA works later", source, rho,
                "Spearman rho(GPA, days before the deadline at completion) over episodes > 0, "
                f"{_rank_test(timings)} (undefined with fewer than 3 GPAs)",
                None if rho is None else rho > 0 and _significant(p_value),
                origin=PAPER_CLAIM, direction="persona",
                source_ref="Coletta et al. 2024 (abstract): lower GPA delays work; direction: "
                           "Steel 2007, Kim & Seo 2015, OULAD timing by final result"),
        Finding("work piles up near the deadline", source, pooled,
                f"pooled share of sessions in the last {last_days} days > {even:.3f} "
                f"(an even spread)", None if math.isnan(pooled) else pooled > even,
                origin=PAPER_CLAIM, direction="state",
                source_ref="Coletta et al. 2024 (abstract): present-bias procrastination; "
                           "threshold: an even spread; OULAD: 52 % of submissions in the last "
                           "two days (Kuzilek et al. 2017)"),
    ]


def _band_findings(source: str, timings: Sequence[tuple[Persona, WorkTiming]],
                   bands: Mapping[str, Any]) -> list[Finding]:
    rho, p_value = _episode_rank(timings)
    pooled = _pooled_last_share([t for _, t in timings])
    late = _pooled_late([t for _, t in timings])
    lo, hi = bands["last_days_share"]
    r_lo, r_hi = bands["human_abs_r"]
    return [
        band_finding("lower-GPA students finish closer to the deadline", source, rho,
                     f"Spearman rho(GPA, days before the deadline) over episodes > "
                     f"{bands['rho_min']}, {_rank_test(timings)} (humans |r| ~ "
                     f"{r_lo}-{r_hi}; a stronger split is reported, not failed)",
                     None if rho is None else rho > bands["rho_min"] and _significant(p_value),
                     bands, "rho_min", "human_abs_r", direction="persona"),
        band_finding(f"share of the work done in the last {bands['last_days']} days like OULAD",
                     source, pooled, f"pooled share in [{lo}, {hi}]",
                     None if math.isnan(pooled) else lo <= pooled <= hi, bands,
                     "last_days_share", "last_days"),
        band_finding("few reports are late", source, late,
                     f"pooled share late <= {bands['late_share_max']}",
                     late <= bands["late_share_max"], bands, "late_share_max"),
    ]


def _metrics(persona: Persona, timing: WorkTiming) -> dict[str, Any]:
    """Per-persona numbers; exact ones have no interval (value, value) and no episode count."""
    out = {"gpa": persona.values.get("gpa"), "cumulative_share": timing.cumulative,
           "last_two_days_share": timing.last_days_share, "late_share": timing.late_share,
           "mean_days_before_deadline": timing.mean_days_before}
    if timing.weights is not None:
        return {**out, "late_share_interval": [timing.late_share] * 2,
                "last_two_days_share_interval": [timing.last_days_share] * 2,
                "episodes": None, "sessions_done": None, "episodes_from": timing.origin}
    return {**out,
            "late_share_interval": list(wilson(float(timing.late.sum()), len(timing.late))),
            "last_two_days_share_interval": list(wilson(float(timing.sessions_late_days),
                                                        timing.sessions_done)),
            "episodes": len(timing.late), "sessions_done": timing.sessions_done,
            "episodes_from": timing.origin or "unknown"}


def _cumulative_curve(label: str, source: str, persona: str, timing: WorkTiming) -> Curve:
    return Curve(CUMULATIVE, label, source, persona, list(range(len(timing.cumulative))),
                 timing.cumulative, xlabel="day (0 = before day 1)",
                 ylabel="share of the work done")


def _human_curve(ref: Mapping[str, Any], deadline: int) -> Curve:
    bands, timing = ref["bands"], ref["submission_timing"]
    day = deadline - bands["last_days"]
    y = 1.0 - timing["last_two_days_share"]
    lo, hi = bands["last_days_share"]
    return Curve(CUMULATIVE, "humans: done before the last two days (OULAD)", "human", "",
                 [day], [y], y_low=[1.0 - hi], y_high=[1.0 - lo],
                 xlabel="day (0 = before day 1)", ylabel="share of the work done",
                 band_label="HUMAN_DATA band")


def _gpa_curves(source: str, timings: Sequence[tuple[Persona, WorkTiming]]) -> list[Curve]:
    # The persona field names the statistic so each gets its own colour in the figure.
    gpas = [_gpa(p) for p, _ in timings]
    stats = {"last two days": [t.last_days_share for _, t in timings],
             "late": [t.late_share for _, t in timings]}
    text = {"last two days": "share of work in the last two days", "late": "share late"}
    return [Curve(BY_GPA, f"{source}: {text[key]}", source, key, gpas, values, xlabel="GPA",
                  ylabel="share") for key, values in stats.items()]


def classic_schedule(experiment: Any) -> bool | None:
    """``spaced`` of the classic findings: one final deadline where version 2 has it."""
    schedules = getattr(experiment, "schedules", None)
    if not schedules:
        return None
    return "final" not in schedules


def _simulate_timing(experiment: Any, policy: Policy, persona: Persona, *, source: str,
                     settings: EvalSettings, last_days: int,
                     spaced: bool | None = None) -> WorkTiming:
    # Sampled demonstrations: the LLM's own episodes; else exact, or rollouts where the game
    # is too large; None: unknown (no episode). ``spaced`` (version 2) keeps one schedule.
    start = keep = None
    if spaced is not None:
        start = experiment.state_type(1, 0, spaced)
        keep = lambda s: s.spaced == spaced  # noqa: E731
    return timing_of(experiment, policy, persona, source=source, settings=settings,
                     last_days=last_days, start_state=start, keep=keep)


def timing_of(experiment: Any, policy: Policy, persona: Persona, *, source: str,
              settings: EvalSettings, last_days: int, start_state: Any = None,
              keep: Any = None) -> WorkTiming:
    """:func:`work_timing` of :func:`~subrational.evaluation.behaviour.episodes` of ``policy``.

    Exact episodes are not listed: :mod:`.exact_timing` gives the same timing by dynamic
    programming; the LLM's sampled episodes and rollouts go through :func:`work_timing`.
    With no episode (unknown) the timing is empty.
    """
    if _sampled(policy) is None and settings.max_paths > 0:
        memo = policy if isinstance(policy, MemoPolicy) else MemoPolicy(policy)
        try:
            exact = exact_work_timing(experiment, memo, persona, last_days=last_days,
                                      start_state=start_state, max_paths=settings.max_paths)
        except UnknownStateError:  # as episodes() there: the statistic is unknown
            return work_timing([], deadline=experiment.deadline, sessions=experiment.sessions,
                               last_days=last_days)
        if exact is not None:
            return exact
    got = episodes(experiment, policy, persona, source=source, settings=settings,
                   start_state=start_state, keep=keep)
    if got is None:
        return work_timing([], deadline=experiment.deadline, sessions=experiment.sessions,
                           last_days=last_days)
    return work_timing(got.trajectories, deadline=experiment.deadline,
                       sessions=experiment.sessions, last_days=last_days, origin=got.origin)


def _source_timings(experiment: Any, policy: Policy, personas: Sequence[Persona], *,
                    source: str, settings: EvalSettings, last_days: int,
                    spaced: bool | None = None) -> list[tuple[Persona, WorkTiming]]:
    """Timings of every persona of one source, all from one kind of episodes.

    The findings pool the personas, so when some could be enumerated exactly and others had
    to be rolled out (too many episodes), all of them are rolled out. ``spaced`` as in
    :func:`_simulate_timing`.
    """
    def timings(with_settings: EvalSettings) -> list[tuple[Persona, WorkTiming]]:
        return [(p, _simulate_timing(experiment, policy, p, source=source,
                                     settings=with_settings, last_days=last_days,
                                     spaced=spaced))
                for p in personas]

    out = timings(settings)
    if {EXACT, ROLLOUTS} <= {t.origin for _, t in out}:
        out = timings(dataclasses.replace(settings, max_paths=0))
    return out


def analyse(experiment: Any, policies: Mapping[str, Policy], personas: Sequence[Persona], *,
            settings: EvalSettings, human: HumanReference) -> Analysis:
    """Timing curves, findings, bands and the distance to OULAD for the sources present."""
    ref = human
    bands, last_days = ref["bands"], int(ref["bands"]["last_days"])
    ordered = sorted(personas, key=_gpa)
    out = Analysis(curves=[_human_curve(ref, experiment.deadline)],
                   notes=["Days before the deadline count a late report as -1."])
    distance: dict[str, Any] = {
        "measure": f"|pooled share of sessions in the last {last_days} days - "
                   f"{ref['submission_timing']['last_two_days_share']}| (OULAD submissions)"}
    for source in [s for s in LEARNED_SOURCES if s in policies]:
        timings = _source_timings(experiment, policies[source], ordered, source=source,
                                  settings=settings, last_days=last_days,
                                  spaced=classic_schedule(experiment))
        for persona, timing in timings:
            out.per_persona(source)[persona.name] = _metrics(persona, timing)
            out.curves.append(_cumulative_curve(f"{source}: {persona.name}", source,
                                                persona.name, timing))
        out.curves.extend(_gpa_curves(source, timings) if timings else [])
        out.findings.extend(_paper_findings(source, timings, deadline=experiment.deadline,
                                            last_days=last_days))
        out.findings.extend(_band_findings(source, timings, bands) if timings else [])
        pooled = _pooled_last_share([t for _, t in timings])
        distance[source] = abs(pooled - ref["submission_timing"]["last_two_days_share"])
        manipulations.add(out, experiment, timings, source=source, human=ref,
                          other=lambda spaced, src=source: _source_timings(
                              experiment, policies[src], ordered, source=src,
                              settings=settings, last_days=last_days, spaced=spaced))
    _baselines(out, experiment, policies, ordered, settings, last_days)
    out.metrics["distance_to_humans"] = distance
    return out


def _baselines(out: Analysis, experiment: Any, policies: Mapping[str, Policy],
               personas: Sequence[Persona], settings: EvalSettings, last_days: int) -> None:
    persona = personas[0] if personas else next(iter(experiment.personas.values()))
    shares: dict[str, float] = {}
    for name in experiment.baselines():
        if name not in policies:
            continue
        timing = _simulate_timing(experiment, policies[name], persona, source=name,
                                  settings=settings, last_days=last_days,
                                  spaced=classic_schedule(experiment))
        out.per_persona(name)[persona.name] = _metrics(persona, timing)
        manipulations.add(out, experiment, [(persona, timing)], source=name, human=None,
                          other=lambda spaced, src=name: [(persona, _simulate_timing(
                              experiment, policies[src], persona, source=src,
                              settings=settings, last_days=last_days, spaced=spaced))])
        out.curves.append(_cumulative_curve(name, "baseline", "", timing))
        shares[name] = timing.last_days_share
    if {"exponential", "naive-beta-delta"} <= set(shares):
        gap = shares["naive-beta-delta"] - shares["exponential"]
        out.findings.append(Finding(
            "the naive beta-delta student leaves more work to the last two days than the "
            "exponential one", "naive-beta-delta", gap,
            "share in the last two days: naive minus exponential > 0",
            None if math.isnan(gap) else gap > 0, origin=DESIGN_CHOICE))
