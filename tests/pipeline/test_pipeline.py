import json

import numpy as np
import pandas as pd
import pytest

from subrational.config import RunConfig
from subrational.errors import CacheMissError
from subrational.pipeline import run
from support import CacheableScripted, human_logistic, persona_logistic


def _config(tmp_path, **kw):
    return RunConfig(experiments=["ultimatum"], model="scripted:x", out=tmp_path, **kw)


def test_second_identical_run_makes_no_model_call_and_same_summary(tmp_path):
    first_backend = CacheableScripted.make(human_logistic)
    first = run(_config(tmp_path), out=tmp_path / "a", backend=first_backend)
    # 504 cells, and 16 prompts scored twice (batched, one at a time) for the noise floor.
    assert first.manifest["calls"]["model_calls"] == 504 and first_backend.calls == 504 + 32
    again_backend = CacheableScripted.make(human_logistic)
    again = run(_config(tmp_path), out=tmp_path / "b", backend=again_backend)
    assert again_backend.calls == 0 and again.manifest["calls"]["cache_hits"] == 504
    assert ((tmp_path / "a" / "summary.json").read_text()
            == (tmp_path / "b" / "summary.json").read_text())


def test_the_noise_floor_is_in_the_summary_and_the_report_and_replays_offline(tmp_path):
    first = run(_config(tmp_path), out=tmp_path / "a",
                backend=CacheableScripted.make(human_logistic))
    noise = first.summary["experiments"]["ultimatum-v2"]["diagnostics"]["numerical_noise"]
    assert noise == {"max": 0.0, "mean": 0.0, "n_prompts": 16, "dtype": None,
                     "method": "batched vs one at a time (batches of 16)"}
    report = (tmp_path / "a" / "report.html").read_text()
    assert "Numerical noise floor: max |ΔP(first action)|\n0.000,\nmean 0.000 over 16" in report
    assert "<th>numerical_noise</th>" not in report  # one sentence, not a raw dict
    assert "parse failures per persona" not in report  # choice-probs: no draw to fail
    replay_backend = CacheableScripted.make(human_logistic)
    replay = run(_config(tmp_path, offline=True), out=tmp_path / "b", backend=replay_backend)
    assert replay_backend.calls == 0
    assert replay.summary["experiments"]["ultimatum-v2"]["diagnostics"]["numerical_noise"] == noise


def test_offline_replay_fails_on_a_miss_with_a_clear_message(tmp_path):
    with pytest.raises(CacheMissError, match="not in the cache"):
        run(_config(tmp_path, offline=True), out=tmp_path / "a",
            backend=CacheableScripted.make(human_logistic))


def test_interrupted_run_resumes_from_the_cache(tmp_path):
    from subrational.backends.scripted import ScriptedBackend

    class Interrupting(ScriptedBackend):
        def score(self, requests):
            if self.calls >= 32:
                raise KeyboardInterrupt
            return super().score(requests)

    with pytest.raises(KeyboardInterrupt):
        run(_config(tmp_path), out=tmp_path / "a",
            backend=Interrupting("cacheable", probs_fn=human_logistic, cacheable=True,
                                 batch_size=16))
    resumed = CacheableScripted.make(human_logistic)
    result = run(_config(tmp_path), out=tmp_path / "a", backend=resumed)
    assert result.manifest["calls"]["cache_hits"] == 32
    assert resumed.calls == 504 - 32 + 32  # the rest, and the noise floor's 2 x 16


def test_demonstrations_parquet_has_provenance_per_row(tmp_path):
    run(_config(tmp_path, personas=["fair"]), out=tmp_path / "a",
        backend=CacheableScripted.make(persona_logistic))
    frame = pd.read_parquet(tmp_path / "a" / "ultimatum" / "demonstrations.parquet")
    assert len(frame) == 21 * 4 * 2  # offers x wordings x option orders
    assert set(frame["variant"]) == {"Accept|Reject", "Reject|Accept"}
    assert sorted(set(frame["paraphrase"])) == [0, 1, 2, 3]
    for col in ("model", "method", "option_mass", "status", "experiment_version", "n_failed"):
        assert col in frame.columns
    assert (frame["method"] == "choice-probs").all()
    assert frame["option_mass"].between(0.999, 1.001).all()


def test_sample_method_counts_draws_and_parse_failures(tmp_path):
    def texts(persona, state, option, rng):
        return "I cannot decide." if rng.random() < 0.2 else f"Fine.\nAnswer: {option}"

    from subrational.backends.scripted import ScriptedBackend

    backend = ScriptedBackend("x", probs_fn=human_logistic, texts_fn=texts)
    result = run(_config(tmp_path, method="sample", samples=20, personas=["typical"],
                         paraphrases=1), out=tmp_path / "a", backend=backend)
    diag = result.summary["experiments"]["ultimatum-v2"]["diagnostics"]
    assert diag["draws"] == 21 * 2 * 20 and diag["wordings"] == 1
    assert 0.12 < diag["parse_failure_rate"] < 0.28
    typical = diag["parse_failures_by_persona"]["typical"]
    assert (typical["draws"], typical["failed"]) == (diag["draws"], diag["parse_failures"])
    report = (tmp_path / "a" / "report.html").read_text()
    assert "<th>parse failures per persona</th>" in report
    assert f'<td>typical</td><td class="num">{diag["draws"]}</td>' in report
    assert "parse_failures_by_state" not in report  # a table, not raw dicts
    frame = pd.read_parquet(tmp_path / "a" / "ultimatum" / "demonstrations.parquet")
    row = frame.iloc[0]
    assert row["n_draws"] == 20 and len(json.loads(row["texts"])) == 20
    # Jeffreys-smoothed frequencies track the true curve: offer 0 rejects ~83 %.
    metrics = result.summary["experiments"]["ultimatum-v2"]["metrics"]
    assert metrics["per_persona"]["demonstrations"]["typical"]["mad_to_human"] < 0.12


def test_an_order_effect_larger_than_the_state_effect_is_flagged(tmp_path):
    from subrational.backends.base import OptionScores
    from subrational.backends.scripted import ScriptedBackend

    class OrderBiased(ScriptedBackend):
        """Always picks whichever option is listed first, whatever the offer."""

        def score(self, requests):
            first_is_accept = [r.prompt.messages[-1].content.endswith("Accept or Reject.")
                               for r in requests]
            probs = [(0.8, 0.2) if f else (0.2, 0.8) for f in first_is_accept]
            return [OptionScores(tuple(float(np.log(p)) for p in pr)) for pr in probs]

    result = run(_config(tmp_path, personas=["typical"]), out=tmp_path / "a",
                 backend=OrderBiased("x", probs_fn=human_logistic))
    exp = result.summary["experiments"]["ultimatum-v2"]
    assert exp["diagnostics"]["order_effect_mean"] == pytest.approx(0.6)
    # The option order is all there is: it explains all the variance, the offer none.
    shares = exp["robustness"]["variance_shares"]
    assert shares["order"] == pytest.approx(1.0) and shares["state"] == pytest.approx(0.0)
    assert exp["robustness"]["form_beats_state"] == ["order"]
    assert any(n.startswith("How the question is put (order,") and "100% of the variance" in n
               for n in exp["notes"])


def test_generalisation_refit_leaves_the_held_out_persona_out(tmp_path):
    from subrational.experiments import register
    from support import BusStop, bus_truth

    register(BusStop)
    result = run(RunConfig(experiments=["bus-stop"], model="scripted:x", out=tmp_path),
                 backend=CacheableScripted.make(bus_truth))
    gen = result.summary["experiments"]["bus-stop-v1"]["training"]["generalisation"]
    assert gen["held_out"] == ["patience-3"]
    # The truth is smooth in patience, so the network interpolates the unseen value closely.
    assert gen["train_tv"] < 0.03 and gen["held_out_tv"] < 0.06


def test_one_persona_list_serves_several_studies(tmp_path):
    from subrational.errors import UnknownNameError
    from subrational.experiments import make
    from subrational.pipeline import check_personas, select_personas
    from support import BusStop

    bus, ult = BusStop(), make("ultimatum")
    assert [p.name for p in select_personas(bus, ["fair", "patience-2"])] == ["patience-2"]
    assert [p.name for p in select_personas(ult, ["fair", "patience-2"])] == ["fair"]
    assert len(select_personas(ult, ["patience-2"])) == 3  # none of its own: its defaults
    with pytest.raises(UnknownNameError, match="did you mean 'patience-2'"):
        check_personas([bus, ult], ["patience-22"])


def test_sampled_episodes_leave_unreached_rounds_unknown_not_fifty_fifty(tmp_path):
    from subrational.backends.scripted import ScriptedBackend

    def gamble_once(persona, state):  # [keep, gamble]: flip at round 0, keep afterwards
        return [0.0, 1.0] if state.round == 0 else [1.0, 0.0]

    config = RunConfig(experiments=["double_or_nothing"], model="scripted:x", method="sample",
                       samples=4, paraphrases=1, personas=["stake-10"], bootstrap=5,
                       episodes=100, out=tmp_path,
                       options={"double_or_nothing": {"win_probs": [0.5], "loss_win_probs": []}})
    result = run(config, backend=ScriptedBackend("x", probs_fn=gamble_once))
    exp = result.summary["experiments"]["double_or_nothing-v2"]
    by_round = exp["metrics"]["per_persona"]["demonstrations"]["stake-10"]["p_gamble_by_round"]
    assert by_round[0] > 0.8 and by_round[1] < 0.2  # reached (won flips), answered
    assert by_round[2:] == [None, None, None]  # never reached: unknown, not 0.5
    assert (tmp_path / "report.html").exists()
