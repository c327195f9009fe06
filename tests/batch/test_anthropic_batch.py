"""``subrational batch`` against a fake Anthropic Message Batches API."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("anthropic")

from batch_support import SMALL, cycle, findings, people, requests_of  # noqa: E402

from batch_servers import FakeAnthropicBatchServer  # noqa: E402
from subrational.cli import main  # noqa: E402

KEY = "sk-ant-batch"


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


def _args(srv, *extra):
    return ["ultimatum", "--persona", "fair", "--model", "anthropic:claude-sonnet-4-5",
            "--base-url", srv.base_url, "--samples", "2", *SMALL, *extra]


def test_claude_is_asked_in_a_message_batch_with_the_live_params(tmp_path, capsys,
                                                                 monkeypatch):
    with FakeAnthropicBatchServer(people, api_key=KEY, polls=1) as srv:
        args = _args(srv)
        monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(tmp_path / "live-cache"))
        assert main(["run", *args, "--out", str(tmp_path / "live")]) == 0, \
            capsys.readouterr().err
        live = list(srv.bodies)
        monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(tmp_path / "batch-cache"))
        capsys.readouterr()
        assert main(["batch", "submit", *args]) == 0
        said = capsys.readouterr().out
        assert main(["batch", "status"]) == 0  # the first poll: still in progress
        assert "is in_progress; 0 of 84 answered, 0 failed; not ended" in capsys.readouterr().out
        assert main(["batch", "collect"]) == 0
        assert capsys.readouterr().out.startswith("stored 84, failed 0")
        assert main(["batch", "status"]) == 0
        assert "collected (stored 84, failed 0)" in capsys.readouterr().out
        assert srv.requests == len(live)  # no Messages call: all went in the batch
        assert main(["run", "--offline", *args, "--out", str(tmp_path / "batch")]) == 0
    # The default method falls back to sampling, as a run does: 42 cells x 2 draws.
    assert requests_of(said) == 84 == len(live)
    assert sorted(json.dumps(b, sort_keys=True) for b in srv.batch_bodies) == \
        sorted(json.dumps(b, sort_keys=True) for b in live)
    [batch] = findings(tmp_path / "batch").values()
    assert batch["method"] == "sample" and batch["draws"] == 84


def test_an_errored_request_is_asked_again_and_only_it(tmp_path, capsys):
    first = []

    def once(body):
        first.append(body)
        return len(first) == 1

    with FakeAnthropicBatchServer(people, api_key=KEY, fail_line=once) as srv:
        args = _args(srv)
        said = cycle(args, capsys)
        assert main(["run", "--offline", *args, "--out", str(tmp_path / "r")]) == 0
    assert [requests_of(s) for s in said[:-1]] == [84, 1]
    assert len(srv.batches) == 2 and len(srv.batch_bodies) == 85


def test_a_missing_key_is_one_line_before_anything_is_sent(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with FakeAnthropicBatchServer(people, api_key=KEY) as srv:
        code = main(["batch", "submit", *_args(srv)])
        assert not srv.batches
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "ANTHROPIC_API_KEY" in err, err
