"""The dynamic-programming work timing equals the timing of the listed exact episodes.

Both versions of the game, both deadline schedules of version 2, several policies (a coin, a
deadline-driven student, one with a different random distribution at every state, one that never
works): every statistic the analysis reads is the same to 1e-12, the path cap decides the same
way, and a state without an answer makes the timing unknown in both.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from subrational.evaluation.behaviour import EXACT, EvalSettings, MemoPolicy, episodes
from subrational.experiments import make
from subrational.experiments.core import state_key
from subrational.studies.procrastination.analysis import (
    _exact_rank,
    timing_of,
    work_timing,
)
from subrational.studies.procrastination.exact_timing import exact_work_timing
from subrational.studies.procrastination.manipulations import _weighted_median


class Coin:
    def action_probs(self, state, persona):
        return [0.5, 0.5]


class Never:
    def action_probs(self, state, persona):
        return [0.0, 1.0]


class Deadline:
    """Works more as the slack runs out, and more the higher the GPA."""

    def __init__(self, game):
        self.game = game

    def action_probs(self, state, persona):
        slack = (self.game.deadline - state.day + 1) - (self.game.sessions - state.done)
        p = 1 / (1 + np.exp(slack - 1.5 - persona.values.get("gpa", 3.0)))
        return [p, 1 - p]


class Scrambled:
    """A different distribution at every state, from a hash of the state (and zeros)."""

    def action_probs(self, state, persona):
        h = zlib.crc32(f"{persona.name}/{state_key(state)}".encode()) % 7
        p = [0.0, 0.15, 0.3, 0.5, 0.7, 0.9, 1.0][h]
        return [p, 1 - p]


GAMES = [("procrastination-v1", {}), ("procrastination", {}),
         ("procrastination-v1", {"deadline": 10, "sessions": 4})]


def _listed(exp, policy, persona, start, last_days=2):
    got = episodes(exp, policy, persona, source="policy", settings=EvalSettings(),
                   start_state=start)
    if got is None:
        return work_timing([], deadline=exp.deadline, sessions=exp.sessions,
                           last_days=last_days)
    assert got.origin == EXACT
    return work_timing(got.trajectories, deadline=exp.deadline, sessions=exp.sessions,
                       last_days=last_days, origin=got.origin)


def _starts(exp):
    if getattr(exp, "schedules", None):
        return [exp.state_type(1, 0, spaced) for spaced in (True, False)]
    return [None]


@pytest.mark.parametrize("name, options", GAMES)
@pytest.mark.parametrize("policy", ["coin", "never", "deadline", "scrambled"])
def test_every_statistic_equals_the_listed_episodes(name, options, policy):
    exp = make(name, **options)
    pol = {"coin": Coin(), "never": Never(), "deadline": Deadline(exp),
           "scrambled": Scrambled()}[policy]
    for start in _starts(exp):
        pairs = []
        for persona in exp.personas.values():
            old = _listed(exp, pol, persona, start)
            new = timing_of(exp, pol, persona, source="policy", settings=EvalSettings(),
                            last_days=2, start_state=start)
            assert new.origin == EXACT and new.weights is not None
            np.testing.assert_allclose(new.cumulative, old.cumulative, rtol=0, atol=1e-12)
            for stat in ("sessions_done", "sessions_late_days", "late_share",
                         "mean_days_before", "last_days_share"):
                a, b = getattr(new, stat), getattr(old, stat)
                assert a == pytest.approx(b, abs=1e-12, nan_ok=True), stat
            assert _weighted_median(new.days_before, new.weights) == _weighted_median(
                old.days_before, old.weights)
            assert len(new.days_before) <= len(old.days_before)  # merged outcomes
            pairs.append(((persona, old), (persona, new)))
        old_rank = _exact_rank([p[0] for p in pairs])
        new_rank = _exact_rank([p[1] for p in pairs])
        assert (old_rank is None) == (new_rank is None)
        if old_rank is not None:
            assert new_rank == pytest.approx(old_rank, abs=1e-12)


def test_the_path_cap_decides_as_the_listing_does():
    exp = make("procrastination-v1", deadline=10, sessions=4)
    persona = next(iter(exp.personas.values()))
    n = len(episodes(exp, Coin(), persona, source="policy", settings=EvalSettings()).trajectories)
    memo = MemoPolicy(Coin())
    assert exact_work_timing(exp, memo, persona, last_days=2, max_paths=n) is not None
    assert exact_work_timing(exp, memo, persona, last_days=2, max_paths=n - 1) is None
    # Over the cap both fall back to the same rollouts.
    few = EvalSettings(max_paths=n - 1, episodes=200)
    new = timing_of(exp, Coin(), persona, source="policy", settings=few, last_days=2)
    assert new.origin != EXACT and new.weights is None and len(new.late) == 200


def test_a_state_without_an_answer_makes_the_timing_unknown():
    exp = make("procrastination-v1")

    class Gap:
        def action_probs(self, state, persona):
            return [np.nan, np.nan] if state.day == 3 else [0.2, 0.8]

    persona = next(iter(exp.personas.values()))
    new = timing_of(exp, Gap(), persona, source="policy", settings=EvalSettings(), last_days=2)
    old = _listed(exp, Gap(), persona, None)
    assert len(new.late) == len(old.late) == 0
    assert np.isnan(new.late_share) and np.isnan(old.late_share)
