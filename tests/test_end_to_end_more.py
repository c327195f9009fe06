"""More end to end with the real embedded model: cache replay, sampled answers, a population.

The four-study run through the CLI is ``test_end_to_end.py``; these are a second file so that a
second test worker runs them beside it (``make test``).
"""

import json
import math

import pytest

from subrational.backends.hf import TransformersBackend
from subrational.config import RunConfig
from subrational.pipeline import run
from support import cli

pytestmark = pytest.mark.slow


def test_cached_run_does_not_load_the_model(tmp_path, cache_env):
    # One wording and a short bootstrap: whether the model loads does not depend on the size.
    config = RunConfig(experiments=["ultimatum"], personas=["selfish"], paraphrases=1,
                       bootstrap=20, out=tmp_path)
    first = TransformersBackend("smollm2")
    run(config, out=tmp_path / "a", backend=first)
    second = TransformersBackend("smollm2")
    result = run(config, out=tmp_path / "b", backend=second)
    assert not second.loaded
    assert result.manifest["calls"]["model_calls"] == 0


def test_real_model_plays_sampled_episodes_of_a_sequential_game(tmp_path, cache_env):
    from subrational.cache import Cache, CachedBackend
    from subrational.elicitation import SampleSettings, elicit
    from subrational.experiments import make

    game = make("double_or_nothing", win_probs=[0.5], loss_win_probs=[])  # one start state
    cached = CachedBackend(TransformersBackend("smollm2"), Cache())
    rows = elicit(game, [game.persona("stake-100")], cached, method="sample",
                  settings=SampleSettings(samples=1, max_tokens=48), seed=0, paraphrases=1)
    first = [r for r in rows if r.state == game.initial_state(game.persona("stake-100"),
                                                              rng=None)]
    assert sum(r.n_draws for r in first) >= 2  # one episode per option order starts there
    for row in rows:
        _check_sampled_row(row)


def _check_sampled_row(row):
    """Raw frequencies of the parsed draws (smoothing is for training targets only): they sum
    to 1 when a draw parsed and are unknown (NaN) when none did; failures are counted."""
    assert row.n_failed == sum(row.failures.values())
    assert sum(row.counts) == row.n_draws - row.n_failed
    if sum(row.counts):
        assert sum(row.probs) == pytest.approx(1.0)
    else:
        assert all(math.isnan(p) for p in row.probs)


def test_real_model_sample_method_parses_or_counts_failures(tmp_path, cache_env):
    config = RunConfig(experiments=["ultimatum"], personas=["typical"], method="sample",
                       samples=2, max_tokens=48, out=tmp_path)
    # Keep it small: the sample method generates text, which is slow on 2 CPU cores.
    from subrational.studies.ultimatum.game import Ultimatum

    small = Ultimatum(step=0.5)
    from subrational.cache import Cache, CachedBackend
    from subrational.elicitation import SampleSettings, elicit

    cached = CachedBackend(TransformersBackend("smollm2"), Cache())
    rows = elicit(small, [small.persona("typical")], cached, method="sample",
                  settings=SampleSettings(samples=2, max_tokens=48), seed=0, paraphrases=1)
    assert len(rows) == 3 * 2
    for row in rows:
        assert row.n_draws == 2 and len(row.texts) == 2
        _check_sampled_row(row)
    assert config.method == "sample"


def test_a_small_population_and_the_controls_on_the_real_model(tmp_path, cache_env):
    """[illusion] end to end: 20 people drawn from builtin:adults, every control, the report."""
    out = tmp_path / "pop"
    cli("run", "ultimatum", "--no-progress", "--population", "builtin:adults",
         "--population-size", "20", "--controls", "--option", "ultimatum.step=0.25",
         "--paraphrases", "1", "--bootstrap", "30", "--out", str(out))
    block = json.loads((out / "summary.json").read_text())["experiments"]["ultimatum-v2"]
    pop = block["population"]
    assert pop["people"] == 20
    stats = {r["statistic"]: r for r in pop["sources"]["demonstrations"]["statistics"]}
    assert stats["never_reject_share"]["human"] == pytest.approx(0.218)
    for row in stats.values():
        if row["value"] is not None:
            assert row["interval"][0] <= row["value"] <= row["interval"][1]
    assert {r["kind"] for r in pop["heterogeneity"]} >= {"trait"}
    assert pop["held_out"]["kind"] == "people"
    controls = block["controls"]
    assert controls["run"] and controls["disguise"]["available"]
    assert controls["verdict"] in ("simulation", "recall", "stereotyping", "undecided",
                                   "no behaviour")
    assert {r["condition"] for r in controls["personas"]} == {"no-persona", "economist"}
    assert len(controls["recall"]) == 2
    html = (out / "report.html").read_text()
    assert "Simulation or recall?" in html and "Population results" in html
