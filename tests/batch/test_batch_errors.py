"""Bad input to ``subrational batch`` is one line and exit code 2, with nothing stored."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("openai")

from batch_support import SMALL, people, requests_of  # noqa: E402

from batch_servers import FakeOpenAIBatchServer  # noqa: E402
from subrational.cli import main  # noqa: E402
from subrational.config import build_config  # noqa: E402
from subrational.plan import make_plan  # noqa: E402


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def _args(srv):
    return ["ultimatum", "--persona", "fair", "--model", "openai:gpt-4o", "--base-url",
            srv.base_url, *SMALL]


def _one_line(capsys, code, needle):
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith("subrational: error: ") and needle in err, err


def test_no_state_file(tmp_path, capsys):
    _one_line(capsys, main(["batch", "status", "--out", str(tmp_path)]), "no batch in")
    _one_line(capsys, main(["batch", "collect", "--out", str(tmp_path)]),
              "run `subrational batch submit ...` first")


def test_a_state_file_that_is_not_one(tmp_path, capsys):
    (tmp_path / "batch.json").write_text('{"format": "something else"}')
    _one_line(capsys, main(["batch", "status", "--out", str(tmp_path)]),
              "is not a subrational batch state")


@pytest.mark.parametrize("model", ["scripted:uniform", "transformers:smollm2"])
def test_a_backend_without_a_batch_api(tmp_path, capsys, model):
    code = main(["batch", "submit", "ultimatum", "--model", model, "--out", str(tmp_path)])
    _one_line(capsys, code, "has no batch API")
    assert not (tmp_path / "batch.json").exists()


def test_an_unknown_batch_id(tmp_path, capsys):
    with FakeOpenAIBatchServer(people) as srv:
        assert main(["batch", "submit", *_args(srv), "--out", str(tmp_path)]) == 0
        state = json.loads((tmp_path / "batch.json").read_text())
        state["batches"][-1]["batch_ids"] = ["batch_nope"]
        (tmp_path / "batch.json").write_text(json.dumps(state))
        capsys.readouterr()
        _one_line(capsys, main(["batch", "status", "--out", str(tmp_path)]),
                  "knows no batch 'batch_nope'")
        _one_line(capsys, main(["batch", "collect", "--out", str(tmp_path)]),
                  "knows no batch 'batch_nope'")


def test_collect_before_the_batch_ended_and_submit_before_collect(tmp_path, capsys):
    with FakeOpenAIBatchServer(people, polls=5) as srv:
        assert main(["batch", "submit", *_args(srv), "--out", str(tmp_path)]) == 0
        capsys.readouterr()
        _one_line(capsys, main(["batch", "collect", "--out", str(tmp_path)]),
                  "collect it once it has ended")
        _one_line(capsys, main(["batch", "submit", *_args(srv), "--out", str(tmp_path)]),
                  "is not collected yet")
        assert len(srv.batches) == 1


def test_a_malformed_results_file_stores_nothing(tmp_path, capsys):
    with FakeOpenAIBatchServer(people) as srv:
        written = tmp_path / "in.jsonl"
        assert main(["batch", "submit", *_args(srv), "--write", str(written),
                     "--out", str(tmp_path)]) == 0
        [first, *_] = [json.loads(x) for x in written.read_text().splitlines()]
        good = json.dumps({"custom_id": first["custom_id"], "response": {
            "status_code": 200, "body": srv.completion(first["body"])}, "error": None})
        results = tmp_path / "out.jsonl"
        results.write_text(good + "\n<html>oops</html>\n")
        capsys.readouterr()
        _one_line(capsys, main(["batch", "collect", "--out", str(tmp_path), "--file",
                                str(results)]), "out.jsonl, line 2: not a batch result")
        _one_line(capsys, main(["batch", "collect", "--out", str(tmp_path), "--file",
                                str(tmp_path / "absent.jsonl")]), "cannot read the results")
        _one_line(capsys, main(["batch", "collect", "--out", str(tmp_path)]),
                  "the batch was only written")
        assert main(["batch", "submit", *_args(srv), "--write", str(written),
                     "--out", str(tmp_path)]) == 0
    assert requests_of(capsys.readouterr().out) == 42  # the good line was not stored either


def test_a_batch_that_may_cost_more_than_max_cost_is_not_sent(tmp_path, capsys):
    with FakeOpenAIBatchServer(people) as srv:
        code = main(["batch", "submit", *_args(srv), "--max-cost", "0.0001",
                     "--out", str(tmp_path)])
        _one_line(capsys, code, "--max-cost 0.0001: this batch may cost up to $0.00")
        assert not srv.batches and srv.uploads == 0
        assert main(["batch", "submit", *_args(srv), "--max-cost", "1",
                     "--out", str(tmp_path)]) == 0
        assert len(srv.batches) == 1
        config = build_config({"experiments": ["ultimatum"], "personas": ["fair"],
                               "model": "openai:gpt-4o", "base_url": srv.base_url,
                               "paraphrases": 1})
        full = make_plan(config).total_cost()
    out = capsys.readouterr().out
    low, high = map(float, re.findall(r"\$([\d.]+)", out.splitlines()[1]))
    assert full is not None and full[0] > 0
    assert (low, high) == pytest.approx((full[0] / 2, full[1] / 2), abs=1e-4)  # half price
