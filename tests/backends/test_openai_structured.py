"""Structured answers, n draws per request and token usage, against a real local server."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("openai")

from subrational.backends.base import (  # noqa: E402
    USAGE_KEYS,
    GenerateRequest,
    Message,
    Prompt,
    ScoreRequest,
)
from subrational.backends.openai_api import OpenAIBackend  # noqa: E402
from subrational.backends.replies import CUT_OFF, structured_text  # noqa: E402
from subrational.backends.scripted import ScriptedBackend  # noqa: E402
from subrational.cache import Cache, CachedBackend  # noqa: E402
from subrational.elicitation.parsing import parse_answer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from openai_server import FakeOpenAIServer  # noqa: E402

OPTIONS = ("Accept", "Reject")
#: Mostly a token that is no option: free text then often fails to parse, a schema cannot.
STRAY = {"Accept": 0.2, "Reject": 0.2, "Maybe": 0.6}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def prompt(i: int = 0, system: str = "You are a student.") -> Prompt:
    return Prompt((Message("system", system), Message("user", f"Offer {i}?")))


def draws(n: int, *, same_prompt: bool = False) -> list[GenerateRequest]:
    return [GenerateRequest(prompt(0 if same_prompt else i), seed=i, options=OPTIONS)
            for i in range(n)]


def make(srv: FakeOpenAIServer, model: str = "m", notices: list[str] | None = None,
         **kw) -> OpenAIBackend:
    sink = notices if notices is not None else []
    return OpenAIBackend(model, base_url=srv.base_url, retry_backoff=0.001,
                         notify=sink.append, **kw)


def test_structured_answers_send_the_options_as_an_enum_and_parse_strictly():
    with FakeOpenAIServer(lambda m: STRAY, json_schema=True) as srv:
        structured = make(srv, "gpt-4o-mini", answers="structured").generate(draws(20))
        schema = srv.bodies[0]["response_format"]["json_schema"]["schema"]
        free = make(srv, "gpt-4o-mini", answers="text").generate(draws(20))
        assert "response_format" not in srv.bodies[-1]
    assert schema["properties"]["answer"]["enum"] == list(OPTIONS)
    assert list(schema["properties"]) == ["reasoning", "answer"]  # reasoning first
    assert all(t.startswith("Thinking.\nAnswer: ") for t in structured)
    assert all(parse_answer(t, OPTIONS).option is not None for t in structured)
    unparsed = sum(parse_answer(t, OPTIONS).option is None for t in free)
    assert unparsed >= 6  # P(Maybe) = 0.6 of 20 free draws; 0 of 20 structured ones


def test_a_server_that_refuses_the_schema_gets_text_once_and_for_all():
    notices: list[str] = []
    with FakeOpenAIServer(reject_response_format=True) as srv:
        b = make(srv, "m", notices, answers="structured", max_concurrency=1)
        texts = b.generate(draws(3))
        bodies = list(srv.bodies)
    assert "response_format" in bodies[0] and all("response_format" not in x for x in bodies[1:])
    assert len(bodies) == 4 and all(t.startswith("Thinking.\nAnswer: ") for t in texts)
    assert notices == ["the server refuses structured answers (response_format): answers are "
                       "asked for as text from now on, read by the strict parser"]
    assert b.diagnostics()["requests"]["answers"] == "text"


def test_a_server_that_ignores_the_schema_is_read_as_text():
    with FakeOpenAIServer() as srv:  # takes response_format and answers free text
        texts = make(srv, answers="structured").generate(draws(2))
    assert all(t.startswith("Thinking.\nAnswer: ") for t in texts)


@pytest.mark.parametrize(("content", "text", "option"), [
    ('{"reasoning": "Too low.", "answer": "Reject"}', "Too low.\nAnswer: Reject", 1),
    ('{"reasoning": "Hm.", "answer": "Maybe"}', "Hm.\nAnswer: Maybe", None),
    ('{"reasoning": "It is fair, so I wi', f"It is fair, so I wi\n{CUT_OFF}", None),
    ('{"reasoning": "Fair.\\nAccept', f"Fair.\nAccept\n{CUT_OFF}", None),
    ('{"reasoning": "a \\"q\\" b", "answ', f'a "q" b\n{CUT_OFF}', None),
    ("Thinking.\nAnswer: Accept", "Thinking.\nAnswer: Accept", 0),
    ('["Accept"]', '["Accept"]', 0),  # not an object: handed on as it came
])
def test_structured_text_is_what_the_strict_parser_reads(content, text, option):
    assert structured_text(content) == text
    assert parse_answer(text, OPTIONS).option == option


def test_n_draws_share_a_request_and_the_cache_keeps_one_entry_per_draw(tmp_path):
    with FakeOpenAIServer(lambda m: {"Accept": 0.5, "Reject": 0.5}, usage_details=True) as srv:
        b = make(srv, draws_per_request=3, answers="text")
        cached = CachedBackend(b, Cache(tmp_path / "c.sqlite"))
        requests = draws(6, same_prompt=True) + draws(2)[1:]  # 6 alike, 1 other prompt
        texts = cached.generate(requests)
        ns = sorted(body.get("n", 1) for body in srv.bodies)
        seeds = sorted(body["seed"] for body in srv.bodies)
        assert cached.generate(requests) == texts and len(srv.bodies) == 3  # all cached
    assert ns == [1, 3, 3] and seeds == [0, 1, 3]  # a group is seeded by its first draw
    assert len(cached.cache) == 7 and len(texts) == 7
    stored = cached.cache.get_records([cached._generate_key(r) for r in requests])
    usage = [stored[cached._generate_key(r)].usage for r in requests]
    assert len(usage) == 7 and b.usage_totals()["calls"] == 3
    assert [u["output_tokens"] > 0 for u in usage] == [True, False, False, True, False, False,
                                                       True]  # on each request's first draw
    assert "draws_per_request" in b.fingerprint()


def test_a_server_refusing_n_is_asked_one_draw_at_a_time():
    with FakeOpenAIServer(reject_fields=("n",)) as srv:
        b = make(srv, draws_per_request=4, max_concurrency=1)
        texts = b.generate(draws(4, same_prompt=True))
        assert len(texts) == 4 and [body.get("n") for body in srv.bodies] == [4] + [None] * 4


def test_usage_is_per_request_in_order_with_cached_and_reasoning_tokens():
    with FakeOpenAIServer(usage_details=True) as srv:
        b = make(srv, max_concurrency=1)
        b.score([ScoreRequest(prompt(0, "A long shared system prompt here."), OPTIONS),
                 ScoreRequest(prompt(1, "A long shared system prompt here."), OPTIONS)])
        first, second = b.last_usage()
        b.generate(draws(1))
    assert set(first) == set(USAGE_KEYS)
    assert first["input_tokens"] == second["input_tokens"] == 8  # 6 + 2 words
    assert (first["cached_input_tokens"], second["cached_input_tokens"]) == (0, 6)
    assert first["output_tokens"] == 1 and first["reasoning_tokens"] == 0
    totals = b.usage_totals()
    assert totals["calls"] == 3 and totals["cached_input_tokens"] == 6
    assert totals["input_tokens"] == 8 + 8 + 6  # "You are a student." + "Offer 0?"
    assert len(b.last_usage()) == 1  # the last call only


def test_usage_keys_are_all_there_when_the_server_reports_no_details():
    with FakeOpenAIServer() as srv:  # usage without prompt or completion details
        b = make(srv)
        b.generate(draws(2))
    assert all(set(u) == set(USAGE_KEYS) for u in b.last_usage())
    assert [(u["cached_input_tokens"], u["reasoning_tokens"]) for u in b.last_usage()] == \
        [(0, 0), (0, 0)]
    assert all(u["input_tokens"] == 6 for u in b.last_usage())


def test_backends_without_an_api_report_zeros_per_request():
    scripted = ScriptedBackend(probs_fn=lambda persona, state: [0.5, 0.5])
    meta = Prompt(prompt().messages, meta={"persona": None, "state": None, "actions": OPTIONS})
    scripted.score([ScoreRequest(meta, OPTIONS)] * 3)
    assert scripted.last_usage() == [dict.fromkeys(USAGE_KEYS, 0)] * 3
    assert scripted.usage_totals() == {**dict.fromkeys(USAGE_KEYS, 0), "calls": 0}
    assert json.dumps(scripted.diagnostics()) == "{}"


@pytest.mark.parametrize(("model", "owned_by", "structured"), [
    ("o3-mini", "fake", True),  # a reasoning model that takes the schema: sampling is its path
    ("gpt-4o-mini", "fake", False),  # scorable: its sampled answers keep the free text
    ("local-model", "vllm", True),  # vLLM and SGLang enforce the schema
    ("local-model", "llamacpp", False),
])
def test_auto_answers_are_structured_where_they_help(model, owned_by, structured):
    with FakeOpenAIServer(models=(model,), owned_by=owned_by) as srv:
        b = make(srv, model)
        b.fingerprint()
        b.generate(draws(1))
        assert ("response_format" in srv.bodies[0]) is structured
