"""The openai backend under injected faults: retried, counted, never cached, one clear line."""

from __future__ import annotations

import math
import re
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("openai")

from subrational.backends.base import (  # noqa: E402
    FailedCall,  # noqa: E402
    GenerateRequest,
    Message,
    Prompt,
    ScoreRequest,
    completed_results,
)
from subrational.backends.openai_api import OpenAIBackend  # noqa: E402
from subrational.cache import Cache, CachedBackend  # noqa: E402
from subrational.errors import BackendError, ConfigError, LogprobsUnavailableError  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from openai_server import FakeOpenAIServer  # noqa: E402

OPTIONS = ("Accept", "Reject")
#: Server fault -> the retry kind the backend counts it as.
SCORE_FAULTS = {"nan-logprobs": "nan-logprob", "null-logprob": "null-logprob",
                "empty-choices": "empty-choices", "null-logprobs": "no-logprobs",
                "invalid-json": "invalid-json", "empty-body": "empty-body",
                "html-body": "non-json-body", "http-500": "http-500", "http-503": "http-503",
                "http-429": "http-429"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def requests(n: int = 1) -> list[ScoreRequest]:
    return [ScoreRequest(Prompt((Message("user", f"Offer: {i} of 10."),)), OPTIONS)
            for i in range(n)]


def backend(srv: FakeOpenAIServer, **kw) -> OpenAIBackend:
    kw.setdefault("retry_backoff", 0.001)
    return OpenAIBackend("fake-model", base_url=srv.base_url, **kw)


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and len(text) < 400 and "Traceback" not in text, text
    return text


@pytest.mark.parametrize("fault", sorted(SCORE_FAULTS))
def test_each_fault_on_a_first_attempt_is_retried_and_the_answer_is_unchanged(fault) -> None:
    with FakeOpenAIServer() as srv:
        clean = backend(srv).score(requests(3))
    with FakeOpenAIServer(faults=[fault], fault_rate=1.0, faults_per_request=1) as srv:
        b = backend(srv)
        assert b.score(requests(3)) == clean
        assert srv.requests == 6 and srv.injected == {fault: 3}
    assert b.retry_counts() == {SCORE_FAULTS[fault]: 3}


@pytest.mark.parametrize("fault", ["empty-content", "empty-choices", "invalid-json", "html-body"])
def test_sampling_faults_are_retried_too(fault) -> None:
    reqs = [GenerateRequest(Prompt((Message("user", "Offer?"),)), seed=s) for s in range(3)]
    with FakeOpenAIServer() as srv:
        clean = backend(srv).generate(reqs)
    with FakeOpenAIServer(faults=[fault], fault_rate=1.0, faults_per_request=1) as srv:
        b = backend(srv)
        assert b.generate(reqs) == clean
    assert all(t.startswith("Thinking.") for t in clean)
    assert sum(b.retry_counts().values()) == 3


def test_a_nan_reply_is_never_cached_and_is_asked_again(tmp_path) -> None:
    cache = Cache(tmp_path / "c.sqlite")
    with FakeOpenAIServer(faults=["nan-logprobs"], fault_rate=1.0, faults_per_request=1) as srv:
        cached = CachedBackend(backend(srv), cache)
        [scores] = cached.score(requests())
        assert srv.requests == 2
    assert math.exp(scores.logprobs[0]) == pytest.approx(0.7)  # Accept + Acc
    assert cached.stats.retries == {"nan-logprob": 1} and cached.stats.total_retries == 1
    assert len(cache) == 1 and cache.get_many(list(cache_keys(cache)))  # the valid answer only
    [stored] = cache.get_many(list(cache_keys(cache))).values()
    assert stored["logprobs"][0] == pytest.approx(math.log(0.7))


def cache_keys(cache: Cache) -> list[str]:
    return [k for (k,) in cache._db.execute("SELECT key FROM calls")]


def test_a_server_that_always_sends_nan_is_one_failed_call_and_nothing_is_cached(tmp_path) -> None:
    cache = Cache(tmp_path / "c.sqlite")
    with FakeOpenAIServer(faults=["nan-logprobs"], fault_rate=1.0, faults_per_request=99) as srv:
        with pytest.raises(BackendError) as info:  # the backend alone still raises
            backend(srv, max_retries=2).score(requests())
        cached = CachedBackend(backend(srv, max_retries=2), cache)
        got = cached.score(requests())  # through the cache: one failed call, the run goes on
        assert srv.requests == 6
    text = one_line(info.value)
    assert "3 times" in text and "nan" in text.lower() and "not an answer" in text
    assert isinstance(got[0], FailedCall) and "not an answer" in got[0].reason
    assert cached.stats.failed == 1 and cached.failures[0]["kind"] == "nan-logprob"
    assert len(cache) == 0


@pytest.mark.parametrize("fault", ["invalid-json", "empty-body", "html-body"])
def test_malformed_bodies_are_retried_then_one_line(fault) -> None:
    with FakeOpenAIServer(faults=[fault], fault_rate=1.0, faults_per_request=99) as srv:
        with pytest.raises(BackendError) as info:
            backend(srv, max_retries=2).score(requests())
        assert srv.requests == 3
    text = one_line(info.value)
    assert "200 reply that is not an answer 3 times" in text
    assert {"invalid-json": "not valid JSON", "empty-body": "an empty body",
            "html-body": "text/html"}[fault] in text


def test_finished_calls_of_a_batch_with_one_failure_are_cached(tmp_path) -> None:
    cache = Cache(tmp_path / "c.sqlite")

    def broken(body):
        return "http-500" if "Offer: 2 " in body["messages"][-1]["content"] else None

    with FakeOpenAIServer(fault_if=broken, delay=0.01) as srv:
        cached = CachedBackend(backend(srv, max_retries=1, max_concurrency=8), cache)
        got = cached.score(requests(5))  # one failed call, the others answered
        failed = [i for i, g in enumerate(got) if isinstance(g, FailedCall)]
        assert len(failed) == 1 and "HTTP 500" in got[failed[0]].reason
        assert srv.requests == 4 + 2  # four answers, the bad prompt twice
        assert len(cache) == 4 and cached.stats.calls == 4 and cached.stats.failed == 1
        srv.fault_if = None  # the server recovers: only the missing call is made
        again = CachedBackend(backend(srv), cache)
        again.score(requests(5))
        assert srv.requests == 6 + 1 and again.stats.hits == 4


def test_a_failed_batch_carries_its_finished_results() -> None:
    def broken(body):
        return "empty-body" if "Offer: 0 " in body["messages"][-1]["content"] else None

    with FakeOpenAIServer(fault_if=broken) as srv, pytest.raises(BackendError) as info:
        backend(srv, max_retries=0).score(requests(3))
    assert sorted(completed_results(info.value)) == [1, 2]


def test_one_reply_without_logprobs_does_not_switch_to_sampling() -> None:
    with FakeOpenAIServer(faults=["null-logprobs"], fault_first=2, delay=0.01) as srv:
        b = backend(srv, max_concurrency=8)
        results = b.score(requests(8))
    assert all(math.exp(r.logprobs[0]) == pytest.approx(0.7) for r in results)
    assert b.retry_counts() == {"no-logprobs": 2}


def test_a_server_that_never_sends_logprobs_is_judged_on_evidence() -> None:
    with FakeOpenAIServer(logprobs_supported=False) as srv:
        b = backend(srv, max_concurrency=1)
        with pytest.raises(LogprobsUnavailableError) as info:
            b.score(requests(6))
        sent = srv.requests
        with pytest.raises(LogprobsUnavailableError):
            b.score(requests(2))  # the verdict is kept: no more requests
        assert srv.requests == sent
    # One prompt asked NO_LOGPROBS_EVIDENCE = 3 times, no log-probabilities in any reply.
    assert sent == 3
    assert info.value.evidence.startswith("0 of 3 replies from http://127.0.0.1:")
    assert info.value.evidence.endswith("carried log-probabilities, over 1 different prompt")


def test_concurrent_prompts_without_logprobs_decide_after_three_asked_twice() -> None:
    with FakeOpenAIServer(logprobs_supported=False, delay=0.02) as srv:
        with pytest.raises(LogprobsUnavailableError) as info:
            backend(srv, max_concurrency=4).score(requests(8))
        # A verdict after three prompts lacked them twice: far fewer than 8 prompts x 6 tries.
        assert 6 <= srv.requests < 16
    assert re.match(r"0 of \d+ replies from http://127.0.0.1:\d+/v1 carried log-probabilities, "
                    r"over [34] different prompts$", info.value.evidence), info.value.evidence


def test_a_400_that_names_logprobs_falls_back_at_once() -> None:
    with FakeOpenAIServer(reject_logprobs=True) as srv:
        with pytest.raises(LogprobsUnavailableError) as info:
            backend(srv).score(requests())
        assert srv.requests == 1
    assert "HTTP 400" in info.value.evidence and "logprobs" in info.value.evidence


def test_a_timeout_is_announced_once_retried_and_counted() -> None:
    lines: list[str] = []
    with FakeOpenAIServer(faults=["hang"], fault_first=2, hang_seconds=1.5) as srv:
        b = backend(srv, timeout=0.3, notify=lines.append, max_concurrency=1)
        results = b.score(requests(2))
    assert len(results) == 2 and b.retry_counts() == {"timeout": 2}
    assert lines == [f"the server at {srv.base_url} has not answered in 0.3 s; "
                     "retrying (1 of 5)..."]


def test_a_server_that_never_answers_fails_with_the_timeout_flag_named() -> None:
    with FakeOpenAIServer(faults=["hang"], fault_rate=1.0, faults_per_request=99,
                          hang_seconds=2) as srv:
        start = time.monotonic()
        with pytest.raises(BackendError) as info:
            backend(srv, timeout=0.2, max_retries=1, notify=lambda line: None).score(requests())
        assert time.monotonic() - start < 1.5
    text = one_line(info.value)
    assert "within 0.2 s, 2 times" in text and "--timeout" in text


def test_https_to_a_plain_http_port_names_the_protocol_mismatch() -> None:
    with FakeOpenAIServer() as srv:
        url = srv.base_url.replace("http://", "https://")
        with pytest.raises(BackendError) as info:
            OpenAIBackend("m", base_url=url, retry_backoff=0.001).score(requests())
        assert srv.requests == 0
    text = one_line(info.value)
    assert "TLS handshake" in text and f"try {srv.base_url}" in text
    assert "is the server running" not in text


def test_a_port_that_speaks_another_protocol_is_named() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        with pytest.raises(BackendError) as info:
            OpenAIBackend("m", base_url=url, max_retries=1, retry_backoff=0.001).score(requests())
    finally:
        listener.close()
    text = one_line(info.value)
    assert "without an HTTP answer" in text and "another protocol" in text


@pytest.mark.parametrize(("url", "says"), [
    ("127.0.0.1:8000/v1", "no http:// or https:// scheme; write http://127.0.0.1:8000/v1"),
    ("localhost:8000/v1", "no http:// or https:// scheme"),
    ("http://[::1/v1", "is not a valid URL"),
    ("ftp://example.com/v1", "uses the scheme 'ftp'"),
    ("http://example.com:99999/v1", "is not a valid URL"),
    ("http:///v1", "names no host"),
])
def test_bad_base_urls_fail_when_the_backend_is_made(url, says) -> None:
    with pytest.raises(ConfigError) as info:
        OpenAIBackend("m", base_url=url)
    assert says in one_line(info.value)


def test_a_password_in_a_bad_url_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        OpenAIBackend("m", base_url="user:s3cret@127.0.0.1:8000/v1")
    assert "s3cret" not in str(info.value)


def test_credentials_in_the_url_are_sent_as_basic_auth_and_never_shown() -> None:
    with FakeOpenAIServer() as srv:
        url = srv.base_url.replace("http://", "http://alice:s3cret@")
        b = OpenAIBackend("fake-model", base_url=url)
        b.score(requests())
        assert srv.authorizations == ["Basic YWxpY2U6czNjcmV0"]  # base64 of alice:s3cret
    for text in (repr(b), str(b.fingerprint()), b.describe()):
        assert "s3cret" not in text and "alice" not in text
