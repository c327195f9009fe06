"""Version 2's manipulations in the analysis: the adult's reliability and the human wait caps.

Kidd, Palmeri & Aslin (2013): children whose adult had broken an earlier promise waited a mean
3.0 minutes of 15, against 12.0 after a kept promise (N = 28, age about 4.5; [V]). The finding
here is the direction, decided on the LLM's bootstrap interval like every claim: the mean wait
(a share of the horizon) with a reliable adult minus that with an unreliable one, pooled over
ages 4 and 5 where present (else every age), must be above 0. The human difference is 0.6 of a
15-minute cap; at version 2's 10-minute cap it is not the same number (a censored wait of 12
minutes reads 10), so it is shown beside the statistic, approximately, and not tested.

Survival is read at the caps of the human studies, 7 minutes (NICHD study, Watts, Duncan &
Quan 2018) and 10 (Lamm et al. 2018), for the classic (reliable) condition. Version 1 games
have no adult axis, and none of this is added for them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ...evaluation.behaviour import EvalSettings
from ...evaluation.records import HUMAN_BAND, Analysis, Finding
from ...experiments.core import Persona, Policy

__all__ = ["CAPS", "KIDD_REF", "add", "age_names", "reliability_gap"]

CAPS = (7, 10)
"""Wait caps (minutes) of Watts, Duncan & Quan 2018 (7) and Lamm et al. 2018 (10)."""
KIDD_REF = ("Kidd, Palmeri & Aslin 2013 (Cognition), N = 28, age about 4.5: mean wait 12.0 "
            "(reliable adult) vs 3.0 (unreliable) minutes of 15 [V]")
KIDD_AGES = (4, 5)


def _pooled_mean(stats: Mapping[float, Any]) -> float:
    ages = [a for a in KIDD_AGES if a in stats] or list(stats)
    values = [stats[a].mean_wait for a in ages]
    return float(sum(values) / len(values)) if values else math.nan


def reliability_gap(reliable: Mapping[float, Any], unreliable: Mapping[float, Any]) -> float:
    """Mean wait share with a reliable adult minus with an unreliable one (ages 4-5 pooled)."""
    return _pooled_mean(reliable) - _pooled_mean(unreliable)


def _caps(stats: Mapping[float, Any], names: Mapping[float, str],
          horizon: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for age, st in stats.items():
        per = {}
        for cap in (c for c in CAPS if c <= horizon):
            low, high = (st.survival_interval[0][cap], st.survival_interval[1][cap]) \
                if len(st.survival_interval[0]) > cap else (math.nan, math.nan)
            per[str(cap)] = {"value": float(st.survival[cap]), "interval": [low, high]}
        out[names[age]] = per
    return out


def age_names(personas: Sequence[Persona]) -> dict[float, str]:
    """Each age's label: its persona's name, or ``children aged 5 (n = 29)`` for a group."""
    groups: dict[float, set[str]] = {}
    for p in personas:
        groups.setdefault(float(p.values["age"]), set()).add(p.name)
    return {a: next(iter(n)) if len(n) == 1 else f"children aged {a:g} (n = {len(n)})"
            for a, n in groups.items()}


def add(out: Analysis, experiment: Any, policy: Policy, personas: Sequence[Persona], *,
        source: str, classic: Mapping[float, Any], settings: EvalSettings,
        simulate: Callable[..., Mapping[float, Any]]) -> None:
    """Survival at the human caps and, with both adults present, the Kidd et al. finding."""
    adults = getattr(experiment, "adults", None)
    if not adults:
        return
    names = age_names(personas)
    caps = out.metrics.setdefault("survival_at_caps", {})
    caps[source] = _caps(classic, names, experiment.horizon)
    if not {"reliable", "unreliable"} <= set(adults):
        return
    reliable = classic if "reliable" in adults else simulate(experiment, policy, personas,
                                                             source, settings, True)
    unreliable = simulate(experiment, policy, personas, source, settings, False)
    gap = reliability_gap(reliable, unreliable)
    h = experiment.horizon
    out.metrics.setdefault("adult_reliability", {})[source] = {
        "mean_wait_minutes_reliable": _pooled_mean(reliable) * h,
        "mean_wait_minutes_unreliable": _pooled_mean(unreliable) * h,
        "difference_share": gap, "horizon": h,
        "human": {"reliable_minutes": 12.0, "unreliable_minutes": 3.0, "cap": 15,
                  "difference_share": 0.6,
                  "note": f"approximate at a {h}-minute cap: Kidd et al. capped at 15"}}
    out.findings.append(Finding(
        "an unreliable adult cuts the mean wait", source, None if math.isnan(gap) else gap,
        "mean wait share (ages 4-5 pooled) with a reliable adult minus with an unreliable one "
        f"> 0 (humans: 0.6 of a 15-minute cap; approximate at {h} minutes)",
        None if math.isnan(gap) else gap > 0, origin=HUMAN_BAND, direction="state",
        source_ref=KIDD_REF))
