import time

import numpy as np
import pytest
import torch
from learning_support import mixed_targets, reject_curve, typical_targets

from subrational.errors import ConfigError, UnknownNameError
from subrational.experiments.core import Persona
from subrational.experiments.registry import make
from subrational.learning import LOSSES, Target, TrainConfig, TrainResult, memo, train_policy
from subrational.learning import train as train_module
from subrational.learning.dataset import build_tensors, validation_mask
from subrational.learning.train import mean_tv

TOLERANCE = 0.03  # mean total-variation distance the learner must reach (the bound)
OFF_GRID = [round(0.025 + 0.05 * i, 4) for i in range(20)]  # midpoints, never trained on


@pytest.fixture
def ultimatum():
    return make("ultimatum-v2")


@pytest.fixture
def typical(ultimatum):
    return typical_targets(ultimatum)


@pytest.fixture
def mixed(ultimatum):
    return mixed_targets(ultimatum)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_recovers_scripted_typical_responder(ultimatum, typical, loss):
    start = time.perf_counter()
    result = train_policy(ultimatum, typical, config=TrainConfig(loss=loss))
    seconds = time.perf_counter() - start
    on_grid = mean_tv(result.policy, typical)
    off_grid = mean_tv(result.policy, reject_curve(ultimatum, "typical", 1.59, -10.42, OFF_GRID))
    print(f"\n[learnability typical, loss={loss}] mean TV on grid {on_grid:.5f}, "
          f"off grid {off_grid:.5f}, {result.epochs} epochs, {seconds:.2f} s")
    assert len(typical) == 21
    assert on_grid < TOLERANCE
    assert off_grid < TOLERANCE
    assert result.fidelity == pytest.approx(on_grid, abs=1e-5)
    assert seconds < 10


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_recovers_state_and_persona_dependent_target(ultimatum, mixed, loss):
    result = train_policy(ultimatum, mixed, config=TrainConfig(loss=loss))
    print(f"\n[learnability fair/selfish/typical, loss={loss}] mean TV "
          f"{result.fidelity:.5f}, {result.epochs} epochs")
    assert result.fidelity < TOLERANCE
    for name in ("fair", "selfish"):
        rows = [t for t in mixed if t.persona.name == name]
        assert mean_tv(result.policy, rows) < TOLERANCE
    # the persona input matters: at s = 0.2 fair mostly rejects, selfish accepts
    fair, selfish = (result.policy.action_probs({"offer": 0.2}, p)[1] for p in ("fair", "selfish"))
    assert fair > 0.5 > 0.1 > selfish


def test_untrained_policy_is_not_close(ultimatum, mixed):
    result = train_policy(ultimatum, mixed, config=TrainConfig(max_epochs=1))
    assert result.epochs == 1
    assert result.fidelity > 5 * TOLERANCE  # so the tolerance above is a real test


def _weights(result: TrainResult) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in result.policy.network.parameters()]


def test_same_seed_is_bit_identical(ultimatum, typical, monkeypatch):
    monkeypatch.setenv(memo.DISABLE_ENV, "1")  # train twice: the determinism the memo relies on
    config = TrainConfig(seed=7, max_epochs=300)
    a, b = (train_policy(ultimatum, typical, config=config) for _ in range(2))
    assert all(np.array_equal(x, y) for x, y in zip(_weights(a), _weights(b), strict=True))
    assert a.loss_history == b.loss_history and a.epochs == b.epochs


def test_different_seed_differs(ultimatum, typical):
    a = train_policy(ultimatum, typical, config=TrainConfig(seed=1, max_epochs=50))
    b = train_policy(ultimatum, typical, config=TrainConfig(seed=2, max_epochs=50))
    assert not np.array_equal(_weights(a)[0], _weights(b)[0])


def test_global_torch_state_untouched(ultimatum, typical):
    torch.manual_seed(123)
    expected = torch.rand(3)
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    train_policy(ultimatum, typical, config=TrainConfig(max_epochs=5))
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_early_stopping_keeps_best_weights(ultimatum, typical):
    # the training-loss rule (no validation split), impatient, with a step that overshoots early
    config = TrainConfig(loss="paper", lr=0.03, patience=10, validation=0, seeds=1, retries=0)
    result = train_policy(ultimatum, typical, config=config)
    assert result.epochs < 3000
    assert result.final_loss == min(result.loss_history)
    assert result.loss_history[-1] > result.final_loss  # it got worse after the best epoch ...
    data = build_tensors(ultimatum, typical)
    with torch.no_grad():  # ... and the returned weights are the best ones, not the last
        recomputed = LOSSES["paper"](result.policy.network(data.x), data.y, data.w).item()
    assert recomputed == pytest.approx(result.final_loss, rel=1e-5)


def test_weights_and_held_out_persona(ultimatum):
    zero_weight = ultimatum.persona("fair")
    extra = Persona("generous", "You are generous.", kind="fair")
    state = ultimatum.states()[4]
    targets = [Target(extra, state, np.array([0.9, 0.1])),
               Target(zero_weight, state, np.array([0.1, 0.9]), weight=0.0)]
    result = train_policy(ultimatum, targets, config=TrainConfig(loss="kl"))
    assert result.policy.action_probs(state, "generous")[1] == pytest.approx(0.1, abs=0.01)
    assert result.fidelity < 0.01  # the zero-weight row does not count
    assert "generous" in result.policy.personas


@pytest.mark.parametrize("kwargs, match", [
    ({"hidden": 0}, "hidden must be an integer >= 1; got 0"),
    ({"lr": -1.0}, "lr must be a finite number > 0; got -1.0"),
    ({"max_epochs": 2.5}, "max_epochs"),
    ({"patience": 0}, "patience"),
    ({"min_delta": float("nan")}, "min_delta"),
    ({"seed": -1}, "seed"),
    ({"seeds": 0}, "seeds must be an integer >= 1"),
    ({"validation": 1.0}, r"validation must be a share in \[0, 1\); got 1.0"),
    ({"max_tv": 0}, r"max_tv must be in \(0, 1\]"),
    ({"retries": -1}, "retries must be an integer >= 0"),
])
def test_config_validation(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        TrainConfig(**kwargs)


def test_config_unknown_loss():
    with pytest.raises(UnknownNameError, match="did you mean 'paper'"):
        TrainConfig(loss="papr")


def test_targets_validated(ultimatum):
    p, s = ultimatum.persona("fair"), ultimatum.states()[0]
    assert Target(p, s, [2.0, 2.0]).probs.tolist() == [0.5, 0.5]
    with pytest.raises(ConfigError, match="non-negative"):
        Target(p, s, [-0.1, 1.1])
    with pytest.raises(ConfigError, match="needs 2 action probabilities"):
        build_tensors(ultimatum, [Target(p, s, [0.2, 0.3, 0.5])])
    with pytest.raises(ConfigError, match="no training targets"):
        train_policy(ultimatum, [])
    data = build_tensors(ultimatum, [Target(p, s, [0.25, 0.75], weight=2)])
    assert data.x.dtype == data.y.dtype == data.w.dtype == torch.float32
    assert data.x.shape == (1, len(ultimatum.feature_names()))
    assert data.y.tolist() == [[0.25, 0.75]] and data.w.tolist() == [2.0]


def test_validation_stops_on_held_out_cells_and_keeps_the_refit(ultimatum, typical):
    config = TrainConfig(lr=0.03, patience=20, max_epochs=800, max_tv=1.0)  # guard off
    result = train_policy(ultimatum, typical, config=config)
    assert result.n_validation == round(0.2 * 21)
    assert result.val_loss is not None and len(result.runs) == 3
    run = next(r for r in result.runs if r.seed == result.policy.train_info["seed_used"])
    assert run.val_loss == result.val_loss == min(r.val_loss for r in result.runs)
    # stopped `patience` epochs after its last improvement by min_delta (or at the cap) ...
    assert result.epochs == 800 or 1 <= result.epochs - result.best_epoch <= 20 + 1
    # ... and the weights are the refit's (trained on every cell) at that epoch
    assert result.final_loss == pytest.approx(result.loss_history[result.best_epoch], rel=1e-5)
    data = build_tensors(ultimatum, typical)
    with torch.no_grad():
        recomputed = LOSSES[config.loss](result.policy.network(data.x), data.y, data.w).item()
    assert recomputed == pytest.approx(result.final_loss, rel=1e-5)


def test_seeds_are_distinct_and_the_first_is_the_seed(ultimatum, typical):
    result = train_policy(ultimatum, typical, config=TrainConfig(seed=5, max_epochs=100))
    seeds = [r.seed for r in result.runs]
    assert seeds[0] == 5 and len(set(seeds)) == 3
    other = train_policy(ultimatum, typical, config=TrainConfig(seed=6, max_epochs=100))
    assert not set(seeds) & {r.seed for r in other.runs}
    summary = result.summary()
    assert summary["seeds"]["tried"] == seeds
    assert summary["seeds"]["max_tv_min"] <= result.max_tv <= summary["seeds"]["max_tv_max"]
    assert summary["per_persona"]["typical"]["max_tv"] == result.max_tv
    assert summary["per_persona"]["typical"]["n_cells"] == 21


def test_guard_retries_then_warns_by_persona(mixed, ultimatum):
    config = TrainConfig(max_epochs=2, seeds=2, retries=1)  # cannot imitate in two epochs
    result = train_policy(ultimatum, mixed, config=config)
    assert len(result.runs) == 4 and [r.round for r in result.runs] == [0, 0, 1, 1]
    assert all(r.epochs == 2 for r in result.runs)  # max_epochs bounds the retries too
    assert set(result.per_persona) == {"fair", "selfish", "typical"}
    failed = {n for n, f in result.per_persona.items() if f.max_tv > 0.1}
    assert failed and len(result.warnings) == len(failed)
    for name in failed:
        assert any(w.startswith(f"imitation failed for persona {name}: max TV ")
                   for w in result.warnings)
    ok = train_policy(ultimatum, mixed)
    assert ok.warnings == () and ok.max_tv < 0.1


def test_validation_mask_is_per_persona_seeded_and_skips_small_personas(ultimatum, mixed):
    mask = validation_mask(mixed, share=0.2, seed=0)
    for name in ("fair", "selfish", "typical"):
        rows = [m for m, t in zip(mask, mixed, strict=True) if t.persona.name == name]
        assert sum(rows) == 4  # round(0.2 * 21)
    assert np.array_equal(mask, validation_mask(mixed, share=0.2, seed=0))
    assert not np.array_equal(mask, validation_mask(mixed, share=0.2, seed=1))
    assert not validation_mask(mixed, share=0.0, seed=0).any()
    few = [t for t in mixed if t.persona.name == "fair"][:4]
    assert not validation_mask(few, share=0.5, seed=0).any()  # four cells: none held out
    result = train_policy(ultimatum, few)
    assert result.n_validation == 0 and result.val_loss is None
    assert result.summary()["validation"]["rule"].startswith("too few cells")


# -- trained rounds remembered on disk (learning/memo.py) ------------------------------------


def _trained_files(cache):
    return sorted((cache / "trained").glob("*.pt")) if (cache / "trained").is_dir() else []


def _never_trains(*args, **kwargs):
    raise AssertionError("trained again: the stored round was not used")


def test_a_second_identical_training_reads_the_stored_round(ultimatum, typical, isolated_cache,
                                                            monkeypatch):
    config = TrainConfig(seed=7, max_epochs=300)
    first = train_policy(ultimatum, typical, config=config)
    assert len(_trained_files(isolated_cache)) == 1
    monkeypatch.setattr(train_module, "train_replicas", _never_trains)
    again = train_policy(ultimatum, typical, config=config)
    assert all(np.array_equal(x, y) for x, y in zip(_weights(first), _weights(again),
                                                    strict=True))
    assert again.summary() == first.summary()
    assert (again.loss_history, again.epochs, again.runs) == (first.loss_history, first.epochs,
                                                              first.runs)
    assert again.policy.train_info == first.policy.train_info


@pytest.mark.parametrize("change", ["target", "config", "seed"])
def test_any_change_to_the_inputs_trains_afresh(ultimatum, typical, isolated_cache, change):
    config = TrainConfig(seed=7, max_epochs=60)
    train_policy(ultimatum, typical, config=config)
    targets = list(typical)
    if change == "target":
        t = targets[3]
        targets[3] = Target(t.persona, t.state, np.asarray(t.probs)[::-1].copy(), t.weight)
    elif change == "config":
        config = TrainConfig(seed=7, max_epochs=60, lr=0.02)
    else:
        config = TrainConfig(seed=8, max_epochs=60)
    train_policy(ultimatum, targets, config=config)
    assert len(_trained_files(isolated_cache)) == 2


def test_a_damaged_stored_round_is_ignored_and_rewritten(ultimatum, typical, isolated_cache):
    config = TrainConfig(seed=7, max_epochs=60)
    first = train_policy(ultimatum, typical, config=config)
    (stored,) = _trained_files(isolated_cache)
    stored.write_bytes(b"not a torch file")
    again = train_policy(ultimatum, typical, config=config)
    assert all(np.array_equal(x, y) for x, y in zip(_weights(first), _weights(again),
                                                    strict=True))
    assert memo.load_round(stored.stem) is not None  # rewritten whole


def test_the_memo_can_be_turned_off_and_a_read_only_cache_only_costs_time(
        ultimatum, typical, isolated_cache, monkeypatch):
    config = TrainConfig(seed=7, max_epochs=60)
    monkeypatch.setenv(memo.DISABLE_ENV, "1")
    train_policy(ultimatum, typical, config=config)
    assert _trained_files(isolated_cache) == []
    monkeypatch.delenv(memo.DISABLE_ENV)
    (isolated_cache / "trained").write_text("a file where the folder should be")
    result = train_policy(ultimatum, typical, config=config)
    assert result.epochs > 0
