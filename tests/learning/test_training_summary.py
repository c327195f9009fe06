"""The run's ``training`` block: per persona fidelity, seeds, validation, held-out references."""

from subrational.config import RunConfig
from subrational.experiments import register
from subrational.pipeline import run
from support import BusStop, CacheableScripted, bus_truth


def test_training_block_reports_fidelity_seeds_and_baselines(tmp_path):
    register(BusStop)
    result = run(RunConfig(experiments=["bus-stop"], model="scripted:x", out=tmp_path,
                           episodes=50, bootstrap=5),
                 backend=CacheableScripted.make(bus_truth))
    training = result.summary["experiments"]["bus-stop-v1"]["training"]
    assert training["loss"] == "kl"
    assert set(training["per_persona"]) == {f"patience-{k}" for k in (1, 2, 3, 4)}
    worst = max(p["max_tv"] for p in training["per_persona"].values())
    assert training["fidelity_max_tv"] == worst < training["plateau_bound"] == 0.1
    assert training["fidelity_tv"] <= worst
    assert len(training["seeds"]["tried"]) == 3 and training["warnings"] == []
    assert training["seeds"]["max_tv_min"] <= worst <= training["seeds"]["max_tv_max"]
    assert training["validation"]["cells"] == 0  # four states per persona: too few to hold out
    gen = training["generalisation"]
    held = gen["per_persona"]["patience-3"]
    assert held["nearest"] in ("patience-2", "patience-4")
    assert held["linear"] == ["patience-2", "patience-4"]
    # the truth is smooth in patience: interpolating beats copying, and the network is close
    assert held["linear_tv"] < held["nearest_tv"]
    assert held["network_tv"] == gen["held_out_tv"] < 0.06
    assert held["noise_floor"] == {"tv": 0.0, "between": "wordings", "n_states": 4}
