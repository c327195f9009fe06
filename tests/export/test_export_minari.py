"""`subrational export --to minari`: read back with Minari, env recovered, probabilities exact."""

import json

import numpy as np
import pytest

from conftest import PERSONAS, export_to

minari = pytest.importorskip("minari")


@pytest.fixture(scope="module")
def exported(finished_run, tmp_path_factory):
    return export_to(finished_run, tmp_path_factory, "minari", 6)


def _load(out, dataset_id, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(out))
    return minari.load_dataset(dataset_id)


@pytest.mark.parametrize("exp_id", list(PERSONAS))
@pytest.mark.parametrize("source", ["demonstrations", "policy"])
def test_episodes_read_back_with_their_exact_probabilities(exported, finished_run, exp_id,
                                                           source, monkeypatch):
    from subrational.demonstrations import TablePolicy, read_demonstrations
    from subrational.learning.policy import load_policy

    dataset = _load(exported, f"subrational/{exp_id}/{source}-v0", monkeypatch)
    name = exp_id.rsplit("-v", 1)[0]
    policy = load_policy(finished_run / name / "policy.pt")
    game = policy.experiment
    if source == "demonstrations":
        policy = TablePolicy(game, read_demonstrations(finished_run / name /
                                                       "demonstrations.parquet"))
    episodes = list(dataset.iterate_episodes())
    assert len(episodes) == dataset.total_episodes == 6 * len(PERSONAS[exp_id])
    personas_seen = set()
    for episode in episodes:
        steps = len(episode.actions)
        assert steps >= 1 and episode.observations.shape[0] == steps + 1
        assert episode.terminations[-1] and not episode.truncations.any()
        persona = {p.decode() for p in episode.infos["persona"]}
        assert len(persona) == 1
        persona = game.persona(persona.pop())
        personas_seen.add(persona.name)
        states = [game.state_from_dict(json.loads(s)) for s in episode.infos["state"]]
        for t in range(steps):
            expected = policy.action_probs(states[t], persona)
            np.testing.assert_allclose(episode.infos["probs"][t], expected, atol=1e-6)
            np.testing.assert_allclose(episode.observations[t],
                                       np.clip(game.encode(states[t], persona), 0, 1), atol=1e-6)
        assert np.isnan(episode.infos["probs"][steps]).all()  # nothing drawn after the end
    assert personas_seen == set(PERSONAS[exp_id])


def test_the_env_spec_is_recovered_for_any_persona(exported, monkeypatch):
    import gymnasium as gym

    dataset = _load(exported, "subrational/marshmallow-v1/policy-v0", monkeypatch)
    env = dataset.recover_environment()
    obs, info = env.reset(seed=0)
    assert env.unwrapped.experiment.id == "marshmallow-v1"
    assert env.unwrapped.persona.name == "age-2"  # the first persona of the run
    assert dataset.observation_space.contains(obs) and env.action_space.n == 2
    other = gym.make(dataset.spec.env_spec, persona="age-5")
    assert other.unwrapped.persona.name == "age-5"
    assert dataset.storage.metadata["description"].startswith("SYNTHETIC, NOT HUMAN DATA")
