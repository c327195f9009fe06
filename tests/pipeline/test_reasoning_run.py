"""``subrational run`` against a server that behaves like an OpenAI reasoning model."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("openai")

from test_openai_run import human_like, people_like  # noqa: E402

from openai_server import FakeOpenAIServer  # noqa: E402
from subrational.backends.capabilities import DEFAULT_REASONING_BUDGET  # noqa: E402
from subrational.cli import main  # noqa: E402

SMALL = ["--paraphrases", "1", "--episodes", "300", "--bootstrap", "20", "--no-progress"]
STUDIES = {"ultimatum": "fair", "marshmallow": "age-4", "double_or_nothing": "stake-100",
           "procrastination": "gpa-3.5"}
REFUSED = {"max_tokens", "temperature", "top_p", "presence_penalty", "frequency_penalty",
           "logprobs", "top_logprobs"}


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def test_four_studies_sampled_from_a_reasoning_model_make_a_report(tmp_path, capsys):
    personas = [arg for name in STUDIES.values() for arg in ("--persona", name)]
    with FakeOpenAIServer(people_like, reasoning=True, json_schema=True,
                          models=("o3-mini",)) as srv:
        code = main(["run", *STUDIES, "--model", "openai:o3-mini", "--base-url", srv.base_url,
                     "--method", "sample", "--samples", "2", *personas, *SMALL,
                     "--out", str(tmp_path / "r")])
        err = capsys.readouterr().err
        assert code == 0, err
        bodies = list(srv.bodies)
    # Only what a reasoning model takes was ever sent: not one request was refused.
    assert bodies and all(not REFUSED & set(body) for body in bodies)
    assert {body["max_completion_tokens"] for body in bodies} == {160 + DEFAULT_REASONING_BUDGET}
    assert all(body["response_format"]["type"] == "json_schema" for body in bodies)
    assert "refuses" not in err
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert len(summary["experiments"]) == 4
    for vid, exp in summary["experiments"].items():
        assert exp["method"] == "sample", vid
        assert exp["diagnostics"]["draws"] > 0, vid
        assert exp["diagnostics"]["parse_failure_rate"] == 0, vid  # the schema's enum
    report = (tmp_path / "r" / "report.html").read_text()
    assert all(e["title"] in report for e in summary["experiments"].values())
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["model"]["answers"] == "json-schema"
    assert manifest["calls"]["model_calls"] == len(bodies)


def test_an_unknown_reasoning_model_falls_back_to_sampling_and_the_report_says_why(tmp_path,
                                                                                  capsys):
    with FakeOpenAIServer(human_like, reasoning=True) as srv:
        code = main(["run", "ultimatum", "--model", "openai:acme-thinker", "--base-url",
                     srv.base_url, "--persona", "fair", "--samples", "2", *SMALL,
                     "--out", str(tmp_path / "r")])
        err = capsys.readouterr().err
        assert code == 0, err
        refused = [b for b in srv.bodies if "max_tokens" in b]
    assert len(refused) <= 16  # the scoring requests in flight when the first refusal came
    assert err.count("acme-thinker refuses max_tokens, as reasoning models do") == 1
    exp = json.loads((tmp_path / "r" / "summary.json").read_text())["experiments"]["ultimatum-v2"]
    assert exp["method"] == "sample"
    [note] = [n for n in exp["notes"] if "fell back" in n]
    assert "acme-thinker cannot be scored: it refuses max_tokens" in note
    assert note in (tmp_path / "r" / "report.html").read_text()


def test_a_model_the_server_does_not_serve_stops_the_run_before_any_call(tmp_path, capsys):
    with FakeOpenAIServer(human_like, models=("SmolLM2-135M-Instruct",),
                          owned_by="llamacpp") as srv:
        code = main(["run", "ultimatum", "--model", "openai:gpt-4o", "--base-url",
                     srv.base_url, "--persona", "fair", *SMALL, "--out", str(tmp_path / "r")])
        assert srv.requests == 0
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err == (f"subrational: error: the server at {srv.base_url} does not serve 'gpt-4o'; "
                   "it lists SmolLM2-135M-Instruct: use --model openai:<one of them>\n")
    assert not (tmp_path / "r").exists()  # refused before the run directory was claimed
