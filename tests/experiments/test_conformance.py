"""Every registered study obeys the contract (Gymnasium's `tests/envs/test_envs.py` pattern)."""

import dataclasses

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from subrational.experiments import GameEnv, make, names, rollout
from subrational.experiments.core import state_key

STUDIES = names()


class _Uniform:
    def __init__(self, n):
        self.n = n

    def action_probs(self, state, persona):
        return np.full(self.n, 1.0 / self.n)


def test_the_four_paper_studies_are_registered():
    short = {vid.rpartition("-v")[0] for vid in STUDIES}
    assert {"ultimatum", "marshmallow", "double_or_nothing", "procrastination"} <= short


@pytest.mark.parametrize("vid", STUDIES)
def test_passes_gymnasium_env_checker_for_every_persona(vid):
    exp = make(vid)
    for persona in exp.personas:
        check_env(GameEnv(exp, persona), skip_render_check=True)


@pytest.mark.parametrize("vid", STUDIES)
def test_grid_states_are_distinct_encoded_in_unit_range_and_described(vid):
    exp = make(vid)
    states = list(exp.states())
    assert len({state_key(s) for s in states}) == len(states)
    keys = list(exp.state_features(states[0]))
    persona = next(iter(exp.personas.values()))
    texts = set()
    for state in states:
        features = exp.state_features(state)
        assert list(features) == keys
        assert all(0.0 <= v <= 1.0 for v in features.values()), (state, features)
        assert exp.state_from_dict(dataclasses.asdict(state)) == state
        texts.add(exp.situation(state, persona))
    assert len(texts) == len(states)  # the model is told which state it is in
    words = [a.split()[0].lower() for a in exp.actions]
    assert len(set(words)) == len(words)
    assert set(exp.holdout_personas) <= set(exp.personas)


@pytest.mark.parametrize("vid", STUDIES)
def test_transitions_are_distributions_and_reach_grid_states(vid):
    exp = make(vid)
    grid = {state_key(s) for s in exp.states()}
    for persona in exp.personas.values():
        for state in exp.states():
            for action in range(len(exp.actions)):
                outcomes = exp.transitions(state, action, persona)
                assert sum(p for p, _ in outcomes) == pytest.approx(1.0)
                for p, step in outcomes:
                    assert p >= 0 and np.isfinite(step.reward)
                    if not step.terminated:
                        assert state_key(step.next_state) in grid


@pytest.mark.parametrize("vid", STUDIES)
def test_random_play_ends_and_is_reproducible_with_a_seed(vid):
    exp = make(vid)
    persona = next(iter(exp.personas.values()))
    env = GameEnv(exp, persona)
    runs = [rollout(env, _Uniform(len(exp.actions)), episodes=50,
                    rng=np.random.default_rng(3)) for _ in range(2)]
    assert [t.actions for t in runs[0]] == [t.actions for t in runs[1]]
    assert all(len(t.actions) <= len(exp.states()) for t in runs[0])
    if exp.sequential:
        assert max(len(t.actions) for t in runs[0]) > 1
