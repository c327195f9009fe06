"""The controls tell a simulator from a reciter and a stereotyper, and cost what plan says."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from framed_game import reciter, simulator, stereotyper

from subrational.backends.scripted import ScriptedBackend
from subrational.cli import main
from subrational.config import RunConfig
from subrational.controls import check_controls
from subrational.controls.personas import ECONOMIST, NO_PERSONA
from subrational.experiments import make
from subrational.pipeline import run
from subrational.plan import make_plan

FAST = {"bootstrap": 50, "episodes": 50}


def _run(tmp_path, fn, *, controls=True, name="run", **settings):
    backend = ScriptedBackend("x", probs_fn=fn)
    config = RunConfig(experiments=["split-test"], model="scripted:x", controls=controls,
                       out=tmp_path / name, **{**FAST, **settings})
    run(config, out=tmp_path / name, backend=backend)
    summary = json.loads((tmp_path / name / "summary.json").read_text())
    return summary, backend.calls


def _block(summary):
    return summary["experiments"]["split-test-v1"]["controls"]


def test_a_reciter_is_caught_by_the_disguise(tmp_path):
    summary, _ = _run(tmp_path, reciter)
    block = _block(summary)
    assert block["disguise"]["verdict"] == "vanishes"
    lo, hi = block["disguise"]["shift"]["interval"]
    assert hi < -0.1  # the textbook answers are gone under the disguise
    assert block["verdict"] == "recall" and summary["controls"]["recall_suspected"] == [
        "split-test-v1"]
    assert summary["experiments"]["split-test-v1"]["scorecard"]["controls"] == "recall"
    assert "evidence of recall" in block["conclusion"]
    assert block["disguise"]["findings"] == [{
        "claim": "a 75 % offer is accepted more often than not", "standard": True,
        "disguised": False}]
    stored = pd.read_parquet(tmp_path / "run" / "split-test" / "controls" / "disguised.parquet")
    assert len(stored) == 5 * 3 * 2  # states x personas x option orders
    html = (tmp_path / "run" / "report.html").read_text()
    assert "Simulation or recall?" in html and "vanishes" in html and "evidence of recall" in html


def test_a_simulator_survives_the_disguise_and_is_not_flagged(tmp_path):
    summary, _ = _run(tmp_path, simulator)
    block = _block(summary)
    assert block["disguise"]["verdict"] == "survives"
    assert block["verdict"] == "simulation"
    assert not block["placebo"]["stereotyping"]
    assert abs(block["placebo"]["real_effect"]["value"] - 0.1) < 1e-6  # level 3 vs level 1
    assert "evidence of simulation" in block["conclusion"]
    assert [(f["standard"], f["disguised"]) for f in block["disguise"]["findings"]] == [
        (True, True)]


def test_no_persona_and_economist_rows_are_there_with_their_texts(tmp_path):
    summary, _ = _run(tmp_path, simulator)
    rows = {r["condition"]: r for r in _block(summary)["personas"]}
    assert set(rows) == {"no-persona", "economist"}
    assert rows["economist"]["text"] == ECONOMIST and rows["no-persona"]["text"] == NO_PERSONA
    # one clone asked (the prompts are identical): the first persona's values, level 1,
    # which the script reads: 0.2 + 0.6 * 0.5 - 0.05
    assert rows["no-persona"]["headline"]["value"] == pytest.approx(0.45)
    stored = pd.read_parquet(tmp_path / "run" / "split-test" / "controls" / "economist.parquet")
    assert set(stored["persona"]) == {"economist"}  # one persona: the texts are all the same


def test_a_placebo_sensitive_model_is_flagged_and_an_insensitive_one_not(tmp_path):
    flagged = _block(_run(tmp_path, stereotyper, name="a")[0])["placebo"]
    shoe = {t["trait"]: t for t in flagged["traits"]}
    assert shoe["shoe_size"]["stereotyping"] and flagged["stereotyping"]
    assert shoe["shoe_size"]["effect"]["value"] > 0.2
    assert not shoe["favourite_colour"]["stereotyping"]
    clean = _block(_run(tmp_path, simulator, name="b")[0])["placebo"]
    assert not clean["stereotyping"]
    assert all(t["effect"]["value"] == pytest.approx(0.0) for t in clean["traits"])


def test_plan_counts_exactly_the_calls_the_controls_add(tmp_path):
    _, without = _run(tmp_path, simulator, controls=False, name="plain")
    _, with_controls = _run(tmp_path, simulator, name="controls")
    config = RunConfig(experiments=["split-test"], model="scripted:x", controls=True)
    plan = make_plan(config, backend=ScriptedBackend("x", probs_fn=simulator))
    rows = {s.experiment: s for s in plan.studies}
    assert set(rows) == {"split-test-v1", "split-test-v1 controls"}
    assert rows["split-test-v1 controls"].new == (with_controls - without,) * 2
    assert with_controls > without
    assert check_controls([make("split-test")], config) == with_controls - without  # progress


def test_without_controls_the_report_says_they_were_not_run_and_how(tmp_path):
    summary, _ = _run(tmp_path, simulator, controls=False)
    assert _block(summary) == summary["controls"]
    assert summary["controls"]["run"] is False and "--controls" in summary["controls"]["note"]
    html = (tmp_path / "run" / "report.html").read_text()
    assert "Simulation or recall?" in html and "The controls were not run" in html


def test_a_built_in_study_with_a_disguise_and_a_state_driven_model_reads_simulation(tmp_path):
    # The scripted human-logistic responder answers by the offer whatever the story says: its
    # behaviour survives the ultimatum game's disguised framing (a pilot's salvage fee).
    out = tmp_path / "u"
    code = main(["run", "ultimatum", "--model", "scripted:human-logistic", "--controls",
                 "--option", "ultimatum.step=0.1", "--paraphrases", "1", "--bootstrap", "20",
                 "--episodes", "50", "--out", str(out), "--no-progress"])
    assert code == 0
    block = _block_of(out, "ultimatum-v2")
    assert block["disguise"]["available"] and block["disguise"]["verdict"] == "survives"
    assert block["behaviour"]["responds"]
    assert block["verdict"] == "simulation"
    assert {r["id"] for r in block["recall"]} == {"ultimatum-reject-20", "ultimatum-reject-10"}
    assert all(r["verdict"] == "no valid recollection" for r in block["recall"])
    assert "Simulation or recall?" in (out / "report.html").read_text()


def test_a_model_that_answers_every_state_alike_gets_no_verdict(tmp_path):
    # The null model: uniform answers "survive" any disguise, which is no evidence of
    # simulation; the controls must say there is no behaviour to attribute.
    out = tmp_path / "n"
    code = main(["run", "ultimatum", "--model", "scripted:uniform", "--controls",
                 "--option", "ultimatum.step=0.1", "--paraphrases", "1", "--bootstrap", "20",
                 "--episodes", "50", "--out", str(out), "--no-progress"])
    assert code == 0
    block = _block_of(out, "ultimatum-v2")
    assert block["disguise"]["verdict"] == "survives"  # trivially
    assert not block["behaviour"]["responds"]
    assert block["verdict"] == "no behaviour"
    assert "no behaviour for a disguise" in block["conclusion"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["controls"]["verdicts"]["ultimatum-v2"] == "no behaviour"


def _block_of(out, vid):
    return json.loads((out / "summary.json").read_text())["experiments"][vid]["controls"]


@pytest.mark.parametrize("args, expected", [
    (["--option", "split-test.framing=disguised"], "drop --option split-test.framing"),
    (["--persona", "level-1"], "needs at least two personas of split-test"),
])
def test_bad_combinations_are_one_line_exit_2(tmp_path, capsys, args, expected):
    code = main(["run", "split-test", "--model", "scripted:uniform", "--controls",
                 "--out", str(tmp_path / "x"), "--no-progress", *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and expected in err and len(err.splitlines()) == 1


def test_controls_in_a_config_file_must_be_a_boolean(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text('controls = "yes"\n')
    code = main(["plan", "split-test", "--model", "scripted:uniform", "--config", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "controls" in err and len(err.splitlines()) == 1
    path.write_text("controls = true\n")
    assert main(["plan", "split-test", "--model", "scripted:uniform", "--config",
                 str(path)]) == 0
    assert "split-test-v1 controls" in capsys.readouterr().out


def test_an_offline_replay_gives_the_same_controls_with_the_invalid_answers_again(tmp_path):
    from support import human_logistic

    def recall(probe, rng):  # seeded by the request: the same draws are invalid every time
        return "Answer: 40%" if rng.random() < 0.6 else "I would rather not guess."

    def go(name, offline):
        backend = ScriptedBackend("c", probs_fn=human_logistic, cacheable=True,
                                  recall_fn=recall)
        config = RunConfig(experiments=["ultimatum"], model="scripted:x", controls=True,
                           options={"ultimatum": {"step": 0.1}}, paraphrases=1,
                           offline=offline, out=tmp_path / name, **FAST)
        run(config, out=tmp_path / name, backend=backend)
        return _block_of(tmp_path / name, "ultimatum-v2"), backend.calls

    first, calls = go("a", False)
    again, replayed = go("b", True)
    assert calls > 0 and replayed == 0 and again == first
    assert 0 < sum(r["invalid"] for r in first["recall"]) < 10
