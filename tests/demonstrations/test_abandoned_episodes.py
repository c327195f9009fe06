"""Abandoned episodes in the failures-as-one-action world, one sequential study each.

A scripted persona answers unparseably at one state of each game, so every episode that
reaches it is abandoned (some, in the marshmallow test, where failing is only likely). As
documented in :mod:`subrational.demonstrations.failures`, the world of action ``a`` finishes
each abandoned episode with ``a`` from its failed step on, until the game ends: nothing is
abandoned there, the LLM's own steps before the failure are kept, and the steps never asked add
nothing to the lookup table.
"""

import numpy as np

from subrational.demonstrations import TablePolicy
from subrational.studies.double_or_nothing.game import GAMBLE, KEEP, DoubleOrNothingV1, DoubleState
from subrational.studies.marshmallow.game import EAT, WAIT, MarshmallowState
from subrational.studies.marshmallow.game import MarshmallowV1 as Marshmallow
from subrational.studies.procrastination.game import POSTPONE, WORK
from subrational.studies.procrastination.game import ProcrastinationV1 as Procrastination
from support import sample_frame


def _split(policy, world, persona):
    """World episodes: the policy's own ones (unchanged), then the completed abandoned ones."""
    own, completed = policy.episodes(persona), world.episodes(persona)
    assert world.abandoned(persona) == 0
    assert len(completed) == len(own) + policy.abandoned(persona)
    rest = list(completed)
    for t in own:
        rest.remove(t)  # raises if a completed episode changed
    return rest


def test_marshmallow_abandoned_episodes_eat_at_the_failed_minute_or_wait_to_the_end():
    game = Marshmallow(ages=(5,))
    frame = sample_frame(game, ["age-5"], lambda p, s: [0.05, 0.95],
                         lambda p, s: 0.7 if s.minute == 6 else 0.0, samples=60)
    policy, child = TablePolicy(game, frame), game.persona("age-5")
    assert policy.abandoned(child) > 5  # P = 0.7 ** 3 per episode reaching minute 6
    eat = _split(policy, policy.with_failures_as(EAT), child)
    assert all(t.actions == [WAIT] * 6 + [EAT] and t.rewards == [0.0] * 6 + [1.0] for t in eat)
    wait_world = policy.with_failures_as(WAIT)
    wait = _split(policy, wait_world, child)
    assert all(t.actions == [WAIT] * 15 and t.rewards[-1] == 2.0 for t in wait)
    assert [t.states[6] for t in wait] == [MarshmallowState(6)] * len(wait)
    # Minute 6 now counts its failed draws as waits; later minutes only the LLM's own answers.
    failed_at_6 = int(frame.loc[frame["state"] == '{"minute":6}', "n_failed"].sum())
    key = ("age-5", '{"minute":6}')
    assert wait_world.draws[key] == policy.draws[key] + failed_at_6
    key = ("age-5", '{"minute":7}')
    assert wait_world.draws.get(key) == policy.draws.get(key)


def test_double_or_nothing_abandoned_episodes_keep_at_the_failed_round_or_gamble_on():
    game = DoubleOrNothingV1(stakes=(100,))  # fair odds, one start: v1 grid
    frame = sample_frame(game, ["stake-100"], lambda p, s: [0.2, 0.8],
                         lambda p, s: 1.0 if s.round == 1 else 0.0, samples=60)
    policy, player = TablePolicy(game, frame), game.persona("stake-100")
    assert policy.abandoned(player) > 20  # every episode that won its first flip
    keep = _split(policy, policy.with_failures_as(KEEP), player)
    assert all(t.actions == [GAMBLE, KEEP] and t.rewards == [0.0, 200.0] for t in keep)
    gamble = _split(policy, policy.with_failures_as(GAMBLE), player)
    assert all(set(t.actions) == {GAMBLE} and 2 <= len(t.actions) <= 5 for t in gamble)
    for t in gamble:  # coin flips of the game itself: a lost flip (0) ends, 5 won pay 3200
        assert t.states == [DoubleState(k, 0.5) for k in range(len(t.actions))]
        assert t.rewards[:-1] == [0.0] * (len(t.rewards) - 1)
        assert t.rewards[-1] in ((0.0, 3200.0) if len(t.actions) == 5 else (0.0,))
    lengths = np.bincount([len(t.actions) for t in gamble], minlength=6)
    assert lengths[2] > 0 and lengths[3:].sum() > 0  # some lose the next flip, some win it
    # The chance after the failure is drawn the same way every time the world is built.
    assert _split(policy, policy.with_failures_as(GAMBLE), player) == gamble


def test_procrastination_abandoned_episodes_work_from_the_failed_day_or_miss_the_deadline():
    game = Procrastination()  # 3 sessions, due at the end of day 7
    frame = sample_frame(game, ["gpa-3.0"], lambda p, s: [0.3, 0.7],
                         lambda p, s: 1.0 if s.day == 3 else 0.0, samples=30)
    policy, student = TablePolicy(game, frame), game.persona("gpa-3.0")
    assert policy.episodes(student) == []  # 3 sessions cannot be done by day 2
    assert policy.abandoned(student) == 60
    work = _split(policy, policy.with_failures_as(WORK), student)
    for t in work:  # the LLM's own days 1-2, then a session a day until the report is done
        assert t.actions[2:] == [WORK] * (3 - t.actions[:2].count(WORK))
        assert t.rewards[-1] == 1.0
    postpone = _split(policy, policy.with_failures_as(POSTPONE), student)
    for t in postpone:  # postponed to the deadline: late
        assert len(t.actions) == 7 and t.actions[2:] == [POSTPONE] * 5
        assert t.rewards == [0.0] * 7
    assert [t.actions[:2] for t in work] == [t.actions[:2] for t in postpone]
