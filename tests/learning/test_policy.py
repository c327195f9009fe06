import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from learning_support import Toy, mixed_targets

from subrational.errors import PolicyFileError, UnknownNameError
from subrational.experiments.core import Persona, Policy
from subrational.experiments.registry import make, register
from subrational.learning import LearnedPolicy, Target, TrainConfig, load_policy, train_policy

# A fresh interpreter: load_policy itself must import the module that registers ultimatum-v2.
FRESH = """
import json, sys
import subrational
from subrational.learning import load_policy
p = load_policy(sys.argv[1])
print(json.dumps([p.action_probs({'offer': 0.1}, 'fair').tolist(),
                  p.action_probs({'offer': 0.3}, 'held-out').tolist()]))
"""


@pytest.fixture
def ultimatum():
    return make("ultimatum-v2")


@pytest.fixture
def mixed(ultimatum):
    return mixed_targets(ultimatum)


@pytest.fixture
def toy():
    register(Toy, replace=True)
    return Toy()


@pytest.fixture
def trained(ultimatum, mixed):
    held_out = Persona("held-out", "You are Jerry, moderately fair.", kind="typical")
    extra = [Target(held_out, s, np.array([0.7, 0.3])) for s in ultimatum.states()]
    config = TrainConfig(loss="kl", max_epochs=200)
    return train_policy(ultimatum, mixed + extra, config=config).policy


def test_round_trip_in_fresh_process(trained, tmp_path):
    path = trained.save(tmp_path / "sub" / "policy.pt")
    expected = [trained.action_probs({"offer": 0.1}, "fair").tolist(),
                trained.action_probs({"offer": 0.3}, "held-out").tolist()]
    out = subprocess.run([sys.executable, "-c", FRESH, str(path)], capture_output=True,
                         text=True, check=True, timeout=60)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == expected


def test_round_trip_in_process(trained, ultimatum, tmp_path):
    loaded = load_policy(trained.save(tmp_path / "p.pt"))
    states = list(ultimatum.states())
    for name in ("fair", "selfish", "typical", "held-out"):
        assert np.array_equal(loaded.action_probs_batch(states, name),
                              trained.action_probs_batch(states, name))
    assert loaded.personas["held-out"] == trained.personas["held-out"]
    assert loaded.train_info["config"]["loss"] == "kl"
    assert loaded.train_info["epochs"] == 200
    json.dumps(loaded.train_info)  # JSON-safe
    data = torch.load(tmp_path / "p.pt", weights_only=True)
    assert (data["format"], data["format_version"]) == ("subrational-policy", 1)
    assert data["experiment"] == "ultimatum-v2"
    assert data["feature_names"] == ultimatum.feature_names()
    assert data["actions"] == ["Accept", "Reject"] and data["hidden"] == 64


def test_action_probs_inputs(trained, ultimatum):
    state, fair = ultimatum.states()[2], ultimatum.persona("fair")
    probs = trained.action_probs(state, fair)
    assert probs.shape == (2,) and probs.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.array_equal(probs, trained.action_probs({"offer": state.offer}, "fair"))
    assert isinstance(trained, Policy)
    with pytest.raises(UnknownNameError, match="did you mean 'fair'"):
        trained.action_probs(state, "fiar")


def test_act_samples_from_action_probs(trained):
    p_reject = trained.action_probs({"offer": 0.15}, "typical")[1]
    rng = np.random.default_rng(0)
    draws = [trained.act({"offer": 0.15}, "typical", rng=rng) for _ in range(4000)]
    assert set(draws) <= {0, 1}
    assert np.mean(draws) == pytest.approx(p_reject, abs=0.03)
    again = [trained.act({"offer": 0.15}, "typical", rng=np.random.default_rng(0))
             for _ in range(5)]
    assert again == [draws[0]] * 5


def test_missing_file(tmp_path):
    with pytest.raises(PolicyFileError, match="no policy file at"):
        load_policy(tmp_path / "nope.pt")


def test_text_file_is_not_a_policy(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, I am not a policy\n")
    with pytest.raises(PolicyFileError, match="is not a subrational policy file"):
        load_policy(path)


def test_torch_file_without_marker(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(PolicyFileError, match="is not a subrational policy file"):
        load_policy(tmp_path / "other.pt")


def test_wrong_format_version(trained, tmp_path):
    data = trained.to_dict() | {"format_version": 99}
    torch.save(data, tmp_path / "future.pt")
    with pytest.raises(PolicyFileError, match="format version 99; this subrational reads "
                                              "version 1"):
        load_policy(tmp_path / "future.pt")


def test_damaged_weights(trained, tmp_path):
    data = trained.to_dict() | {"hidden": 8}
    torch.save(data, tmp_path / "bad.pt")
    with pytest.raises(PolicyFileError, match="damaged policy file"):
        load_policy(tmp_path / "bad.pt")


def test_unregistered_experiment(toy, tmp_path):
    young = toy.persona("young")
    targets = [Target(young, s, np.array([0.5, 0.5])) for s in toy.states()]
    data = train_policy(toy, targets, config=TrainConfig(max_epochs=3)).policy.to_dict()
    torch.save(data | {"experiment": "nowhere-v3"}, tmp_path / "p.pt")
    with pytest.raises(PolicyFileError, match="'nowhere-v3', which is not registered; import the "
                                              "module that registers it before load_policy"):
        load_policy(tmp_path / "p.pt")


def test_changed_experiment_definition(toy, tmp_path):
    targets = [Target(toy.persona("old"), s, np.array([0.2, 0.8])) for s in toy.states()]
    policy = train_policy(toy, targets, config=TrainConfig(max_epochs=3)).policy
    path = policy.save(tmp_path / "toy.pt")
    assert isinstance(load_policy(path), LearnedPolicy)  # a custom registered game loads

    class Renamed(type(toy)):
        def state_features(self, state):
            return {"height": state.level}

    register(Renamed, replace=True)
    with pytest.raises(PolicyFileError, match="definition of toy-learning-v1 changed.*"
                                              "'level'.*'height'.*retrain"):
        load_policy(path)
