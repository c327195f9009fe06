"""How far parse failures could move each finding: a bound over failures-as-one-action worlds.

Under the ``sample`` method an unparseable answer is a counted failure, never a guessed action,
so every statistic of the demonstrations is computed from the answers that parsed. If the
failures were not random (a model that rambles when it would answer "Reject"), that estimate is
biased. :func:`failure_sensitivity` runs a study's analysis once per action on the world in
which every failed draw is that action
(:meth:`~subrational.demonstrations.TablePolicy.with_failures_as`, which also says how an
abandoned episode of a sequential game is finished there) and reports, for every finding of
the demonstrations and for their distance to humans, the range of the statistic over those
worlds and the observed one, and whether the check holds in all of them or in any.

The range is a bound for a statistic that moves one way with the share of an action (a
rejection share, a full-wait share); for one that does not (a fitted 50 % point) it is the
range over these worlds only. The observed world is one of the worlds, so the range always holds
the point estimate. With no failed draw every world is the observed one: the analysis is not
run again and each bound is the point statistic.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..experiments.core import Experiment, Persona
from ..experiments.study import HumanReference
from .behaviour import EvalSettings
from .records import DEMONSTRATIONS, Analysis

__all__ = ["FindingBound", "DISTANCE", "failure_sensitivity"]

DISTANCE = "distance_to_humans"
"""Key of the bound on ``metrics["distance_to_humans"]["demonstrations"]``."""

Analyse = Callable[..., Analysis]
"""``analyse(experiment, policies, personas, *, settings, human) -> Analysis``."""


@dataclass(frozen=True)
class FindingBound:
    """The range of one statistic of the demonstrations over the failures-as-an-action worlds.

    Attributes:
        low: Smallest statistic over the worlds (``None`` when it is undefined in all).
        high: Largest statistic over the worlds.
        reproduced_all: Whether the check holds in every world: ``False`` as soon as it fails in
            one, ``None`` when it is undefined in one and fails in none (and for the distance,
            which is not a check).
        reproduced_any: Whether the check holds in at least one world: ``True`` as soon as it
            holds in one, ``None`` when it is undefined in one and holds in none.
        point: The statistic of the demonstrations as observed (failures left out).
        by_action: The statistic in the world of each action, by action name (empty when
            there was no failure: every world is the observed one).
    """

    low: float | None
    high: float | None
    reproduced_all: bool | None
    reproduced_any: bool | None
    point: float | None = None
    by_action: dict[str, float | None] = field(default_factory=dict)


def _all(values: Sequence[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _any(values: Sequence[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _bound(point: tuple[float | None, bool | None],
           worlds: Mapping[str, tuple[float | None, bool | None]], *,
           checked: bool) -> FindingBound:
    stats = [s for s, _ in (point, *worlds.values()) if s is not None]
    verdicts = [r for _, r in (point, *worlds.values())]
    return FindingBound(min(stats, default=None), max(stats, default=None),
                        _all(verdicts) if checked else None,
                        _any(verdicts) if checked else None, point[0],
                        {a: s for a, (s, _) in worlds.items()})


def _number(value: Any) -> float | None:
    """A finite statistic as a float; ``None`` for a missing, NaN or infinite one."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value) if math.isfinite(value) else None


def _statistics(analysis: Analysis) -> dict[str, tuple[float | None, bool | None]]:
    """(statistic, reproduced) of each demonstrations finding by claim, and of the distance."""
    out = {f.claim: (_number(f.statistic), f.reproduced)
           for f in analysis.findings if f.source == DEMONSTRATIONS}
    distance = analysis.metrics.get(DISTANCE, {})
    if isinstance(distance, Mapping) and DEMONSTRATIONS in distance:
        out[DISTANCE] = (_number(distance[DEMONSTRATIONS]), None)
    return out


def failure_sensitivity(analyse: Analyse, experiment: Experiment, demonstrations: Any,
                        personas: Sequence[Persona], *, settings: EvalSettings,
                        human: HumanReference,
                        point: Analysis | None = None) -> dict[str, FindingBound]:
    """The bound of every demonstrations finding (by claim) and of their distance to humans.

    Args:
        analyse: A study's analysis function (``studies/<study>/analysis.py``, or
            :func:`~subrational.evaluation.generic.analyse_generic`).
        experiment: The game.
        demonstrations: The demonstrations' lookup policy
            (:class:`~subrational.demonstrations.TablePolicy`).
        personas: The personas analysed.
        settings: Evaluation settings, as for the point analysis.
        human: The study's human reference.
        point: The analysis already made on the demonstrations as observed, if any (saves a
            run; only its demonstrations findings and distance are read).

    Returns:
        ``{claim: FindingBound}``, plus :data:`DISTANCE` when the analysis reports a distance
        for the demonstrations. A claim missing from a world counts as undefined there.
    """
    def run(policy: Any) -> dict[str, tuple[float | None, bool | None]]:
        return _statistics(analyse(experiment, {DEMONSTRATIONS: policy}, personas,
                                   settings=settings, human=human))

    observed = _statistics(point) if point is not None else run(demonstrations)
    worlds: dict[str, dict[str, tuple[float | None, bool | None]]] = {}
    if demonstrations.failed_draws:
        worlds = {name: run(demonstrations.with_failures_as(a))
                  for a, name in enumerate(experiment.actions)}
    return {key: _bound(value, {name: w.get(key, (None, None)) for name, w in worlds.items()},
                        checked=key != DISTANCE)
            for key, value in observed.items()}
