"""End to end with the real embedded model (SmolLM2-135M) through the CLI.

Slow (the model loads and de-quantises once, then is cached), still run in CI.
"""

import json

import pytest

from subrational.backends.hf import TransformersBackend
from subrational.cli import main
from subrational.config import RunConfig
from subrational.pipeline import run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e-cache")


@pytest.fixture
def cache_env(shared_cache, monkeypatch):
    monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(shared_cache))
    return shared_cache


def test_real_model_through_the_cli_then_offline_replay(tmp_path, cache_env, capsys):
    args = ["run", "ultimatum", "--persona", "fair", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "report:" in out and "42 model calls" in out
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    exp = summary["experiments"]["ultimatum-v1"]
    curve = exp["metrics"]["demonstrations.fair"]["p_accept"]
    assert len(curve) == 21 and all(0.0 <= p <= 1.0 for p in curve)
    diag = exp["diagnostics"]
    assert 0.0 < diag["option_mass_mean"] <= 1.0 and diag["failed_rows"] == 0
    assert exp["training"]["fidelity_tv"] < 0.05
    html = (tmp_path / "a" / "report.html").read_text()
    assert "Acceptance curve" in html and "SmolLM2-135M" in html
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["model"]["sha256"].startswith("b179c952")

    # Replay-only: every call comes from the cache, same summary.
    assert main([*args, "--offline", "--out", str(tmp_path / "b")]) == 0
    assert "0 model calls, 42 from the cache" in capsys.readouterr().out
    summaries = [(tmp_path / run / "summary.json").read_text() for run in ("a", "b")]
    assert summaries[0] == summaries[1]


def test_cached_run_does_not_load_the_model(tmp_path, cache_env):
    config = RunConfig(experiments=["ultimatum"], personas=["selfish"], out=tmp_path)
    first = TransformersBackend("smollm2")
    run(config, out=tmp_path / "a", backend=first)
    second = TransformersBackend("smollm2")
    result = run(config, out=tmp_path / "b", backend=second)
    assert not second.loaded
    assert result.manifest["calls"]["model_calls"] == 0


def test_real_model_sample_method_parses_or_counts_failures(tmp_path, cache_env):
    config = RunConfig(experiments=["ultimatum"], personas=["typical"], method="sample",
                       samples=2, max_tokens=48, out=tmp_path)
    # Keep it small: the sample method generates text, which is slow on 2 CPU cores.
    from subrational.experiments import Ultimatum

    small = Ultimatum(step=0.5)
    from subrational.cache import Cache, CachedBackend
    from subrational.elicitation import SampleSettings, elicit

    cached = CachedBackend(TransformersBackend("smollm2"), Cache())
    rows = elicit(small, [small.persona("typical")], cached, method="sample",
                  settings=SampleSettings(samples=2, max_tokens=48), seed=0)
    assert len(rows) == 3 * 2
    for row in rows:
        assert row.n_draws == 2 and len(row.texts) == 2
        assert row.n_failed == sum(row.failures.values())
        assert sum(row.probs) == pytest.approx(1.0)
    assert config.method == "sample"
