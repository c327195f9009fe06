"""``subrational run --model A --model B``: one run per model, one page with a leaderboard."""

import contextlib
import io
import json
import re

import pytest

import subrational.pipeline
from subrational.cli import main
from subrational.rundir import read_run

TINY = ["ultimatum", "--paraphrases", "1", "--episodes", "300", "--bootstrap", "20",
        "--persona", "fair", "--persona", "typical", "--no-progress"]
# uniform first: the leaderboard must reorder them
MODELS = ["--model", "scripted:uniform", "--model", "scripted:human-logistic"]


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "both"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(["run", *TINY, *MODELS, "--out", str(out)])
    return code, stdout.getvalue(), out


def test_each_model_is_a_finished_run_of_the_same_plan(two_models):
    code, _, out = two_models
    assert code == 0
    runs = [read_run(out / slug) for slug in ("scripted-uniform", "scripted-human-logistic")]
    assert [r.summary["model"] for r in runs] == ["scripted:uniform", "scripted:human-logistic"]
    configs = [r.manifest["config"] for r in runs]
    assert {k: v for k, v in configs[0].items() if k not in ("model", "out")} == \
        {k: v for k, v in configs[1].items() if k not in ("model", "out")}


def test_the_human_like_model_leads_the_leaderboard(two_models):
    _, stdout, out = two_models
    distances = {}
    for slug in ("scripted-uniform", "scripted-human-logistic"):
        summary = json.loads((out / slug / "summary.json").read_text())
        card = summary["experiments"]["ultimatum-v2"]["scorecard"]
        distances[slug] = card["distance_to_humans"]["demonstrations"]
    assert distances["scripted-human-logistic"] < distances["scripted-uniform"] - 0.1
    line = next(x for x in stdout.splitlines() if x.startswith("ultimatum-v2 leaderboard"))
    assert re.search(r"1\. scripted:human-logistic .*2\. scripted:uniform", line), line
    html = (out / "report.html").read_text()
    board = html[html.index("<h2>Leaderboard"):html.index("<h2>Scorecards")]
    first, second = board.index("scripted:human-logistic"), board.index("scripted:uniform")
    assert first < second
    assert f"{distances['scripted-human-logistic']:.3f}" in board[first:second]
    assert "human-like" in board[first:second] and "not human-like" in board[second:]
    assert "not run" in board  # the controls are not invented
    assert html.count("data:image/png;base64,") == 1  # the curves, overlaid
    assert f"report: {out / 'report.html'}" in stdout


@pytest.mark.parametrize(("second", "says"), [
    ("scripted:nope", "unknown script 'nope'"),
    ("bogus:x", "unknown backend 'bogus'"),
    ("openai:gpt-4o", "OPENAI_API_KEY"),
])
def test_a_bad_second_model_stops_before_anything_runs(tmp_path, capsys, monkeypatch, second,
                                                       says):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # a fresh runs/<time>-models would land here
    out = tmp_path / "r"
    for where in (["--out", str(out)], []):
        code = main(["run", *TINY, "--model", "scripted:uniform", "--model", second, *where])
        err = capsys.readouterr().err
        assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists() and not (tmp_path / "runs").exists()


def test_the_exit_code_is_the_worst_of_the_sub_runs(tmp_path, capsys, monkeypatch):
    real = subrational.pipeline.run

    def some_calls_failed(config, **kw):  # a sub-run whose calls failed after their retries
        result = real(config, **kw)
        if config.model == "scripted:human-logistic":
            result.summary["failed_calls"] = {"calls": 3, "retry": "run it again"}
        return result

    monkeypatch.setattr(subrational.pipeline, "run", some_calls_failed)
    code = main(["run", *TINY, *MODELS, "--out", str(tmp_path / "r")])
    assert code == 4 and "3 model calls failed" in capsys.readouterr().err
    assert (tmp_path / "r" / "report.html").is_file()


def test_the_same_model_twice_is_refused(tmp_path, capsys):
    code = main(["run", *TINY, "--model", "scripted:uniform", "--model", "scripted:uniform",
                 "--out", str(tmp_path / "r")])
    assert code == 2 and "give each model once" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_plan_prints_one_plan_per_model(capsys):
    assert main(["plan", *TINY[:7], *MODELS]) == 0
    out = capsys.readouterr().out
    assert "plan for scripted:uniform" in out and "plan for scripted:human-logistic" in out


def test_batch_submit_takes_one_model(capsys, tmp_path):
    code = main(["batch", "submit", "ultimatum", *MODELS, "--out", str(tmp_path / "b")])
    assert code == 2 and "--model given 2 times" in capsys.readouterr().err
