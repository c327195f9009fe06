"""The work timing of exact episodes by dynamic programming, without listing the episodes.

:func:`~.analysis.work_timing` of the exact episodes (:func:`~subrational.experiments.rollout.
enumerate_episodes`) needs from each episode only its probability, the days it worked, whether
it finished and the day of its last session. Episodes that agree on where they are (state and
decisions taken), on the sessions worked and on the day of the last one have the same future,
so they are merged into one node carrying their total probability and their number; the
expected work per day is accumulated node by node. The result is the same :class:`WorkTiming`
(cumulative shares, expected sessions, and per outcome ``(late, days before)`` its probability
as a weight) up to floating-point summation order: every statistic built on it (weighted
shares, means, medians, mid-ranks) is a function of that distribution, so merging episodes with
equal outcomes changes none of them. The listing built about 1,000,000 trajectory objects in a
warm default run (83 s of 287 s profiled); the merged pass touches each node once.

It follows ``enumerate_episodes`` exactly: the same start states and their normalisation, the
same branches (:func:`~subrational.experiments.rollout._branches`: the policy's and the
outcomes' probabilities normalised, zeros dropped), the same ``max_steps`` cut, and the same
``max_paths`` cap, counted as the number of episodes the listing would have made: above it the
caller rolls out instead, as before. :class:`UnknownStateError` propagates as there.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from ...evaluation.behaviour import EXACT
from ...experiments.core import Experiment, Persona, Policy
from ...experiments.env import MAX_STEPS
from ...experiments.rollout import _branches, _starts
from .game import WORK
from .timing import LATE_DAYS, WorkTiming

__all__ = ["exact_outcomes"]

#: (state, decisions taken, sessions worked, day of the last session or None)
_Key = tuple[Any, int, int, Any]


def exact_outcomes(experiment: Experiment, policy: Policy, persona: Persona, *, work: int,
                   start_state: Any = None, max_paths: int,
                   max_steps: int = MAX_STEPS) -> tuple[dict[int, float], dict[tuple[int, Any],
                                                                             float]] | None:
    """``(expected sessions by day, probability of each (sessions, last work day) at the end)``.

    ``None`` where ``enumerate_episodes`` returns ``None``: no initial states and no
    ``start_state``, or more than ``max_paths`` episodes.
    """
    found = _starts(experiment, persona, start_state)
    if found is None:
        return None
    probs, starts = found
    frontier: dict[_Key, list[float]] = {}  # key -> [probability, episodes]
    for q, (_, first) in zip(probs, starts, strict=True):
        if q > 0:
            entry = frontier.setdefault((first, 0, 0, None), [0.0, 0])
            entry[0] += float(q)
            entry[1] += 1
    per_day: dict[int, float] = defaultdict(float)
    ends: dict[tuple[int, Any], float] = defaultdict(float)
    branches_of: dict[Any, list[tuple[float, int, Any]]] = {}
    paths = 0
    while frontier:
        following: dict[_Key, list[float]] = {}
        for (state, steps, worked, last), (mass, count) in frontier.items():
            branches = branches_of.get(state)
            if branches is None:
                branches = branches_of[state] = _branches(experiment, policy, persona, state)
            for prob, action, step in branches:
                weight = mass * prob
                now_worked, now_last = worked, last
                if action == work:
                    per_day[state.day] += weight
                    now_worked, now_last = worked + 1, state.day
                if step.terminated or steps + 1 >= max_steps:
                    ends[(now_worked, now_last)] += weight
                    paths += int(count)
                    if paths > max_paths:
                        return None
                    continue
                nxt = step.next_state if step.next_state is not None else state
                entry = following.setdefault((nxt, steps + 1, now_worked, now_last), [0.0, 0])
                entry[0] += weight
                entry[1] += count
        frontier = following
    return dict(per_day), dict(ends)


def exact_work_timing(experiment: Any, policy: Policy, persona: Persona, *, last_days: int,
                      start_state: Any = None, max_paths: int) -> Any:
    """The :class:`~.timing.WorkTiming` of the exact episodes, or ``None`` (see above).

    Its ``late``, ``days_before`` and ``weights`` hold one entry per distinct outcome
    ``(late, days before the deadline)`` with that outcome's probability, in sorted order.
    """
    got = exact_outcomes(experiment, policy, persona, work=WORK, start_state=start_state,
                         max_paths=max_paths)
    if got is None:
        return None
    by_day, ends = got
    deadline, sessions = experiment.deadline, experiment.sessions
    total = sum(ends.values())
    outcomes: dict[tuple[bool, float], float] = defaultdict(float)
    for (worked, last), mass in ends.items():
        finished = worked >= sessions
        outcomes[(not finished, float(deadline - last) if finished else LATE_DAYS)] += mass
    keys = sorted(outcomes)
    weights = np.array([outcomes[k] for k in keys]) / total
    per_day = np.zeros(deadline + 1)
    for day, mass in by_day.items():
        per_day[day] += mass / total
    return WorkTiming(cumulative=np.minimum(np.cumsum(per_day) / sessions, 1.0).tolist(),
                      sessions_done=float(per_day.sum()),
                      sessions_late_days=float(per_day[deadline - last_days + 1:].sum()),
                      late=np.array([k[0] for k in keys]),
                      days_before=np.array([k[1] for k in keys], dtype=float),
                      weights=weights, origin=EXACT)
