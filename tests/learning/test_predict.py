"""A learned policy acts through stable-baselines3's ``predict``; bad inputs are one line."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from learning_support import mixed_targets

import subrational.envs  # noqa: F401  (the Gymnasium ids)
from subrational.errors import StateError, UsageError
from subrational.experiments.registry import make
from subrational.learning import TrainConfig, train_policy


@pytest.fixture(scope="module")
def policy():
    ultimatum = make("ultimatum-v2")
    return train_policy(ultimatum, mixed_targets(ultimatum),
                        config=TrainConfig(loss="kl", max_epochs=200)).policy


def _obs(policy, offer, persona):
    game = policy.experiment
    return game.encode(game.state_from_dict({"offer": offer}), game.persona(persona))


def test_one_observation_gives_one_action_and_the_state_back(policy):
    env = gymnasium.make("subrational/ultimatum-v2", persona="fair")
    obs, _ = env.reset(seed=0)
    memory = object()
    action, state = policy.predict(obs, state=memory, episode_start=np.array([True]))
    assert isinstance(action, np.int64) and action in (0, 1) and state is memory
    actions, state = policy.predict(np.stack([obs] * 5))
    assert actions.shape == (5,) and actions.dtype == np.int64 and state is None


def test_deterministic_is_the_most_probable_action(policy):
    for offer, persona in ((0.0, "fair"), (0.5, "fair"), (0.05, "selfish")):
        action, _ = policy.predict(_obs(policy, offer, persona), deterministic=True)
        assert action == int(np.argmax(policy.action_probs({"offer": offer}, persona)))
    low, _ = policy.predict(_obs(policy, 0.0, "fair"), deterministic=True)
    high, _ = policy.predict(_obs(policy, 0.5, "fair"), deterministic=True)
    assert (low, high) == (1, 0)  # the fair persona rejects nothing-offers, accepts halves


def test_draws_follow_action_probs_and_an_rng_repeats_them(policy):
    obs = np.stack([_obs(policy, 0.15, "typical")] * 4000)
    p_reject = policy.action_probs({"offer": 0.15}, "typical")[1]
    draws, _ = policy.predict(obs, rng=np.random.default_rng(0))
    assert abs(draws.mean() - p_reject) < 4 * np.sqrt(p_reject * (1 - p_reject) / len(draws))
    again, _ = policy.predict(obs, rng=np.random.default_rng(0))
    assert np.array_equal(draws, again)
    policy.seed(7)
    first, _ = policy.predict(obs[:50])
    policy.seed(7)
    second, _ = policy.predict(obs[:50])
    assert np.array_equal(first, second)


def _evaluate_policy(model, env, n_eval_episodes, deterministic=False):
    """The loop of stable-baselines3's ``evaluate_policy`` on one (unvectorised) env."""
    returns = []
    for episode in range(n_eval_episodes):
        obs, _ = env.reset(seed=episode)
        state, done, total = None, False, 0.0
        while not done:
            action, state = model.predict(obs, state=state, episode_start=np.array([True]),
                                          deterministic=deterministic)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += reward
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns)), float(np.std(returns))


def _expected_return(policy, persona):
    game = policy.experiment
    person = game.persona(persona)
    value = 0.0
    for p_state, state in game.initial_states(person):
        probs = policy.action_probs(state, person)
        for action, p_action in enumerate(probs):
            value += p_state * p_action * sum(p * s.reward for p, s in
                                              game.transitions(state, action, person))
    return value


@pytest.mark.parametrize("persona", ["fair", "selfish"])
def test_an_evaluate_policy_loop_recovers_the_expected_return(policy, persona):
    env = gymnasium.make("subrational/ultimatum-v2", persona=persona)
    mean, std = _evaluate_policy(policy, env, 3000)
    assert abs(mean - _expected_return(policy, persona)) < 4 * std / np.sqrt(3000) + 1e-9


def test_stable_baselines3_evaluate_policy_takes_it(policy):
    sb3 = pytest.importorskip("stable_baselines3.common.evaluation")
    env = gymnasium.make("subrational/ultimatum-v2", persona="selfish")
    mean, _ = sb3.evaluate_policy(policy, env, n_eval_episodes=500)
    assert mean == pytest.approx(_expected_return(policy, "selfish"), abs=0.5)


@pytest.mark.parametrize(("observation", "message"), [
    (np.zeros(7), r"shape \(\d+,\) or \(n, \d+\)"),
    (np.zeros((2, 2, 2)), "shape"),
    ("half", "array of"),
    ([[0.5, "x", 0.0, 0.0]], "array of"),
])
def test_a_mistyped_observation_is_one_line(policy, observation, message):
    with pytest.raises(StateError, match=message):
        policy.predict(observation)


@pytest.mark.parametrize("bad", [1.5, -0.2, np.nan])
def test_an_observation_off_the_grid_is_refused(policy, bad):
    obs = _obs(policy, 0.3, "fair")
    obs[0] = bad
    with pytest.raises(StateError, match="off the grid: offer"):
        policy.predict(obs)


@pytest.mark.parametrize(("state", "message"), [
    ({"offer": "half"}, "not a valid UltimatumState"),
    ({"offr": 0.1}, "fields"),
    ({"offer": 1.7}, "off the grid"),
    ((0.1,), "take a UltimatumState"),
    (make("marshmallow-v1").states()[0], "take a UltimatumState"),
])
def test_a_mistyped_or_off_grid_state_is_one_line(policy, state, message):
    with pytest.raises(StateError, match=message) as caught:
        policy.action_probs(state, "fair")
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, (UsageError, ValueError))


def test_a_state_between_grid_points_is_interpolated_not_refused(policy):
    between = policy.action_probs({"offer": 0.37}, "fair")
    lower, upper = (policy.action_probs({"offer": x}, "fair")[1] for x in (0.35, 0.4))
    assert min(lower, upper) - 0.05 <= between[1] <= max(lower, upper) + 0.05
