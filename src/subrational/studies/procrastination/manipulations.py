"""Version 2's manipulations in the analysis: spaced deadlines and the completion day.

Ariely & Wertenbroch (2002): students given evenly spaced deadlines worked earlier than those
with one final deadline ([V], direction only: no number is quoted here). The statistic is the
mean day of the work sessions done under the final deadline minus under spaced deadlines
(pooled over the personas, each weighing the same); the finding is that it is above 0,
decided like every claim on the LLM's bootstrap interval.

Completion day against OULAD (Kuzilek et al. 2017; 32,914 submissions: 52 % in the last two
days, 13 % late, median 1 day early). The study's episode is one report in one window, and
its completion day is the day of the last session; OULAD counts submissions in multi-week
windows whose lengths vary, so the comparison is approximate: the shares are read for the
classic (final-deadline) condition only, shown beside the human numbers, and one band (the
share finishing in the last two days, design choice [0.3, 0.7] around 0.52) is checked.
Version 1 games have no schedule axis, and none of this is added for them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ...evaluation.records import DESIGN_CHOICE, HUMAN_BAND, Analysis, Finding
from ...experiments.core import Persona

__all__ = ["AW_REF", "OULAD_NOTE", "add", "completion_days", "mean_work_day"]

AW_REF = ("Ariely & Wertenbroch 2002 (Psychological Science): evenly spaced external deadlines "
          "beat one final deadline [V, direction]")
OULAD_NOTE = ("approximate: OULAD counts submissions in multi-week windows of varying length; "
              "this game has one report in one window")
LAST_DAYS_BAND = (0.3, 0.7)
"""Design choice around OULAD's 52 % of submissions in the last two days."""

Timings = Sequence[tuple[Persona, Any]]


def mean_work_day(timings: Timings) -> float:
    """Mean day of the sessions done, averaged over the personas (NaN with no session)."""
    means = []
    for _, t in timings:
        cum = np.asarray(t.cumulative, dtype=float)
        per_day = np.diff(cum, prepend=0.0)
        if np.isfinite(cum).all() and per_day.sum() > 0:
            means.append(float(np.arange(len(cum)) @ per_day / per_day.sum()))
    return float(np.mean(means)) if means else math.nan


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cum, 0.5)])


def completion_days(timings: Timings) -> dict[str, float]:
    """Shares finishing in the last two days and late, and the median days before the deadline.

    Every persona weighs the same; a late report counts as -1 day before the deadline (late).
    """
    values, weights = [], []
    for _, t in timings:
        n = len(t.days_before)
        if not n:
            continue
        w = t.weights if t.weights is not None else np.full(n, 1.0 / n)
        values.append(t.days_before)
        weights.append(w / w.sum())
    if not values:
        return {"last_two_days_share": math.nan, "late_share": math.nan,
                "median_days_before_deadline": math.nan}
    v, w = np.concatenate(values), np.concatenate(weights)
    w = w / w.sum()
    return {"last_two_days_share": float(w @ ((v >= 0) & (v <= 1))),
            "late_share": float(w @ (v < 0)),
            "median_days_before_deadline": _weighted_median(v, w)}


def add(out: Analysis, experiment: Any, classic: Timings, *, source: str,
        human: Mapping[str, Any] | None, other: Callable[[bool], Timings]) -> None:
    """The completion-day comparison and, with both schedules present, the deadline finding."""
    schedules = getattr(experiment, "schedules", None)
    if not schedules:
        return
    days = completion_days(classic)
    timing = (human or {}).get("submission_timing", {})
    out.metrics.setdefault("completion_days", {})[source] = {
        **days, "schedule": "final" if "final" in schedules else "spaced",
        "window_days": experiment.deadline,
        "human": {k: timing.get(k) for k in ("last_two_days_share", "late_share",
                                              "median_days_before_deadline")},
        "note": OULAD_NOTE}
    if human is not None:
        share, (lo, hi) = days["last_two_days_share"], LAST_DAYS_BAND
        out.findings.append(Finding(
            "reports finished in the last two days like OULAD submissions", source, share,
            f"pooled share of reports finished in the last 2 days in [{lo}, {hi}] ({OULAD_NOTE})",
            None if math.isnan(share) else lo <= share <= hi, origin=DESIGN_CHOICE,
            source_ref="design choice; OULAD: 52 % of 32,914 submissions in the last two days "
                       "(Kuzilek, Hlosta & Zdrahal 2017)"))
    if not set(schedules) >= {"final", "spaced"}:
        return
    final_day, spaced_day = mean_work_day(classic), mean_work_day(other(True))
    gap = final_day - spaced_day
    out.metrics.setdefault("deadline_schedule", {})[source] = {
        "mean_work_day_final": final_day, "mean_work_day_spaced": spaced_day,
        "difference_days": gap, "interim_deadlines": list(experiment.interim)}
    out.findings.append(Finding(
        "evenly spaced deadlines bring the work earlier", source,
        None if math.isnan(gap) else gap,
        "mean day of the work sessions under one final deadline minus under evenly spaced "
        "deadlines > 0 (direction only: no human number)", None if math.isnan(gap) else gap > 0,
        origin=HUMAN_BAND, direction="state", source_ref=AW_REF))
