"""``subrational run --model anthropic:...`` against a real Messages API server on 127.0.0.1."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("anthropic")

from anthropic_server import FakeAnthropicServer  # noqa: E402
from subrational.cli import main  # noqa: E402

KEY = "sk-ant-run-secret-77"
SMALL = ["--paraphrases", "1", "--episodes", "300", "--bootstrap", "20", "--no-progress"]
UNFAIR = "fair persona rejects the most unfair offers more often than not"


@pytest.fixture(autouse=True)
def key(monkeypatch, isolated_cache):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


def rejects_below_3(messages):
    """A responder that rejects every offer below $3 and accepts the others: a known truth."""
    offer = float(re.search(r"offers you \$(\d+\.\d\d)", messages[-1]["content"]).group(1))
    return {"Reject": 1.0} if offer < 3 else {"Accept": 1.0}


def _run(srv, out, *args):
    return main(["run", *args, "--model", "anthropic:claude-test", "--base-url", srv.base_url,
                 *SMALL, "--out", str(out)])


def _experiment(out, name):
    [(key, exp)] = [(k, v) for k, v in json.loads((out / "summary.json").read_text())
                    ["experiments"].items() if k.startswith(name)]
    return exp


def test_a_sampled_ultimatum_run_reproduces_a_known_responder(tmp_path, capsys, monkeypatch,
                                                              isolated_cache):
    with FakeAnthropicServer(rejects_below_3, api_key=KEY) as srv:
        code = _run(srv, tmp_path / "r", "ultimatum", "--persona", "fair", "--method", "sample",
                    "--samples", "2")
        assert code == 0, capsys.readouterr().err
        assert srv.requests == 21 * 2 * 2  # offers x option orders x samples
    assert all(b["system"][0]["cache_control"] == {"type": "ephemeral"} for b in srv.bodies)
    exp = _experiment(tmp_path / "r", "ultimatum")
    assert exp["method"] == "sample"
    paper = {(f["claim"], f["source"]): f["reproduced"] for f in exp["findings"]}
    assert paper[(UNFAIR, "demonstrations")] is True
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["model"] == {"backend": "anthropic", "model": "claude-test",
                                 "base_url": srv.base_url}
    assert manifest["calls"]["model_calls"] == 84
    for name in ("summary.json", "manifest.json", "report.html"):
        assert KEY not in (tmp_path / "r" / name).read_text(), name
    for path in isolated_cache.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    # A replay needs neither the key nor the server, and gives the same summary.
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    capsys.readouterr()
    code = _run(srv, tmp_path / "replay", "ultimatum", "--persona", "fair", "--method", "sample",
                "--samples", "2", "--offline")
    assert code == 0, capsys.readouterr().err
    assert re.search(r"^0 model calls \(.*\), 84 from the cache", capsys.readouterr().out, re.M)
    assert _experiment(tmp_path / "replay", "ultimatum")["findings"] == exp["findings"]


def test_the_default_method_falls_back_to_sampling_and_the_report_says_why(tmp_path, capsys):
    with FakeAnthropicServer(rejects_below_3, api_key=KEY) as srv:
        code = _run(srv, tmp_path / "r", "ultimatum", "--persona", "fair", "--samples", "2")
        assert code == 0, capsys.readouterr().err
        assert srv.requests == 84  # no scoring call was ever sent
    exp = _experiment(tmp_path / "r", "ultimatum")
    assert exp["method"] == "sample"
    [note] = [n for n in exp["notes"] if "fell back" in n]
    assert "no log-probabilities" in note and "Messages API has none" in note
    assert "fell back to the sample method with 2 draws" in note
    report = (tmp_path / "r" / "report.html").read_text()
    assert "Messages API has none for any Claude model" in report.replace("&#39;", "'")


@pytest.mark.parametrize(("study", "persona"), [("marshmallow", "age-4"),
                                                ("double_or_nothing", "stake-100"),
                                                ("procrastination", "gpa-3.0")])
def test_a_sampled_sequential_study_runs_to_a_report(tmp_path, capsys, study, persona):
    with FakeAnthropicServer(api_key=KEY) as srv:  # uniform over the options it is offered
        code = _run(srv, tmp_path / "r", study, "--persona", persona, "--method", "sample",
                    "--samples", "2")
        assert code == 0, capsys.readouterr().err
        sent = srv.requests
    exp = _experiment(tmp_path / "r", study)
    assert exp["method"] == "sample"
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["calls"]["model_calls"] == sent > 2
    assert manifest["calls"]["retries"] == {"total": 0, "by_kind": {}}
    assert (tmp_path / "r" / "report.html").stat().st_size > 0


def test_a_missing_key_is_one_line_and_exit_2_before_any_call(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with FakeAnthropicServer(api_key=KEY) as srv:
        code = _run(srv, tmp_path / "r", "ultimatum", "--persona", "fair", "--method", "sample")
        assert srv.requests == 0
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "ANTHROPIC_API_KEY" in err, err
    assert "Traceback" not in err and not (tmp_path / "r").exists()


def test_overloaded_replies_are_retried_and_shown_in_the_manifest(tmp_path, capsys):
    with FakeAnthropicServer(rejects_below_3, api_key=KEY, fail_first=[529, 529, 429]) as srv:
        code = _run(srv, tmp_path / "r", "ultimatum", "--persona", "fair", "--method", "sample",
                    "--samples", "1")
        assert code == 0, capsys.readouterr().err
        assert srv.requests == 42 + 3
    retries = json.loads((tmp_path / "r" / "manifest.json").read_text())["calls"]["retries"]
    assert retries == {"total": 3, "by_kind": {"http-429": 1, "http-529": 2}}
