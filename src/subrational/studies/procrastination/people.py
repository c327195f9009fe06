"""Population results of the procrastination study: the completion-day distribution.

Per student (persona), from its episodes: the distribution of days before the deadline at
completion (-1: late, unfinished at the deadline), its mean (with its within-person variance),
P(late) and P(finishing in the last two days, 0 or 1 days before the deadline).

The comparison with OULAD (Kuzilek et al. 2017: 52 % of submissions in the last two days, 13 %
late, median 1 day early) is approximate: OULAD counts submissions of assignments over
multi-week windows, this study counts the day the last work session fell in a short window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...evaluation.behaviour import LEARNED_SOURCES, EvalSettings
from ...evaluation.people import PersonMeasures, PersonOutcome, mixture, person_id
from ...evaluation.records import Analysis
from ...experiments.core import Persona, Policy
from .analysis import LATE_DAYS, timing_of

__all__ = ["person_measures"]

LABELS = {
    "days_before": "days before the deadline at completion (late: -1)",
    "late": "P(late: unfinished at the deadline)",
    "last_two_days": "P(finishing 0 or 1 days before the deadline)",
    "last_two_days_share": "share finishing in the last two days (mixture)",
    "late_share": "share late (mixture)",
    "median_days_before": "median days before the deadline at completion (mixture; late -1)",
}


def _support(deadline: int) -> list[int]:
    return [LATE_DAYS, *range(0, deadline)]


def _statistics(support: Sequence[int]) -> Any:
    x = np.asarray(support, dtype=float)

    def statistics(outcomes: Sequence[PersonOutcome]) -> dict[str, float]:
        pmf = mixture(outcomes)
        if pmf is None:
            return {}
        cdf = np.cumsum(pmf)
        return {"last_two_days_share": float(pmf[(x >= 0) & (x <= 1)].sum()),
                "late_share": float(pmf[x == LATE_DAYS].sum()),
                "median_days_before": float(x[np.searchsorted(cdf, 0.5 - 1e-12)])}
    return statistics


def person_measures(experiment: Any, policies: Mapping[str, Policy],
                    personas: Sequence[Persona], *, settings: EvalSettings,
                    analysis: Analysis) -> PersonMeasures:
    """Each student's completion-day distribution (see the module docstring)."""
    support = _support(experiment.deadline)
    index = {d: i for i, d in enumerate(support)}
    out: dict[str, list[PersonOutcome]] = {}
    for source in [s for s in LEARNED_SOURCES if s in policies]:
        rows = []
        for persona in personas:
            t = timing_of(experiment, policies[source], persona, source=source,
                          settings=settings, last_days=2)
            if not len(t.late):
                continue
            w = (np.full(len(t.days_before), 1 / len(t.days_before)) if t.weights is None
                 else t.weights)
            pmf = np.zeros(len(support))
            np.add.at(pmf, [index[int(d)] for d in t.days_before], w)
            mean = float(w @ t.days_before)
            late, last = float(pmf[0]), float(pmf[1] + (pmf[2] if len(pmf) > 2 else 0.0))
            traits = {**persona.traits, "gpa": float(persona.values["gpa"])}
            rows.append(PersonOutcome(
                persona.name, person_id(persona.name), traits,
                {"days_before": mean, "late": late, "last_two_days": last},
                {"days_before": float(w @ (t.days_before - mean) ** 2),
                 "late": late * (1 - late), "last_two_days": last * (1 - last)}, pmf))
        out[source] = rows
    return PersonMeasures(out, _statistics(support), LABELS, support,
                          "days before the deadline at completion (-1: late)",
                          marks=("median_days_before",), axis="gpa",
                          notes=["The comparison with OULAD is approximate: OULAD counts "
                                 "assignment submissions over multi-week windows, this study "
                                 f"the day of the last work session in a {experiment.deadline}-"
                                 "day window."])
