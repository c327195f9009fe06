"""``subrational batch`` against a fake OpenAI Batch API: submit, collect, ``run --offline``."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("openai")

from batch_support import SMALL, cycle, findings, people, requests_of  # noqa: E402

from batch_servers import FakeOpenAIBatchServer  # noqa: E402
from subrational.cache import Cache  # noqa: E402
from subrational.cli import main  # noqa: E402
from subrational.config import build_config  # noqa: E402
from subrational.plan import make_plan  # noqa: E402


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def _args(srv, study, persona, method, samples=2):
    return [study, "--persona", persona, "--model", "openai:gpt-4o", "--base-url",
            srv.base_url, "--method", method, "--samples", str(samples), *SMALL]


def _plan_new(srv, study, persona, method, samples=2):
    config = build_config({"experiments": [study], "personas": [persona],
                           "model": "openai:gpt-4o", "base_url": srv.base_url,
                           "method": method, "samples": samples, "paraphrases": 1})
    [study_plan] = make_plan(config).studies
    return study_plan.new


def _canonical(bodies):
    return sorted(json.dumps(b, sort_keys=True) for b in bodies)


@pytest.mark.parametrize(("method", "expected"), [("choice-probs", 42), ("sample", 84)])
def test_one_batch_then_an_offline_run_gives_the_live_run_findings(
        tmp_path, capsys, monkeypatch, method, expected):
    with FakeOpenAIBatchServer(people) as srv:
        args = _args(srv, "ultimatum", "fair", method)
        monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(tmp_path / "live-cache"))
        assert main(["run", *args, "--out", str(tmp_path / "live")]) == 0, \
            capsys.readouterr().err
        live = list(srv.bodies)
        monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(tmp_path / "batch-cache"))
        planned = _plan_new(srv, "ultimatum", "fair", method)
        said = cycle(args, capsys)
        assert srv.requests == len(live) == expected  # the batch sent no chat request
        assert main(["run", "--offline", *args, "--out", str(tmp_path / "batch")]) == 0
    assert len(said) == 2 and requests_of(said[0]) == expected == planned[0] == planned[1]
    assert "half the list price" in said[0]
    # Every line's body is the request the live run sent.
    assert _canonical(srv.batch_bodies) == _canonical(live)
    assert findings(tmp_path / "batch") == findings(tmp_path / "live")


def test_a_sequential_study_takes_one_batch_per_step_until_its_episodes_end(
        tmp_path, capsys, monkeypatch):
    with FakeOpenAIBatchServer(people) as srv:
        args = _args(srv, "marshmallow-v1", "age-2", "sample")
        monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(tmp_path / "live-cache"))
        assert main(["run", *args, "--out", str(tmp_path / "live")]) == 0, \
            capsys.readouterr().err
        live = list(srv.bodies)
        monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(tmp_path / "batch-cache"))
        planned = _plan_new(srv, "marshmallow-v1", "age-2", "sample")
        said = cycle(args, capsys)
        assert main(["run", "--offline", *args, "--out", str(tmp_path / "batch")]) == 0
    rounds = [requests_of(s) for s in said[:-1]]
    # 1 persona x 1 wording x 2 orders x 2 samples = 4 episodes, one request each a round.
    assert rounds[0] == 4 == planned[0] and len(rounds) > 2
    assert all(0 < n <= 4 for n in rounds) and rounds == sorted(rounds, reverse=True)
    assert said[0].startswith("4 requests for the next step of 4 episodes (marshmallow-v1), "
                              "0 already cached; sent as openai batch batch_")
    assert said[1].splitlines()[0].endswith("; submit again after collect")
    assert sum(rounds) == len(live) == len(srv.batch_bodies)
    assert _canonical(srv.batch_bodies) == _canonical(live)
    assert findings(tmp_path / "batch") == findings(tmp_path / "live")


def test_failed_lines_are_not_cached_and_the_next_submit_asks_only_for_them(
        tmp_path, capsys, isolated_cache):
    spoilt: set[str] = set()

    def once(kind, offer):
        def fault(body):
            key = json.dumps(body, sort_keys=True)
            if offer in body["messages"][-1]["content"] and key not in spoilt:
                spoilt.add(key)
                return kind
            return None
        return fault

    error_line = once(True, "offers you $1.50")
    nan_line = once("nan-logprobs", "offers you $2.00")
    with FakeOpenAIBatchServer(people, fail_line=lambda b: bool(error_line(b)),
                               fault_if=nan_line) as srv:
        args = _args(srv, "ultimatum", "fair", "choice-probs")
        assert main(["batch", "submit", *args]) == 0
        capsys.readouterr()
        assert main(["batch", "collect"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("stored 38, failed 4; run `subrational batch submit ultimatum")
        assert "2 http-500" in out and "2 nan-logprob" in out
        state = json.loads((isolated_cache / "batch" / "batch.json").read_text())
        first = state["batches"][0]["lines"]
        stored = Cache().get_many([x["custom_id"] for x in first])
        assert len(stored) == 38
        failed = {x["custom_id"] for x in first} - set(stored)
        assert _plan_new(srv, "ultimatum", "fair", "choice-probs") == (4, 4)
        assert main(["batch", "submit", *args]) == 0
        assert capsys.readouterr().out.startswith("4 requests, 38 already cached")
        state = json.loads((isolated_cache / "batch" / "batch.json").read_text())
        assert {x["custom_id"] for x in state["batches"][1]["lines"]} == failed
        assert main(["batch", "collect"]) == 0
        assert capsys.readouterr().out.startswith("stored 4, failed 0")
        code = main(["run", "--offline", *args, "--out", str(tmp_path / "r")])
    assert code == 0, capsys.readouterr().err


def test_a_written_file_round_trips_with_vllm_run_batch_output(tmp_path, capsys):
    with FakeOpenAIBatchServer(people) as srv:
        args = _args(srv, "ultimatum", "fair", "sample")
        batch = tmp_path / "batch.jsonl"
        assert main(["batch", "submit", *args, "--write", str(batch),
                     "--out", str(tmp_path / "b")]) == 0
        assert "written to" in capsys.readouterr().out
        assert srv.uploads == 0 and not srv.batches and srv.requests == 0  # nothing sent
        lines = [json.loads(x) for x in batch.read_text().splitlines()]
        assert len(lines) == 84 and len({x["custom_id"] for x in lines}) == 84
        assert {(x["method"], x["url"]) for x in lines} == {("POST", "/v1/chat/completions")}
        assert all(x["body"]["model"] == "gpt-4o" and x["body"]["temperature"] == 1.0
                   for x in lines)
        # What `vllm run-batch -i batch.jsonl -o results.jsonl` writes.
        results = tmp_path / "results.jsonl"
        results.write_text("".join(json.dumps({
            "id": f"vllm-{i}", "custom_id": x["custom_id"],
            "response": {"status_code": 200, "request_id": f"vllm-batch-{i}",
                         "body": srv.completion(x["body"])}, "error": None}) + "\n"
            for i, x in enumerate(lines)))
        assert main(["batch", "status", "--out", str(tmp_path / "b")]) == 0
        assert "not sent" in capsys.readouterr().out
        assert main(["batch", "collect", "--out", str(tmp_path / "b"), "--file",
                     str(results)]) == 0
        assert capsys.readouterr().out.startswith("stored 84, failed 0")
        code = main(["run", "--offline", *args, "--out", str(tmp_path / "r")])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["experiments"]["ultimatum-v2"]["diagnostics"]["draws"] == 84


def test_draws_sharing_a_request_share_a_line_that_fills_every_draws_key(tmp_path, capsys):
    with FakeOpenAIBatchServer(people) as srv:
        args = [*_args(srv, "ultimatum", "fair", "sample", samples=3),
                "--draws-per-request", "3"]
        said = cycle(args, capsys)
        assert requests_of(said[0]) == 42  # 42 cells, 3 draws each with n=3
        assert {b["n"] for b in srv.batch_bodies} == {3}
        assert main(["run", "--offline", *args, "--out", str(tmp_path / "r")]) == 0
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["experiments"]["ultimatum-v2"]["diagnostics"]["draws"] == 126


def test_replies_without_log_probabilities_are_not_cached_and_say_what_to_do(tmp_path,
                                                                             capsys):
    with FakeOpenAIBatchServer(people, logprobs_supported=False) as srv:
        args = _args(srv, "ultimatum", "fair", "choice-probs")
        assert main(["batch", "submit", *args]) == 0
        assert main(["batch", "collect"]) == 0
        out = capsys.readouterr().out
        assert "stored 0, failed 42" in out and "42 no-logprobs" in out
        assert "submit with --method sample" in out
        assert main(["batch", "submit", *args]) == 0  # nothing was cached: all asked again
        assert requests_of(capsys.readouterr().out) == 42


def test_more_requests_than_one_batch_holds_go_as_several_collected_together(
        tmp_path, capsys, monkeypatch):
    from subrational.batch import providers

    monkeypatch.setitem(providers.LIMITS, "openai", 20)
    with FakeOpenAIBatchServer(people, polls=1) as srv:
        args = _args(srv, "ultimatum", "fair", "choice-probs")
        assert main(["batch", "submit", *args]) == 0
        assert "sent as openai batches" in capsys.readouterr().out
        assert sorted(b["request_counts"]["total"] for b in srv.batches.values()) == \
            [2, 20, 20]
        assert main(["batch", "status"]) == 0
        assert "0 of 42 answered, 0 failed; not ended" in capsys.readouterr().out
        assert main(["batch", "collect"]) == 0
        assert capsys.readouterr().out.startswith("stored 42, failed 0")
        assert main(["run", "--offline", *args, "--out", str(tmp_path / "r")]) == 0
