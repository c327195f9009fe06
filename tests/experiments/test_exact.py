"""Exact enumeration of episodes: the same distribution as rollouts, without Monte Carlo error.

Known truths: the episodes of every registered study under a state-dependent random policy
agree with 20,000 rollouts within 4 Monte Carlo standard errors; a policy and game small enough
to enumerate by hand give the hand-computed weights; a game too large, or one that does not say
where its episodes start, falls back to rollouts; a reachable unanswered state is unknown.
"""

import dataclasses
import math
import zlib
from collections import Counter

import numpy as np
import pytest
from scipy.stats import chisquare

from subrational.evaluation.behaviour import (
    EXACT,
    ROLLOUTS,
    SAMPLED,
    EvalSettings,
    MemoPolicy,
    common_origin,
    episode_weights,
    episodes,
)
from subrational.experiments import GameEnv, make, names, rollout, state_key
from subrational.experiments.core import Step
from subrational.experiments.env import MAX_STEPS
from subrational.experiments.rollout import (
    MAX_PATHS,
    Trajectory,
    UnknownStateError,
    enumerate_episodes,
)
from support import BusState, BusStop

STUDIES = names()
ROLLOUTS_N = 20_000
SE = 4  # agreement within this many Monte Carlo standard errors


class Scrambled:
    """A fixed random distribution per (persona, state): non-trivial and different everywhere."""

    def __init__(self, n_actions: int) -> None:
        self.n = n_actions

    def action_probs(self, state, persona):
        seed = zlib.crc32(f"{persona.name}|{state_key(state)}".encode())
        return np.random.default_rng(seed).dirichlet(np.ones(self.n))


# -- initial states -------------------------------------------------------------------------
@pytest.mark.parametrize("vid", STUDIES)
def test_initial_states_agree_with_draws_of_initial_state(vid):
    exp = make(vid)
    for persona in list(exp.personas.values())[:2]:
        given = exp.initial_states(persona)
        assert given is not None, f"{vid} gives no initial_states"
        probs = {state_key(s): p for p, s in given}
        assert len(probs) == len(given) and math.isclose(sum(probs.values()), 1.0)
        rng = np.random.default_rng(7)
        drawn = Counter(state_key(exp.initial_state(persona, rng=rng)) for _ in range(ROLLOUTS_N))
        assert set(drawn) <= set(probs), set(drawn) - set(probs)
        if len(probs) == 1:
            assert drawn == {next(iter(probs)): ROLLOUTS_N}
            continue
        keys = list(probs)
        result = chisquare([drawn[k] for k in keys], [ROLLOUTS_N * probs[k] for k in keys])
        assert result.pvalue > 1e-4, (vid, result)


def test_initial_states_detect_a_wrong_distribution():
    # The check above can fail: a uniform claim against a draw that favours the first offer.
    exp = make("ultimatum")
    given = exp.initial_states(exp.persona("fair"))
    rng = np.random.default_rng(7)
    picks = [0 if rng.random() < 0.1 else int(rng.integers(21)) for _ in range(ROLLOUTS_N)]
    drawn = Counter(state_key(given[i][1]) for i in picks)
    keys = [state_key(s) for _, s in given]
    assert chisquare([drawn[k] for k in keys], [ROLLOUTS_N * p for p, _ in given]).pvalue < 1e-6


def test_a_game_of_ones_own_does_not_say_where_episodes_start():
    game = BusStop()
    assert game.initial_states(game.persona("patience-1")) is None


# -- exact versus rollouts ------------------------------------------------------------------
def _summary_exact(trajs, n_actions):
    w = np.array([t.weight for t in trajs])
    rewards = np.array([t.total_reward for t in trajs])
    lengths = np.array([len(t.actions) for t in trajs])
    first = np.array([t.actions[0] for t in trajs])
    mean = float(w @ rewards)
    return {"reward": mean, "reward_sd": math.sqrt(float(w @ (rewards - mean) ** 2)),
            "length": {k: float(w[lengths == k].sum()) for k in set(lengths.tolist())},
            "first": [float(w[first == a].sum()) for a in range(n_actions)]}


@pytest.mark.parametrize("vid", STUDIES)
def test_exact_episodes_agree_with_rollouts(vid):
    exp = make(vid)
    persona = next(iter(exp.personas.values()))
    policy = MemoPolicy(Scrambled(len(exp.actions)))
    exact = enumerate_episodes(exp, policy, persona)
    assert exact is not None and math.isclose(sum(t.weight for t in exact), 1.0, abs_tol=1e-12)
    assert all(t.weight > 0 and t.persona == persona.name for t in exact)
    truth = _summary_exact(exact, len(exp.actions))
    sampled = rollout(GameEnv(exp, persona), policy, episodes=ROLLOUTS_N,
                      rng=np.random.default_rng(11))
    rewards = np.array([t.total_reward for t in sampled])
    se = truth["reward_sd"] / math.sqrt(ROLLOUTS_N)  # the exact SE: rare outcomes count too
    assert abs(rewards.mean() - truth["reward"]) <= max(SE * se, 1e-9 * abs(truth["reward"]))
    lengths = Counter(len(t.actions) for t in sampled)
    firsts = Counter(t.actions[0] for t in sampled)
    shares = [(truth["length"].get(k, 0.0), lengths.get(k, 0))
              for k in set(truth["length"]) | set(lengths)]
    shares += [(p, firsts.get(a, 0)) for a, p in enumerate(truth["first"])]
    for p, count in shares:
        se = math.sqrt(p * (1 - p) / ROLLOUTS_N)
        assert abs(count / ROLLOUTS_N - p) <= max(SE * se, 1e-12), (p, count)


def test_exact_weights_by_hand_on_the_bus_stop():
    # Wait with P 0.8 at every minute: walk at minute t with 0.2 * 0.8**t, the bus after 4 waits.
    class Patient:
        def action_probs(self, state, persona):
            return np.array([0.2, 0.8])

    game = BusStop()
    trajs = enumerate_episodes(game, Patient(), "patience-2", start_state=BusState(0))
    got = sorted((len(t.actions), t.weight, t.total_reward) for t in trajs)
    expected = [(t + 1, 0.2 * 0.8**t, 1.0) for t in range(4)] + [(4, 0.8**4, 2.0)]
    assert [g[0] for g in got] == sorted(e[0] for e in expected)
    assert sorted(g[1] for g in got) == pytest.approx(sorted(e[1] for e in expected), abs=1e-15)
    bus = next(t for t in trajs if t.total_reward == 2.0)
    assert bus.states == [BusState(m) for m in range(4)] and bus.actions == [1] * 4


def test_chance_outcomes_are_branches_with_their_probability():
    exp = make("double_or_nothing", win_probs=(0.7,), loss_win_probs=[], max_flips=2)

    class Always:
        def action_probs(self, state, persona):
            return np.array([0.0, 1.0])  # a zero-probability action is not a branch

    trajs = enumerate_episodes(exp, Always(), "stake-10")
    got = sorted((t.weight, t.total_reward, len(t.actions)) for t in trajs)
    assert got == [pytest.approx((0.7 * 0.3, 0.0, 2)), pytest.approx((0.3, 0.0, 1)),
                   pytest.approx((0.49, 40.0, 2))]


# -- truncation, the cap and the fallback ---------------------------------------------------
class EndlessBus(BusStop):
    """Neither action ever ends the game."""

    name = "endless-bus-exact"

    def step(self, state, action, persona):
        return Step(BusState((state.minute + 1) % 4), 0.0, False)


class Uniform:
    def action_probs(self, state, persona):
        return np.array([0.5, 0.5])


def test_episodes_are_truncated_as_the_environment_truncates_them():
    assert GameEnv(BusStop(), "patience-1").max_steps == MAX_STEPS
    trajs = enumerate_episodes(EndlessBus(), Uniform(), "patience-1", start_state=BusState(0),
                               max_steps=3)
    assert len(trajs) == 8 and {len(t.actions) for t in trajs} == {3}
    assert {t.weight for t in trajs} == {0.125}
    assert [s.minute for s in trajs[0].states] == [0, 1, 2]


def test_too_many_paths_gives_none_and_the_statistics_fall_back_to_rollouts():
    # 2**1000 episodes: the enumeration stops at the cap instead of listing them.
    game = EndlessBus()
    persona = game.persona("patience-1")
    assert enumerate_episodes(game, Uniform(), persona, start_state=BusState(0)) is None
    assert enumerate_episodes(game, Uniform(), persona, start_state=BusState(0),
                              max_steps=10, max_paths=1023) is None
    assert len(enumerate_episodes(game, Uniform(), persona, start_state=BusState(0),
                                  max_steps=10, max_paths=1024)) == 1024
    got = episodes(game, Uniform(), persona, source="x", settings=EvalSettings(episodes=3),
                   start_state=BusState(0))
    assert got.origin == ROLLOUTS and len(got.trajectories) == 3
    assert {t.weight for t in got.trajectories} == {1.0}


def test_a_small_game_is_exact_unless_told_to_roll_out():
    exp = make("marshmallow-v1")
    persona = exp.persona("age-4")
    got = episodes(exp, Uniform(), persona, source="x", settings=EvalSettings())
    assert got.origin == EXACT and len(got.trajectories) == exp.horizon + 1
    capped = episodes(exp, Uniform(), persona, source="x",
                      settings=EvalSettings(episodes=5, max_paths=exp.horizon))
    assert capped.origin == ROLLOUTS and len(capped.trajectories) == 5
    never = episodes(exp, Uniform(), persona, source="x",
                     settings=EvalSettings(episodes=5, max_paths=0))
    assert never.origin == ROLLOUTS
    assert EvalSettings().max_paths == MAX_PATHS


def test_a_game_without_initial_states_is_rolled_out_unless_given_a_start():
    game = BusStop()
    persona = game.persona("patience-1")
    assert enumerate_episodes(game, Uniform(), persona) is None
    rolled = episodes(game, Uniform(), persona, source="x", settings=EvalSettings(episodes=4))
    assert rolled.origin == ROLLOUTS and len(rolled.trajectories) == 4
    started = episodes(game, Uniform(), persona, source="x", settings=EvalSettings(episodes=4),
                       start_state=BusState(0))
    assert started.origin == EXACT and len(started.trajectories) == 5


@pytest.mark.parametrize("max_paths", [-1, 1.5, True])
def test_max_paths_is_validated(max_paths):
    from subrational.errors import ConfigError

    with pytest.raises(ConfigError, match="max_paths must be an integer >= 0"):
        EvalSettings(max_paths=max_paths)


# -- unknown states -------------------------------------------------------------------------
class Unanswered:
    """Eats at once with P ``p_eat``; never answered (NaN) from minute 1 on."""

    def __init__(self, p_eat: float) -> None:
        self.p_eat = p_eat

    def action_probs(self, state, persona):
        if state.minute > 0:
            return np.full(2, np.nan)
        return np.array([self.p_eat, 1 - self.p_eat])


def test_a_reachable_unanswered_state_is_unknown():
    exp = make("marshmallow-v1")
    persona = exp.persona("age-3")
    with pytest.raises(UnknownStateError, match="age-3"):
        enumerate_episodes(exp, Unanswered(0.9), persona)
    assert episodes(exp, Unanswered(0.9), persona, source="x", settings=EvalSettings()) is None


def test_an_unanswered_state_reached_with_probability_zero_is_not_a_problem():
    exp = make("marshmallow-v1")
    trajs = enumerate_episodes(exp, Unanswered(1.0), "age-3")
    assert [(t.actions, t.weight) for t in trajs] == [([0], 1.0)]


# -- records --------------------------------------------------------------------------------
def test_trajectory_weight_defaults_to_one_and_stays_frozen():
    traj = Trajectory("x", [BusState(0)], [0], [1.0])
    assert traj.weight == 1.0 and traj.total_reward == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        traj.weight = 0.5  # type: ignore[misc]


def test_episode_weights_only_weigh_exact_episodes():
    trajs = [Trajectory("x", weight=0.25), Trajectory("x", weight=0.5)]
    np.testing.assert_allclose(episode_weights(trajs, EXACT), [1 / 3, 2 / 3])
    assert episode_weights([Trajectory("x")] * 3, ROLLOUTS) is None
    with pytest.raises(ValueError, match="only exact episodes"):
        episode_weights(trajs, ROLLOUTS)


def test_common_origin_is_exact_only_when_every_part_is():
    assert common_origin([EXACT, EXACT, ""]) == EXACT
    assert common_origin([EXACT, ROLLOUTS]) == ROLLOUTS
    assert common_origin([EXACT, SAMPLED, ROLLOUTS]) == SAMPLED
    assert common_origin(["", ""]) == ""
