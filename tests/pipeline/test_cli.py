import json
import re

import pytest

from subrational.cli import main

UNFAIR = "fair persona rejects the most unfair offers more often than not"


def run_cli(capsys, *args):
    code = main(["run", *args, "--no-progress"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_scripted_run_writes_report_and_reproduces_known_findings(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "ultimatum", "--model", "scripted:persona-logistic",
                           "--out", str(tmp_path / "r"))
    assert code == 0
    assert f"report: {tmp_path / 'r' / 'report.html'}" in out
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    findings = summary["experiments"]["ultimatum-v2"]["findings"]
    paper = {(f["claim"], f["source"]): f["reproduced"] for f in findings}
    assert paper[(UNFAIR, "demonstrations")] is True
    assert paper[("fair persona accepts a 50/50 split", "demonstrations")] is True
    assert paper[(UNFAIR, "policy")] is True
    assert paper[("money-maximiser accepts every positive offer", "money-maximiser")] is True
    # The typical persona follows the human logistic curve exactly: close to humans.
    metrics = summary["experiments"]["ultimatum-v2"]["metrics"]
    assert metrics["per_persona"]["demonstrations"]["typical"]["mad_to_human"] < 0.03
    assert (metrics["per_persona"]["demonstrations"]["typical"]["logistic"]["threshold"]
            == pytest.approx(0.1526, abs=1e-3))
    html = (tmp_path / "r" / "report.html").read_text()
    assert "data:image/png;base64," in html and "Acceptance curve" in html
    assert (tmp_path / "r" / "figures" / "ultimatum-acceptance-curve.png").stat().st_size > 10_000
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["experiments"] == ["ultimatum-v2"] and manifest["config"]["seed"] == 0


def test_uniform_model_reproduces_nothing_and_says_so(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "ultimatum", "--model", "scripted:uniform",
                           "--out", str(tmp_path / "r"))
    assert code == 0 and "NOT reproduced" in out
    assert "None of the paper's findings reproduce" in (tmp_path / "r" / "report.html").read_text()
    # the terminal gives each study's verdict, not only its findings
    assert re.search(r"^ultimatum-v2: not human-like (\(P = [01]\.\d\d\) )?\(human bands "
                     r"passed by the LLM: \d+/\d+", out, re.M)


@pytest.mark.parametrize(("args", "message"), [
    (["nope"], "unknown experiment 'nope'"),
    (["ultimatum", "--model", "bogus:x"], "unknown backend 'bogus'"),
    (["ultimatum", "--method", "guess"], "unknown method 'guess'"),
    (["ultimatum", "--samples", "0"], "--samples: must be from 1 to"),
    (["ultimatum", "--persona", "fiar", "--model", "scripted:uniform"], "did you mean 'fair'"),
    (["ultimatum", "--loss", "l2"], "unknown loss 'l2'"),
    (["ultimatum", "--model", "transformers:/no/such/model.gguf"], "/no/such/model.gguf"),
    (["ultimatum", "--model", "scripted:nope"], "unknown script 'nope'"),
    (["ultimatum", "--episodes", "0"], "--episodes: must be from 1 to"),
    (["ultimatum", "--bootstrap", "0"], "--bootstrap: must be from 1 to"),
    (["ultimatum", "--paraphrases", "0"], "--paraphrases: must be from 1 to"),
    (["marshmallow", "--persona", "age-9", "--model", "scripted:uniform"],
     "did you mean 'age-8'"),
])
def test_bad_input_is_one_line_and_exit_code_2(capsys, args, message, tmp_path):
    code, _, err = run_cli(capsys, *args, "--out", str(tmp_path / "r"))
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_flag_type_exits_2_with_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--seed", "abc"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_missing_openai_key_is_a_usage_error(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    code, _, err = run_cli(capsys, "ultimatum", "--model", "openai:gpt-4o",
                           "--out", str(tmp_path / "r"))
    assert code == 2 and "OPENAI_API_KEY" in err


def test_list_shows_experiments_personas_and_backends(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for word in ("ultimatum-v2", "fair, typical, selfish", "transformers", "openai", "scripted"):
        assert word in out


def test_a_malformed_number_is_one_line_and_exit_code_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "ultimatum", "--episodes", "many"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "invalid int value: 'many'" in err and len(err.splitlines()) == 1


def test_study_options_reach_the_optional_axes_and_the_policy_file(tmp_path, capsys):
    import subrational

    code = main(["run", "double_or_nothing", "--model", "scripted:uniform", "--paraphrases", "1",
                 "--option", "double_or_nothing.win_probs=0.5,0.8", "--persona", "stake-10",
                 "--bootstrap", "5", "--episodes", "50", "--no-progress",
                 "--out", str(tmp_path / "r")])
    assert code == 0, capsys.readouterr().err
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["config"]["options"] == {"double_or_nothing": {"win_probs": [0.5, 0.8]}}
    policy = subrational.load_policy(tmp_path / "r" / "double_or_nothing" / "policy.pt")
    assert sorted({s.win_prob for s in policy.experiment.states()}) == [0.5, 0.8]


@pytest.mark.parametrize(("option", "message"), [
    ("double_or_nothing.bogus=1", "unknown option 'bogus' for double_or_nothing-v2"),
    ("double_or_nothing", "write STUDY.KEY=VALUE"),
    ("marshmallow.horizon=15", "which this run does not include"),
    ("double_or_nothing.win_probs=1.5", "win"),
])
def test_bad_study_options_are_one_line_and_exit_code_2(capsys, option, message, tmp_path):
    code = main(["run", "double_or_nothing", "--model", "scripted:uniform", "--option", option,
                 "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
