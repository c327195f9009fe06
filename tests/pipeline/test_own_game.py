"""A game defined outside the package goes through the whole public pipeline."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
from gymnasium.utils.env_checker import check_env

import subrational
from subrational.backends.scripted import ScriptedBackend
from subrational.cli import main
from subrational.config import RunConfig
from subrational.pipeline import run

EXAMPLE = Path(__file__).parents[2] / "examples" / "sure_thing.py"
DICTATOR = Path(__file__).parents[2] / "examples" / "dictator" / "dictator.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("sure_thing_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_external_game_runs_end_to_end_and_its_policy_reloads(tmp_path):
    module = _load_example()
    exp = subrational.make("sure_thing")
    check_env(subrational.GameEnv(exp, "bold"), skip_render_check=True)

    def truth(persona, state):  # bold flips more, and more so for larger prizes
        p_flip = min(0.95, state.prize / 30 + (0.3 if persona.name == "bold" else 0.0))
        return [1 - p_flip, p_flip]

    result = run(RunConfig(experiments=["sure_thing"], model="scripted:x", out=tmp_path),
                 out=tmp_path, backend=ScriptedBackend("x", probs_fn=truth))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert "sure_thing-v1" in summary["experiments"]
    policy = subrational.load_policy(tmp_path / "sure_thing" / "policy.pt")
    bold = policy.action_probs(module.Prize(30.0), "bold")
    cautious = policy.action_probs(module.Prize(2.0), "cautious")
    assert bold[1] > 0.85 and cautious[1] < 0.2
    assert list((tmp_path / "figures").glob("sure_thing-*.png"))
    assert result.results[0].training["fidelity_tv"] < 0.03
    np.testing.assert_allclose(bold.sum(), 1.0, rtol=1e-6)


def test_dictator_example_runs_through_the_cli_and_its_report_speaks_of_it(tmp_path, capsys):
    out = tmp_path / "dictator"
    assert main(["check", "--import", str(DICTATOR)]) == 0
    assert "dictator-v1: ok" in capsys.readouterr().out
    code = main(["run", "dictator", "--import", str(DICTATOR), "--model",
                 "scripted:dictator-human", "--out", str(out), "--bootstrap", "20",
                 "--episodes", "200", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    exp = json.loads((out / "summary.json").read_text())["experiments"]["dictator-v1"]
    assert exp["from_paper"] is False
    engel = "Engel (2011), Experimental Economics 14:583–610"
    assert {"key": "giving", "source": engel, "tag": "M"} in exp["references"]
    # One decision state: the state was not varied, so nothing can beat it; no flag.
    assert exp["robustness"]["form_beats_state"] == []
    assert exp["robustness"]["not_varied"] == ["state"]
    assert exp["robustness"]["variance_shares"]["state"] is None
    # Its own findings, checked on both sources; a human-identical script passes them.
    claims = {(f["claim"], f["source"]): f for f in exp["findings"]}
    share = claims[("participant: gives a share of the pie like humans (28.35 %)",
                    "demonstrations")]
    assert share["kind"] == "human band" and share["reproduced"] is True
    assert abs(share["statistic"] - 0.284) < 0.06
    assert claims[("the selfish persona gives less than the participant", "policy")][
        "reproduced"] is True
    card = exp["scorecard"]
    assert card["verdict"] == "human-like"
    assert card["human_bands"]["demonstrations"] == {"passed": 2, "checked": 2,
                                                     "not_assessed": 0}
    # The policy has one row per persona: its fits are left out, and the report says why.
    assert {(f["source"], f["n_rows"]) for f in exp["fits_left_out"]} == {("policy", 1)}
    assert {f["source"] for f in exp["fits"]} == {"demonstrations"}
    report = (out / "report.html").read_text()
    assert "Human reference" in report and engel in report and "tag M" in report
    assert "gives nothing as often as humans" in report
    assert "left out: 1 row" in report and "not varied" in report
    assert "paper finding" not in report and "Coletta" not in report
    assert "None of the" not in report


def test_a_report_of_an_own_game_without_findings_is_not_assessed(tmp_path):
    _load_example()
    result = run(RunConfig(experiments=["sure_thing"], model="scripted:x", out=tmp_path),
                 out=tmp_path, backend=ScriptedBackend("x", probs_fn=lambda p, s: [0.3, 0.7]))
    exp = result.summary["experiments"]["sure_thing-v1"]
    assert exp["scorecard"]["verdict"] == "not assessed"
    assert exp["references"] == [] and exp["from_paper"] is False
    report = (tmp_path / "report.html").read_text()
    assert "not assessed" in report and "No human reference data for this study" in report
    assert "No finding is checked for this study" in report
    assert "paper finding" not in report and "None of the paper" not in report
