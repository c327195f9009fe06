"""Recorded episodes: one rollout(), every observation, the exact probabilities, no guesses."""

import numpy as np

from subrational.experiments import make
from subrational.export.episodes import play


class HalfKnown:
    """Waits with P = 0.7 for the first three minutes; has no answer from minute 3 on."""

    def action_probs(self, state, persona):
        return np.array([0.3, 0.7]) if state.minute < 3 else np.full(2, np.nan)


class Patient:
    def action_probs(self, state, persona):
        return np.array([0.25, 0.75])


def test_observations_states_and_probabilities_line_up():
    game = make("marshmallow-v1")
    personas = [game.persona("age-3"), game.persona("age-6")]
    played = play(game, Patient(), personas, source="policy", episodes=20,
                  rng=np.random.default_rng(3))
    assert played.dropped == 0 and len(played.episodes) == 40
    assert [e.persona for e in played.episodes] == ["age-3"] * 20 + ["age-6"] * 20
    lengths = set()
    for e in played.episodes:
        steps = len(e.actions)
        lengths.add(steps)
        assert e.observations.shape == (steps + 1, len(game.feature_names()))
        assert (e.probs == [0.25, 0.75]).all() and e.terminations.tolist() == [False] * (
            steps - 1) + [True]
        persona = game.persona(e.persona)
        for t in range(steps):  # the observation is the encoded state the action was taken in
            state = game.state_from_dict(e.step_info(t)["state"])
            np.testing.assert_allclose(e.observations[t], game.encode(state, persona))
        assert e.rewards.sum() == (1.0 if e.actions[-1] == 0 else 2.0)
    assert len(lengths) > 3  # the draws vary the episodes


def test_an_episode_reaching_a_state_with_no_answer_is_dropped_not_guessed():
    game = make("marshmallow-v1")
    played = play(game, HalfKnown(), [game.persona("age-2")], source="demonstrations",
                  episodes=200, rng=np.random.default_rng(0))
    # An episode survives only by eating within the first three minutes.
    assert played.dropped + len(played.episodes) == 200
    assert all(e.actions[-1] == 0 and len(e.actions) <= 3 for e in played.episodes)
    share = len(played.episodes) / 200
    assert abs(share - (1 - 0.7 ** 3)) < 0.1  # P(eat by minute 2) = 1 - 0.7^3 = 0.657
