"""A game whose step() never ends cannot hang a run: every loop over an episode is bounded."""

import numpy as np

from subrational.backends.scripted import ScriptedBackend
from subrational.cache import Cache, CachedBackend
from subrational.elicitation import SampleSettings, elicit
from subrational.elicitation.elicit import MAX_EPISODE_STEPS
from subrational.evaluation.behaviour import EvalSettings, simulate
from subrational.experiments import GameEnv, rollout
from subrational.experiments.core import Step
from support import BusState, BusStop


class EndlessBus(BusStop):
    """Waiting loops back to minute 0 and walking never ends either."""

    name = "endless-bus"

    def step(self, state, action, persona):
        return Step(BusState((state.minute + 1) % 4), 0.0, False)


class Uniform:
    def action_probs(self, state, persona):
        return np.array([0.5, 0.5])


def test_rollout_of_an_endless_game_is_truncated_at_max_steps():
    game = EndlessBus()
    env = GameEnv(game, "patience-1", max_steps=25)
    trajectories = rollout(env, Uniform(), episodes=3, rng=np.random.default_rng(0))
    assert [len(t.actions) for t in trajectories] == [25, 25, 25]


def test_behaviour_simulation_of_an_endless_game_ends():
    game = EndlessBus()
    runs = simulate(game, Uniform(), game.persona("patience-1"), source="x",
                    settings=EvalSettings(episodes=2))
    assert [len(t.actions) for t in runs] == [1000, 1000]


def test_sampled_episodes_of_an_endless_game_end_at_the_step_bound():
    game = EndlessBus()
    backend = ScriptedBackend("x", probs_fn=lambda p, s: [0.5, 0.5])
    rows = elicit(game, [game.persona("patience-1")], CachedBackend(backend, Cache()),
                  method="sample", settings=SampleSettings(samples=1), paraphrases=1)
    assert sum(r.n_draws for r in rows) == 2 * MAX_EPISODE_STEPS  # one episode per option order


def test_small_distributions_are_normalised_to_the_same_bits_as_numpy():
    import math

    import numpy as np

    from subrational.experiments.rollout import _distribution

    def numpy_way(values):
        total = float(values.sum()) if np.isfinite(values).all() else math.nan
        return values / total if total > 0 else None

    rng = np.random.default_rng(7)
    for n in range(1, 12):
        for _ in range(2000):
            values = rng.random(n) * rng.choice([1e-6, 1.0, 1e6])
            values[rng.random(n) < 0.2] = 0.0
            got, want = _distribution(values), numpy_way(values)
            if want is None:
                assert got is None
            else:
                assert np.array_equal(got, want)
    for odd in ([0.0, 0.0], [np.nan, 1.0], [np.inf, 1.0], [-1.0, 0.5], [1e308, 1e308],
                [-np.inf, np.inf], [2.0, -1.0]):
        values = np.array(odd)
        with np.errstate(over="ignore"):  # 1e308 + 1e308: both take numpy's path
            got, want = _distribution(values), numpy_way(values)
        assert (got is None) == (want is None)
        if want is not None:
            assert np.array_equal(got, want)
