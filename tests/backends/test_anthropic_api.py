"""The anthropic backend against a real Messages API server on 127.0.0.1, through the SDK."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("anthropic")

from anthropic_server import FakeAnthropicServer  # noqa: E402
from subrational.backends.anthropic_api import AnthropicBackend  # noqa: E402
from subrational.backends.base import (  # noqa: E402
    FailedCall,  # noqa: E402
    GenerateRequest,
    Message,
    Prompt,
    ScoreRequest,
    completed_results,
)
from subrational.backends.registry import create_backend  # noqa: E402
from subrational.cache import Cache, CachedBackend  # noqa: E402
from subrational.elicitation.parsing import parse_answer  # noqa: E402
from subrational.errors import (  # noqa: E402
    BackendError,
    ConfigError,
    LogprobsUnavailableError,
    MissingCredentialsError,
    UsageError,
)

KEY = "sk-ant-test"
SYSTEM = "You are a person who cares a great deal about fairness. Imagine the game below."


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


def requests(n: int = 1, *, temperature: float = 1.0, options=("Accept", "Reject")):
    listed = " or ".join(reversed(options))  # the prompt lists them in another order
    return [GenerateRequest(Prompt((Message("system", SYSTEM),
                                    Message("user", f"Offer {i}. End with \"Answer: X\", where X "
                                                    f"is one of: {listed}."))),
                            temperature=temperature, max_tokens=160, seed=i, options=options)
            for i in range(n)]


def backend(srv, **options) -> AnthropicBackend:
    options = {"base_url": srv.base_url, "retry_backoff": 0.001, "notify": lambda line: None,
               **options}
    return AnthropicBackend("claude-test", **options)


def test_a_request_has_the_system_text_apart_marked_for_the_prompt_cache():
    with FakeAnthropicServer() as srv:
        [text] = backend(srv).generate(requests())
        [body], [headers] = srv.bodies, srv.headers
    assert parse_answer(text, ["Accept", "Reject"]).option in (0, 1)
    assert body["system"] == [{"type": "text", "text": SYSTEM,
                               "cache_control": {"type": "ephemeral"}}]
    assert [m["role"] for m in body["messages"]] == ["user"]  # no system role in messages
    assert body["model"] == "claude-test" and body["max_tokens"] == 160
    assert "temperature" not in body and "seed" not in body  # 1 is the API's default; no seed
    assert headers["anthropic-version"] and KEY in (headers.get("x-api-key"),
                                                    headers.get("authorization", "")[7:])
    assert "tools" not in body  # plain text by default


def test_prompt_caching_can_be_turned_off():
    with FakeAnthropicServer() as srv:
        backend(srv, prompt_cache=False).generate(requests())
    assert srv.bodies[0]["system"] == [{"type": "text", "text": SYSTEM}]


def test_usage_with_cache_writes_and_reads_flows_to_last_usage_and_totals():
    with FakeAnthropicServer(min_cache_tokens=10) as srv:  # the system text is 15 words
        b = backend(srv, max_concurrency=1)
        b.generate(requests(3))
        first = b.last_usage()
        b.generate(requests(1))
        second = b.last_usage()
    prompt, answer = 15 + 14, 9  # words: system + user; "Weighing ... \nAnswer: X"
    assert first == [{"input_tokens": prompt, "cached_input_tokens": c, "output_tokens": answer,
                      "reasoning_tokens": 0} for c in (0, 15, 15)]  # written once, then read
    assert second == [{"input_tokens": prompt, "cached_input_tokens": 15,
                       "output_tokens": answer, "reasoning_tokens": 0}]
    assert b.usage_totals() == {"input_tokens": 4 * prompt, "cached_input_tokens": 45,
                                "output_tokens": 4 * answer, "reasoning_tokens": 0, "calls": 4}


def test_no_key_is_one_line_before_any_call_and_offline_needs_none(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-other")  # another provider's key is not used
    with FakeAnthropicServer() as srv:
        with pytest.raises(MissingCredentialsError) as err:
            backend(srv)
        assert srv.requests == 0
        assert "ANTHROPIC_API_KEY" in str(err.value) and "\n" not in str(err.value)
        backend(srv, offline=True)  # a replay from the cache needs no key


def test_the_key_is_never_shown(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret-4242")
    with FakeAnthropicServer() as srv:  # expects another key: 401
        url = srv.base_url.replace("http://", "http://alice:pw-99@")
        b = AnthropicBackend("claude-test", base_url=url)
        with pytest.raises(MissingCredentialsError) as err:
            b.generate(requests())
    shown = " ".join([str(err.value), repr(b), str(b.fingerprint()), b.describe()])
    assert "HTTP 401" in str(err.value) and "ANTHROPIC_API_KEY" in str(err.value)
    assert "sk-ant-secret-4242" not in shown and "pw-99" not in shown and "alice" not in shown
    assert b.fingerprint() == {"backend": "anthropic", "model": "claude-test",
                               "base_url": srv.base_url}
    assert b.describe() == "anthropic:claude-test"


def test_overloaded_and_rate_limited_then_answered_is_retried_and_counted():
    with FakeAnthropicServer(fail_first=[429, 529, 529]) as srv:
        b = backend(srv)
        [text] = b.generate(requests())
        assert srv.requests == 4
    assert text.endswith(("Answer: Accept", "Answer: Reject"))
    assert b.retry_counts() == {"http-429": 1, "http-529": 2}


def test_retry_after_is_honoured():
    with FakeAnthropicServer(fail_first=[529], retry_after="1") as srv:
        t0 = time.perf_counter()
        backend(srv, retry_backoff=0.001).generate(requests())
        waited = time.perf_counter() - t0
    assert waited >= 0.95  # the server's 1 s, not the back-off's 1 ms


def test_overloaded_to_the_end_is_one_line():
    with FakeAnthropicServer(fail_first=[529] * 3) as srv:
        with pytest.raises(BackendError) as err:
            backend(srv, max_retries=2).generate(requests())
    assert "HTTP 529 (overloaded) 3 times" in str(err.value) and "\n" not in str(err.value)


def _fails_on(offer: str, fault: str):
    return lambda body, attempt: fault if f"Offer {offer}." in str(body["messages"]) else None


def test_a_persistent_500_on_one_request_keeps_the_others(tmp_path):
    cache = Cache(tmp_path / "c.sqlite")
    with FakeAnthropicServer(fault_if=_fails_on("2", "http-500")) as srv:
        with pytest.raises(BackendError) as err:  # the backend alone raises, keeping the rest
            backend(srv, max_retries=2).generate(requests(5))
        assert "HTTP 500 (server error) 3 times" in str(err.value)
        assert sorted(completed_results(err.value)) == [0, 1, 3, 4]
        cached = CachedBackend(backend(srv, max_retries=2), cache)
        got = cached.generate(requests(5))  # through the cache: one failed call
        assert srv.injected == {"http-500": 6}
        assert [isinstance(g, FailedCall) for g in got] == [False, False, True, False, False]
        assert "HTTP 500 (server error) 3 times" in got[2].reason
        assert len(cache) == 4 and cached.stats.calls == 4 and cached.stats.failed == 1
        srv.fault_if, before = None, srv.requests  # the next run asks only for what failed
        texts = CachedBackend(backend(srv), cache).generate(requests(5))
        assert srv.requests == before + 1 and "Offer 2." in str(srv.bodies[-1]["messages"])
    assert len(texts) == 5 and len(cache) == 5


@pytest.mark.parametrize(("fault", "kind"), [("no-content", "no-content"),
                                             ("empty-text", "empty-content"),
                                             ("invalid-json", "invalid-json"),
                                             ("html-body", "non-json-body")])
def test_a_reply_that_is_no_answer_is_retried(fault, kind):
    with FakeAnthropicServer(fault_if=lambda body, attempt: fault if attempt < 2 else None) as srv:
        b = backend(srv)
        [text] = b.generate(requests())
    assert b.retry_counts() == {kind: 2}
    assert parse_answer(text, ["Accept", "Reject"]).option in (0, 1)


def test_a_reply_that_is_never_an_answer_is_never_cached(tmp_path):
    cache = Cache(tmp_path / "c.sqlite")
    with FakeAnthropicServer(fault_if=_fails_on("1", "empty-text")) as srv:
        cached = CachedBackend(backend(srv, max_retries=3), cache)
        got = cached.generate(requests(3))
        assert srv.injected == {"empty-text": 4}
    assert isinstance(got[1], FailedCall)
    assert "not an answer 4 times" in got[1].reason and "nothing of it was cached" in \
        got[1].reason
    stored = cache.get_many([cached._generate_key(r) for r in requests(3)])
    assert len(stored) == 2 and all(v["text"].strip() for v in stored.values())
    # The billed tokens of the attempts that were no answer are counted all the same.
    usage = cached.backend.last_usage()
    assert usage[1]["input_tokens"] == 4 * usage[0]["input_tokens"] > 0
    assert cached.stats.paid["input_tokens"] == 6 * usage[0]["input_tokens"]


def test_structured_answers_come_through_the_forced_tool_and_parse():
    with FakeAnthropicServer() as srv:
        b = backend(srv, structured=True)
        texts = b.generate(requests(6))
        body = srv.bodies[0]
    assert body["tool_choice"] == {"type": "tool", "name": "answer"}
    [tool] = body["tools"]
    schema = tool["input_schema"]
    assert schema["required"] == ["reasoning", "answer"]
    assert schema["properties"]["answer"]["enum"] == ["Reject", "Accept"]  # the prompt's order
    for text in texts:
        reasoning, last = text.rsplit("\n", 1)
        assert reasoning == "Weighing it up as this person would."
        assert parse_answer(text, ["Accept", "Reject"]).option == \
            ["Accept", "Reject"].index(last.removeprefix("Answer: "))
    assert b.fingerprint()["structured"] == "tool"  # a structured answer is another cache entry


def test_structured_answers_fall_back_to_the_text_without_the_tool_call():
    with FakeAnthropicServer(ignore_tools=True) as srv:
        [text] = backend(srv, structured=True).generate(requests())
    assert parse_answer(text, ["Accept", "Reject"]).option in (0, 1)
    assert "tools" in srv.bodies[0]


def test_extended_thinking_adds_its_budget_and_counts_its_tokens():
    with FakeAnthropicServer(thinking_tokens=300) as srv:
        b = backend(srv, thinking_budget=2048)
        [text] = b.generate(requests())
        body = srv.bodies[0]
        with pytest.raises(UsageError, match="temperature 1 only"):
            b.generate(requests(temperature=0.7))
        assert srv.requests == 1  # refused before any call
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["max_tokens"] == 2048 + 160 and "temperature" not in body
    assert text.endswith(("Answer: Accept", "Answer: Reject"))  # the thinking block left out
    [usage] = b.last_usage()
    assert usage["reasoning_tokens"] == 300 and usage["output_tokens"] == 300 + 9
    assert b.fingerprint()["thinking_budget"] == 2048


@pytest.mark.parametrize(("options", "says"), [
    ({"thinking_budget": 1000}, "thinking_budget=1000 is out of range"),
    ({"thinking_budget": 2048, "structured": True}, "choose one of structured and thinking"),
    ({"max_concurrency": 0}, "max_concurrency=0 is out of range"),
    ({"base_url": "api.anthropic.com"}, "has no http:// or https:// scheme"),
])
def test_bad_options_are_one_line(options, says):
    with pytest.raises(ConfigError, match=says):
        AnthropicBackend("claude-test", **options)


def test_a_temperature_other_than_1_goes_in_the_body_and_is_checked():
    with FakeAnthropicServer() as srv:
        b = backend(srv)
        b.generate(requests(temperature=0.7))
        assert srv.bodies[0]["temperature"] == 0.7
        with pytest.raises(UsageError, match="between 0 and 1"):
            b.generate(requests(temperature=1.5))
        assert srv.requests == 1
    with FakeAnthropicServer(rejects_temperature=True) as srv:
        with pytest.raises(UsageError, match="refuses the temperature .*leave --temperature"):
            backend(srv).generate(requests(temperature=0.7))
        assert srv.requests == 1  # a 400 is not retried
        backend(srv).generate(requests())  # at 1 none is sent, which such a model accepts


def test_scoring_is_refused_before_any_call():
    with FakeAnthropicServer() as srv:
        b = backend(srv)
        request = ScoreRequest(requests()[0].prompt, ("Accept", "Reject"))
        with pytest.raises(LogprobsUnavailableError) as err:
            b.score([request])
        assert srv.requests == 0
    assert "Messages API has none" in err.value.evidence
    assert not b.capabilities.logprobs and b.score([]) == []


def test_concurrency_is_bounded():
    with FakeAnthropicServer(delay=0.1) as srv:
        backend(srv, max_concurrency=3).generate(requests(12))
    assert 2 <= srv.max_in_flight <= 3


def test_a_timeout_is_retried_announced_and_then_one_line():
    lines: list[str] = []
    with FakeAnthropicServer(delay=1.0) as srv:
        b = backend(srv, timeout=0.2, max_retries=1, notify=lines.append)
        with pytest.raises(BackendError, match="did not answer within 0.2 s, 2 times"):
            b.generate(requests())
    assert b.retry_counts() == {"timeout": 1}
    assert lines == [f"the server at {srv.base_url} has not answered in 0.2 s; retrying "
                     "(1 of 1)..."]


def test_an_unknown_model_is_a_usage_error():
    with FakeAnthropicServer(models=("claude-real",)) as srv:
        with pytest.raises(UsageError, match="model 'claude-test' not found .*HTTP 404"):
            backend(srv).generate(requests())


def test_the_base_url_is_the_api_root(monkeypatch):
    with FakeAnthropicServer() as srv:
        for url in (srv.base_url + "/v1", srv.base_url + "/"):  # both reach /v1/messages
            backend(srv, base_url=url).generate(requests())
        monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.base_url)
        assert AnthropicBackend("claude-test").base_url == srv.base_url
        assert srv.requests == 2
    monkeypatch.delenv("ANTHROPIC_BASE_URL")
    assert AnthropicBackend("claude-test").base_url == "https://api.anthropic.com"


def test_the_registry_builds_it_and_refuses_options_it_does_not_take():
    b = create_backend("anthropic:claude-test", shared={"max_concurrency": 5, "batch_size": 5,
                                                         "offline": False, "timeout": 9.0})
    assert isinstance(b, AnthropicBackend) and b.max_concurrency == 5 and b.timeout == 9.0
    with pytest.raises(ConfigError, match="takes no --dtype"):
        create_backend("anthropic:claude-test", dtype="float32")
