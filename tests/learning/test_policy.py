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
from subrational.learning.policy import payload_sha256

# A fresh interpreter: load_policy itself must import the module that registers ultimatum-v2.
FRESH = """
import json, sys
import subrational
from subrational.learning import load_policy
p = load_policy(sys.argv[1])
print(json.dumps([p.action_probs({'offer': 0.1}, 'fair').tolist(),
                  p.action_probs({'offer': 0.3}, 'held-out').tolist()]))
"""


def save_signed(data, path):
    """A file whose digest matches its (hand-made) contents: only the content checks can fail."""
    torch.save({**data, "sha256": payload_sha256(data)}, path)
    return path


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
    assert (data["format"], data["format_version"]) == ("subrational-policy", 2)
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
    for version in (99, 0, 3, "2", 1.0, True, None):
        save_signed(trained.to_dict() | {"format_version": version}, tmp_path / "other.pt")
        with pytest.raises(PolicyFileError, match=f"format version {version!r}; this subrational "
                                                  "reads versions 1, 2") as exc:
            load_policy(tmp_path / "other.pt")
        _one_line(exc)


def format_1(data: dict) -> dict:
    """A policy file as format 1 wrote it: no digest (and, before study options, no options)."""
    return {k: v for k, v in data.items() if k != "sha256"} | {"format_version": 1}


def test_a_format_1_file_still_loads_and_gives_the_same_answers(trained, tmp_path):
    path = tmp_path / "v1.pt"
    torch.save(format_1(trained.to_dict()), path)
    loaded = load_policy(path)
    np.testing.assert_allclose(loaded.action_probs({"offer": 0.1}, "fair"),
                               trained.action_probs({"offer": 0.1}, "fair"), rtol=1e-6)
    assert loaded.experiment.id == "ultimatum-v2" and "held-out" in loaded.personas


def test_a_format_1_file_from_before_study_options_loads(trained, tmp_path):
    data = format_1(trained.to_dict())
    del data["options"]
    torch.save(data, tmp_path / "v1.pt")
    assert load_policy(tmp_path / "v1.pt").experiment.options == {}


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: d["state_dict"].__setitem__(next(iter(d["state_dict"])),
                                           torch.full((64, 2), float("inf"))),
     "non-finite weights"),
    (lambda d: d.__setitem__("state_dict", [1, 2]), "damaged policy file"),
    (lambda d: d.__setitem__("hidden", 8), "damaged policy file"),
    (lambda d: d.__setitem__("experiment", "nowhere-v1"), "not registered"),
    (lambda d: d.__setitem__("options", {"pie": -5}), "ultimatum.pie"),
    (lambda d: d.__setitem__("options", {"pie": "abc"}), "ultimatum.pie"),
    (lambda d: d.__setitem__("options", {"pi": 5}), "unknown option 'pi'"),
    (lambda d: d.__setitem__("feature_names", ["x"]), "changed since"),
])
def test_a_damaged_format_1_file_is_refused_in_one_line(trained, tmp_path, damage, message):
    data = format_1(trained.to_dict())
    damage(data)
    torch.save(data, tmp_path / "v1.pt")
    with pytest.raises(PolicyFileError, match=message) as exc:
        load_policy(tmp_path / "v1.pt")
    _one_line(exc)


def test_a_format_2_file_without_its_digest_is_refused(trained, tmp_path):
    torch.save(trained.to_dict(), tmp_path / "p.pt")  # format 2, sha256 missing
    with pytest.raises(PolicyFileError, match="do not match the SHA-256"):
        load_policy(tmp_path / "p.pt")


def test_damaged_weights(trained, tmp_path):
    save_signed(trained.to_dict() | {"hidden": 8}, tmp_path / "bad.pt")
    with pytest.raises(PolicyFileError, match="damaged policy file"):
        load_policy(tmp_path / "bad.pt")


def test_unregistered_experiment(toy, tmp_path):
    young = toy.persona("young")
    targets = [Target(young, s, np.array([0.5, 0.5])) for s in toy.states()]
    data = train_policy(toy, targets, config=TrainConfig(max_epochs=3)).policy.to_dict()
    save_signed(data | {"experiment": "nowhere-v3"}, tmp_path / "p.pt")
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


def _one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert message and "\n" not in message
    return message


def test_flipped_bytes_are_refused_not_loaded_as_nan(trained, tmp_path):
    path = trained.save(tmp_path / "p.pt")
    data = bytearray(path.read_bytes())
    # Flip 8 bytes inside the largest tensor's storage (the zip keeps no checksum torch checks).
    weights = trained.network.state_dict()
    name = max(weights, key=lambda k: weights[k].numel())
    raw = weights[name].numpy().tobytes()
    at = bytes(data).index(raw[:64]) + 128
    data[at:at + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    with pytest.raises(PolicyFileError, match="do not match the SHA-256") as exc:
        load_policy(path)
    _one_line(exc)


def test_truncated_file_is_one_line(trained, tmp_path):
    path = trained.save(tmp_path / "p.pt")
    for keep in (0, 100, path.stat().st_size // 2, path.stat().st_size - 1):
        path.write_bytes(trained.save(tmp_path / "full.pt").read_bytes()[:keep])
        with pytest.raises(PolicyFileError) as exc:
            load_policy(path)
        _one_line(exc)


def test_a_field_edited_after_saving_fails_the_digest(trained, tmp_path):
    data = torch.load(trained.save(tmp_path / "p.pt"), weights_only=True)
    torch.save(data | {"options": {"pie": -5.0}}, tmp_path / "p.pt")
    with pytest.raises(PolicyFileError, match="do not match the SHA-256"):
        load_policy(tmp_path / "p.pt")


def test_non_finite_weights_are_refused(trained, tmp_path):
    data = trained.to_dict()
    first = next(iter(data["state_dict"]))
    data["state_dict"][first][0] = float("nan")
    with pytest.raises(PolicyFileError, match=f"non-finite weights \\({first}"):
        load_policy(save_signed(data, tmp_path / "nan.pt"))


@pytest.mark.parametrize(("options", "message"), [
    ({"win_probs": [1.5]}, "cannot be rebuilt from the stored options"),
    ({"win_probs": [1.5]}, "study option double_or_nothing.win_probs must be"),
    ({"max_flips": "abc"}, "double_or_nothing.max_flips must be a whole number"),
    ({"max_flips": 10**6}, "from 1 to 30"),
    ({"bogus": 1}, "cannot be rebuilt from the stored options"),
    ([1, 2], "stores options of type list"),
])
def test_options_the_experiment_rejects_are_one_line(options, message, tmp_path):
    experiment = make("double_or_nothing")
    targets = [Target(experiment.persona(experiment.default_personas[0]), s,
                      np.full(len(experiment.actions), 1 / len(experiment.actions)))
               for s in experiment.states()]
    data = train_policy(experiment, targets, config=TrainConfig(max_epochs=2)).policy.to_dict()
    with pytest.raises(PolicyFileError, match=message) as exc:
        load_policy(save_signed(data | {"options": options}, tmp_path / "p.pt"))
    _one_line(exc)


def test_a_constructor_raising_anything_is_one_line(toy, tmp_path):
    class Fussy(type(toy)):
        def __init__(self, **options):
            if options:
                raise ZeroDivisionError("levels must be positive")
            super().__init__()

    register(Fussy, replace=True)
    targets = [Target(toy.persona("old"), s, np.array([0.2, 0.8])) for s in toy.states()]
    data = train_policy(toy, targets, config=TrainConfig(max_epochs=2)).policy.to_dict()
    with pytest.raises(PolicyFileError, match="levels must be positive") as exc:
        load_policy(save_signed(data | {"options": {"levels": -5}}, tmp_path / "p.pt"))
    _one_line(exc)


@pytest.mark.parametrize("pie", [-5, float("nan"), "abc", 1e12])
def test_a_signed_policy_with_an_invalid_pie_is_refused_in_one_line(trained, tmp_path, pie):
    path = save_signed(trained.to_dict() | {"options": {"pie": pie}}, tmp_path / "p.pt")
    with pytest.raises(PolicyFileError, match="study option ultimatum.pie must be") as exc:
        load_policy(path)
    _one_line(exc)
