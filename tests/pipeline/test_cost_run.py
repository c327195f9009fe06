"""Tokens and cost recorded by a run, a replay that paid nothing, and ``--max-cost``."""

from __future__ import annotations

import json
import re
import time

import pytest

pytest.importorskip("openai")

from test_openai_run import people_like  # noqa: E402

from openai_server import FakeOpenAIServer  # noqa: E402
from subrational.backends.prices import lookup_price, usage_cost  # noqa: E402
from subrational.cli import main  # noqa: E402
from subrational.reporting.compare import write_comparison  # noqa: E402

SMALL = ["--paraphrases", "1", "--episodes", "300", "--bootstrap", "20", "--no-progress"]
SAMPLED = ["ultimatum", "--persona", "fair", "--method", "sample", "--samples", "2"]  # 84 calls


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def _run(srv, out, *args, model="o3-mini"):
    return main(["run", *SAMPLED, "--model", f"openai:{model}", "--base-url", srv.base_url,
                 *SMALL, "--out", str(out), *args])


def _manifest(out):
    return json.loads((out / "manifest.json").read_text())


def test_a_run_records_tokens_and_cost_and_a_replay_pays_nothing(tmp_path, capsys):
    with FakeOpenAIServer(people_like, reasoning=True, json_schema=True) as srv:
        assert _run(srv, tmp_path / "r") == 0, capsys.readouterr().err
        first_out = capsys.readouterr().out
        sent = srv.requests
        assert _run(srv, tmp_path / "replay") == 0, capsys.readouterr().err
        assert srv.requests == sent  # the replay sent nothing
    replay_out = capsys.readouterr().out
    first, replay = _manifest(tmp_path / "r"), _manifest(tmp_path / "replay")
    assert first["format_version"] == 2
    total = first["cost"]["total"]
    now = total["this_run"]
    # The reasoning server bills 48 hidden tokens per answer, reported as reasoning tokens.
    assert total["calls"] == sent == 84 and now["reasoning_tokens"] == 84 * 48
    assert now["output_tokens"] > now["reasoning_tokens"] and now["cached_input_tokens"] > 0
    price = lookup_price("o3-mini").price
    assert now["cost_usd"] == pytest.approx(usage_cost(now, price), abs=1e-6)
    assert first["cost"]["price"]["pattern"] == "o3-mini"
    assert first["cost"]["studies"]["ultimatum-v2"] == total  # one study: its block is the total
    assert first["backend"]["usage"]["calls"] == 84  # the backend's diagnostics
    # The replay paid nothing new, and says what its answers cost when they were made.
    again = replay["cost"]["total"]
    assert (again["calls"], again["cache_hits"], again["this_run"]["cost_usd"]) == (0, 84, 0)
    assert {k: v for k, v in again["when_made"].items() if k != "unknown_hits"} == now
    assert again["when_made"]["unknown_hits"] == 0
    assert re.search(rf"^cost: \${now['cost_usd']:.4f} this run \(", first_out, re.M)
    assert re.search(rf"^cost: \$0 this run .*the answers cost \${now['cost_usd']:.4f} when "
                     "they were made", replay_out, re.M)
    report = (tmp_path / "replay" / "report.html").read_text()
    assert "<strong>$0</strong> paid by this run for 0 model calls" in report
    assert f"cost ${now['cost_usd']:.4f} when they were made" in report
    page = write_comparison([tmp_path / "r", tmp_path / "replay"], tmp_path / "c.html")
    compare = page.read_text()
    assert "Calls, tokens and cost" in compare and compare.count(f"${now['cost_usd']:.4f}") == 6


def _settled(srv) -> int:
    """The server's request count once the stopped run's last requests have arrived.

    Requests the run had already written when it stopped can reach the server's threads after
    the run returns (seen on a loaded machine: two arrived late and were counted against the
    resumed run); wait until none is in flight and the count holds for 0.3 s (at most 10 s).
    """
    deadline, last, since = time.monotonic() + 10, -1, time.monotonic()
    while time.monotonic() < deadline:
        count = srv.requests
        if count != last or srv.in_flight:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= 0.3:
            break
        time.sleep(0.05)
    return srv.requests


def test_max_cost_stops_the_run_cleanly_and_the_same_command_resumes_it(tmp_path, capsys):
    out = tmp_path / "r"
    with FakeOpenAIServer(people_like) as srv:
        code = _run(srv, out, "--concurrency", "4", "--max-cost", "0.00001", model="gpt-4o")
        stopped = _settled(srv)
        err = capsys.readouterr().err
        assert code == 3, err
        # The first answer costs more than the limit: the run stopped at once and kept the
        # answers that came back. Sent: the 4 in flight, and whatever started in the slots of
        # answers that finished before the limit was checked (5 seen on a loaded machine, with
        # two test workers); never the 84 of the plan.
        assert 1 <= stopped <= 2 * 4
        assert err.count("\n") == 1 and err.startswith(
            "subrational: stopped at --max-cost 1e-05: this run spent $0.0")
        kept = re.search(r"on (\d+) model calls, whose answers are cached; run the same command "
                         f"again with --out {re.escape(str(out))} to continue", err)
        assert kept is not None, err
        kept_calls = int(kept.group(1))
        assert 1 <= kept_calls <= stopped
        assert (out / "run.json").exists() and not (out / "complete.json").exists()
        code = _run(srv, out, "--concurrency", "4", "--max-cost", "10", model="gpt-4o")
        assert code == 0, capsys.readouterr().err
        assert srv.requests == stopped + 84 - kept_calls  # the paid, kept calls not asked again
    total = _manifest(out)["cost"]["total"]
    assert (total["calls"], total["cache_hits"]) == (84 - kept_calls, kept_calls)
    assert (out / "complete.json").exists()
    assert total["when_made"]["cost_usd"] > total["this_run"]["cost_usd"] > 0
