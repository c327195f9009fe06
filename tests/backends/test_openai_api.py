"""The openai backend against a real local HTTP server speaking the OpenAI schema."""

from __future__ import annotations

import asyncio
import json
import math
import socket
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("openai")

from subrational.backends.base import (  # noqa: E402
    GenerateRequest,
    Message,
    Prompt,
    ScoreRequest,
)
from subrational.backends.openai_api import OpenAIBackend, option_logprobs  # noqa: E402
from subrational.backends.registry import create_backend  # noqa: E402
from subrational.errors import (  # noqa: E402
    BackendError,
    ConfigError,
    LogprobsUnavailableError,
    MissingCredentialsError,
    UsageError,
)

# The server helper lives in tests/, which is not a package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from openai_server import FakeOpenAIServer  # noqa: E402

SECRET = "sk-test-secret-0123456789"
OPTIONS = ("Accept", "Reject")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def prompt(text: str = "Offer: 3 of 10. Accept or Reject?") -> Prompt:
    return Prompt((Message("system", "You are a student."), Message("user", text)))


def score_requests(n: int = 1, options: tuple[str, ...] = OPTIONS) -> list[ScoreRequest]:
    return [ScoreRequest(prompt(f"Offer: {i} of 10."), options) for i in range(n)]


def backend(srv: FakeOpenAIServer, **kw) -> OpenAIBackend:
    return OpenAIBackend("fake-model", base_url=srv.base_url, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_score_sums_tokens_that_start_each_option() -> None:
    dist = {"Accept": 0.5, " Reject": 0.2, "Acc": 0.1, "Re": 0.05, "Maybe": 0.1, " ": 0.05}
    with FakeOpenAIServer(lambda messages: dist) as srv:
        [result] = backend(srv).score(score_requests(options=("Accept", "Reject", "Wait")))
        body = srv.bodies[0]
    assert math.exp(result.logprobs[0]) == pytest.approx(0.6)
    assert math.exp(result.logprobs[1]) == pytest.approx(0.25)
    assert result.logprobs[2] == -math.inf
    assert result.detail == {"scored": "first-token"}
    assert (body["max_tokens"], body["temperature"], body["logprobs"]) == (1, 0, True)
    assert body["top_logprobs"] == 20
    assert body["messages"][1]["content"] == "Offer: 0 of 10."


def test_score_follows_the_prompt_and_keeps_request_order() -> None:
    def handler(messages):
        offer = int(messages[-1]["content"].split()[1])
        return {"Accept": (offer + 1) / 20, "Reject": 1 - (offer + 1) / 20}

    with FakeOpenAIServer(handler, delay=0.01) as srv:
        results = backend(srv, max_concurrency=4).score(score_requests(8))
    for offer, result in enumerate(results):
        assert math.exp(result.logprobs[0]) == pytest.approx((offer + 1) / 20)


def test_ambiguous_or_case_different_tokens_are_not_counted() -> None:
    lp = option_logprobs([("A", math.log(0.3)), ("accept", math.log(0.2)),
                          ("Appr", math.log(0.1))], ["Accept", "Approve"])
    assert lp[0] == -math.inf
    assert math.exp(lp[1]) == pytest.approx(0.1)


def test_rate_limited_requests_are_retried() -> None:
    with FakeOpenAIServer(fail_first=2) as srv:
        [result] = backend(srv, max_retries=3).score(score_requests())
        assert srv.requests == 3
    assert math.exp(result.logprobs[0]) == pytest.approx(0.7)


def test_rate_limit_after_retries_is_one_clear_error() -> None:
    with FakeOpenAIServer(fail_first=100) as srv, pytest.raises(BackendError) as info:
        backend(srv, max_retries=1).score(score_requests())
    assert "429" in str(info.value) and "127.0.0.1" in str(info.value)
    assert srv.requests == 2


def test_server_without_logprobs_raises_logprobs_unavailable() -> None:
    with FakeOpenAIServer(logprobs_supported=False) as srv:
        with pytest.raises(LogprobsUnavailableError, match="--method sample"):
            backend(srv).score(score_requests())
        # The sample method still works on such a server.
        assert backend(srv).generate([GenerateRequest(prompt())])[0].startswith("Thinking.")


def test_missing_key_without_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MissingCredentialsError, match="OPENAI_API_KEY"):
        OpenAIBackend("gpt-4o-mini")


def test_local_server_needs_no_key_and_env_base_url_is_used(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        b = OpenAIBackend("fake-model")
        assert b.score(score_requests())[0].logprobs[1] == pytest.approx(math.log(0.3))
        assert b.fingerprint()["base_url"] == srv.base_url


def test_wrong_key_is_a_clear_credentials_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with FakeOpenAIServer(require_key="sk-the-right-one") as srv:
        with pytest.raises(MissingCredentialsError) as info:
            backend(srv).score(score_requests())
        assert srv.requests == 1  # 401 is not retried
    assert "rejected the key in OPENAI_API_KEY" in str(info.value)
    assert SECRET not in str(info.value)


def test_unknown_model_names_the_model() -> None:
    with FakeOpenAIServer(models=("fake-model",)) as srv:
        with pytest.raises(UsageError, match="'no-such-model' not found"):
            OpenAIBackend("no-such-model", base_url=srv.base_url).score(score_requests())


def test_server_not_running_fails_fast() -> None:
    b = OpenAIBackend("m", base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=0)
    start = time.monotonic()
    with pytest.raises(BackendError, match="cannot reach .* is the server running"):
        b.score(score_requests())
    assert time.monotonic() - start < 5


def test_concurrency_is_bounded() -> None:
    with FakeOpenAIServer(delay=0.05) as srv:
        results = backend(srv, max_concurrency=3).score(score_requests(20))
        assert len(results) == 20 and srv.requests == 20
        assert 1 < srv.max_in_flight <= 3


def test_generate_returns_texts_and_passes_seed_and_temperature() -> None:
    dist = {"Accept": 0.5, "Reject": 0.5}
    reqs = [GenerateRequest(prompt(), temperature=0.7, max_tokens=64, seed=s) for s in range(12)]
    with FakeOpenAIServer(lambda messages: dist) as srv:
        b = backend(srv)
        texts = b.generate(reqs)
        again = b.generate(reqs)  # a second sync call gets a fresh client in a fresh loop
        bodies = srv.bodies[:12]
    assert texts == again
    assert {t.splitlines()[-1] for t in texts} == {"Answer: Accept", "Answer: Reject"}
    assert sorted(body["seed"] for body in bodies) == list(range(12))  # arrival order varies
    assert {(body["temperature"], body["max_tokens"]) for body in bodies} == {(0.7, 64)}


def test_sync_call_works_inside_a_running_event_loop() -> None:
    with FakeOpenAIServer() as srv:
        b = backend(srv)

        async def inside() -> list[str]:
            return b.generate([GenerateRequest(prompt(), seed=1)])

        assert asyncio.run(inside())[0].startswith("Thinking.")


def test_key_never_leaks_into_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with FakeOpenAIServer(require_key=SECRET) as srv:
        b = backend(srv)
        assert b.generate([GenerateRequest(prompt())])[0].startswith("Thinking.")
        assert srv.requests == 1
    for text in (repr(b), json.dumps(b.fingerprint()), b.describe(), str(vars(b))):
        assert SECRET not in text
    # A server of unknown kind is sent OpenAI's neutral sampling settings, which are part of
    # the identity (its own defaults may differ); its listing adds nothing to the identity.
    assert b.fingerprint() == {"backend": "openai", "model": "fake-model",
                               "base_url": srv.base_url,
                               "sampling": {"frequency_penalty": 0.0, "presence_penalty": 0.0,
                                            "top_p": 1.0}}


def test_fingerprint_strips_credentials_from_url() -> None:
    b = OpenAIBackend("m", base_url="https://user:pa55@example.com:8443/v1/?token=x",
                      offline=True)  # offline: the fingerprint asks no server
    assert b.fingerprint()["base_url"] == "https://example.com:8443/v1"
    assert "pa55" not in repr(b)


def test_registry_builds_the_backend_and_validates_options() -> None:
    with FakeOpenAIServer() as srv:
        b = create_backend("openai:fake-model", base_url=srv.base_url, max_concurrency=2)
        assert isinstance(b, OpenAIBackend)
        assert b.capabilities.max_concurrency == 2 and b.capabilities.logprobs
        assert b.describe() == "openai:fake-model"
    with pytest.raises(ConfigError, match="top_logprobs"):
        OpenAIBackend("m", base_url="http://x/v1", top_logprobs=50)
