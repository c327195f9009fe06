"""A real OpenAI-compatible HTTP server on 127.0.0.1 for backend tests.

It speaks the chat-completions JSON schema over a socket, so tests exercise the official SDK end
to end (HTTP, retries, status codes) rather than a mocked client. Its behaviour comes from a
Python ``handler(messages) -> {token: probability}`` giving the next-token distribution.

Example::

    with FakeOpenAIServer(handler=lambda m: {"Accept": 0.7, " Reject": 0.3}) as srv:
        backend = OpenAIBackend("fake-model", base_url=srv.base_url)

Fault injection (``faults=..., fault_rate=...``) is deterministic: whether attempt ``k`` of a
request is answered with a fault, and which, is drawn from ``random.Random`` seeded with
``(fault_seed, request body, k)``, so the same requests meet the same faults in any arrival
order, and only the first ``faults_per_request`` attempts of a request can fail.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FAULTS", "FakeOpenAIServer", "Handler"]

#: Fault kinds the server can inject. Some apply to scoring calls only (log-probabilities) or
#: to sampling calls only (empty content); a request draws among the kinds that apply to it.
FAULTS = ("nan-logprobs", "null-logprob", "empty-choices", "null-logprobs", "empty-content",
          "invalid-json", "empty-body", "html-body", "hang", "http-500", "http-503", "http-429")
_SCORE_ONLY = {"nan-logprobs", "null-logprob", "null-logprobs"}
_SAMPLE_ONLY = {"empty-content"}

#: messages -> next-token distribution (token text -> probability).
Handler = Callable[[list[dict[str, Any]]], dict[str, float]]


def _default_handler(messages: list[dict[str, Any]]) -> dict[str, float]:
    return {"Accept": 0.6, " Reject": 0.3, "Acc": 0.1}


class FakeOpenAIServer:
    """Threaded OpenAI-compatible server; use as a context manager.

    Args:
        handler: Next-token distribution for a conversation.
        fail_first: Answer the first this many requests with HTTP 429.
        retry_after_ms: ``retry-after-ms`` sent with each 429 (the SDK honours it; ``Retry-After:
            0`` alone would make it fall back to its own half-second back-off).
        logprobs_supported: When false, never return ``logprobs`` (like many servers).
        require_key: When set, answer 401 unless ``Authorization: Bearer <require_key>``.
        models: Known model ids; other ids get 404. ``None`` accepts any id.
        delay: Seconds each request sleeps, so that concurrency can be observed.
        reject_logprobs: Answer requests that ask for log-probabilities with an HTTP 400 that
            says so (as some servers do).
        faults: Fault kinds to inject (a subset of :data:`FAULTS`).
        fault_rate: Probability that an attempt of a request meets a fault.
        fault_seed: Seed of the fault draws.
        faults_per_request: Only the first this many attempts of a request can meet a fault.
        fault_first: The first this many chat requests (by arrival) meet a fault, cycling
            through ``faults`` (``fault_rate`` is then not used).
        fault_if: ``body -> fault kind or None``, for a fault tied to one prompt (overrides
            the draws).
        hang_seconds: How long a ``hang`` fault sleeps before answering.

    Attributes:
        requests: Requests received (429s and errors included).
        max_in_flight: Most requests being handled at the same time.
        bodies: JSON bodies of the chat-completion requests, in arrival order.
        injected: Faults injected, by kind.
        authorizations: ``Authorization`` headers received, in arrival order.
    """

    def __init__(self, handler: Handler = _default_handler, *, fail_first: int = 0,
                 retry_after_ms: int = 5, logprobs_supported: bool = True,
                 require_key: str | None = None, models: tuple[str, ...] | None = None,
                 delay: float = 0.0, reject_logprobs: bool = False,
                 faults: Sequence[str] = (), fault_rate: float = 0.0, fault_seed: int = 0,
                 faults_per_request: int = 2, fault_first: int = 0,
                 fault_if: Callable[[dict[str, Any]], str | None] | None = None,
                 hang_seconds: float = 3.0) -> None:
        unknown = set(faults) - set(FAULTS)
        assert not unknown, f"unknown fault kinds {unknown}; choose from {FAULTS}"
        self.handler = handler
        self.fail_first = fail_first
        self.retry_after_ms = retry_after_ms
        self.logprobs_supported = logprobs_supported
        self.require_key = require_key
        self.models = models
        self.delay = delay
        self.reject_logprobs = reject_logprobs
        self.faults = tuple(faults)
        self.fault_rate = fault_rate
        self.fault_seed = fault_seed
        self.faults_per_request = faults_per_request
        self.fault_first = fault_first
        self.fault_if = fault_if
        self._chats = 0
        self.hang_seconds = hang_seconds
        self.injected: Counter[str] = Counter()
        self.authorizations: list[str | None] = []
        self._attempts: Counter[str] = Counter()
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._httpd = _Server(("127.0.0.1", 0), _RequestHandler)
        self._httpd.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None and self._thread is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # --- request accounting -------------------------------------------------------------

    def _begin(self) -> int:
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.requests

    def _end(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def fault_for(self, body: dict[str, Any]) -> str | None:
        """The fault this attempt of ``body`` meets, if any (counted in :attr:`injected`)."""
        kind = self._choose_fault(body)
        if kind is not None:
            with self._lock:
                self.injected[kind] += 1
        return kind

    def _choose_fault(self, body: dict[str, Any]) -> str | None:
        if self.fault_if is not None:
            return self.fault_if(body)
        if self.fault_first and self.faults:
            with self._lock:
                self._chats += 1
                number = self._chats
            return self.faults[(number - 1) % len(self.faults)] if number <= self.fault_first \
                else None
        if not self.faults or self.fault_rate <= 0:
            return None
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            attempt = self._attempts[key]
            self._attempts[key] += 1
        if attempt >= self.faults_per_request:
            return None
        rng = random.Random(f"{self.fault_seed}|{key}|{attempt}")
        scoring = body.get("max_tokens") == 1
        kinds = [k for k in self.faults
                 if k not in (_SAMPLE_ONLY if scoring else _SCORE_ONLY)]
        if not kinds or rng.random() >= self.fault_rate:
            return None
        return rng.choice(kinds)

    # --- responses ----------------------------------------------------------------------

    def completion(self, body: dict[str, Any], fault: str | None = None) -> dict[str, Any]:
        """The chat-completion response for a request body, spoilt by a content ``fault``."""
        dist = self.handler(body.get("messages", []))
        ranked = sorted(dist.items(), key=lambda kv: -kv[1])
        if body.get("max_tokens") == 1:
            # Scoring call: the greedy next token is the whole reply.
            token, content, finish = ranked[0][0], ranked[0][0], "length"
        else:
            rng = random.Random(body.get("seed") or 0)
            token = rng.choices([t for t, _ in ranked], weights=[p for _, p in ranked])[0]
            content, finish = f"Thinking.\nAnswer: {token.strip()}", "stop"
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": finish,
            "logprobs": None,
        }
        if body.get("logprobs") and self.logprobs_supported:
            top = [_token_logprob(t, p) for t, p in ranked[: int(body.get("top_logprobs") or 0)]]
            entry = _token_logprob(token, dist[token])
            choice["logprobs"] = {"content": [{**entry, "top_logprobs": top}], "refusal": None}
            if fault == "nan-logprobs":
                for item in [entry, *top]:
                    item["logprob"] = math.nan
            elif fault == "null-logprob":
                for item in [entry, *top]:
                    item["logprob"] = None
            elif fault == "null-logprobs":
                choice["logprobs"] = None
        if fault == "empty-content":
            choice["message"]["content"] = ""
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        completion_tokens = len(content.split())
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "system_fingerprint": "fp_fake",
            "choices": [] if fault == "empty-choices" else [choice],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }

    def model_list(self) -> dict[str, Any]:
        """The ``GET /v1/models`` response."""
        ids = self.models or ("fake-model",)
        return {"object": "list", "data": [
            {"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in ids]}


def _token_logprob(token: str, prob: float) -> dict[str, Any]:
    return {"token": token, "logprob": math.log(prob) if prob > 0 else -9999.0,
            "bytes": list(token.encode("utf-8"))}


def _error(message: str, kind: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


#: Malformed 200 bodies: (content type, bytes).
_RAW_BODIES: dict[str, tuple[str, bytes]] = {
    "invalid-json": ("application/json", b'{"id": "chatcmpl-1", "choices": [{"ind'),
    "empty-body": ("application/json", b""),
    "html-body": ("text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
}


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops connections that a client opens at once
    # (they then time out on connect); real servers queue far more.
    request_queue_size = 128


class _RequestHandler(BaseHTTPRequestHandler):
    server: Any  # ThreadingHTTPServer with a ``fake`` attribute

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass  # keep test output clean

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._serve(lambda fake: (200, fake.model_list()) if self.path == "/v1/models"
                    else (404, _error(f"no route {self.path}", "invalid_request_error", None)))

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self._serve(lambda fake: self._chat(fake, body))

    def _chat(self, fake: FakeOpenAIServer, body: dict[str, Any]) -> tuple[int, Any]:
        if self.path != "/v1/chat/completions":
            return 404, _error(f"no route {self.path}", "invalid_request_error", None)
        with fake._lock:
            fake.bodies.append(body)
        model = body.get("model")
        if fake.models is not None and model not in fake.models:
            return 404, _error(f"The model `{model}` does not exist or you do not have access "
                               "to it.", "invalid_request_error", "model_not_found")
        if fake.reject_logprobs and body.get("logprobs"):
            return 400, _error("logprobs is not supported by this server",
                               "invalid_request_error", None)
        fault = fake.fault_for(body)
        if fault == "hang":
            time.sleep(fake.hang_seconds)  # the client has given up by now
        elif fault in ("http-500", "http-503", "http-429"):
            return int(fault[5:]), _error("Injected server fault.", "server_error", None)
        elif fault in _RAW_BODIES:
            return 200, _RAW_BODIES[fault]
        return 200, fake.completion(body, fault)

    def _serve(self, respond: Callable[[FakeOpenAIServer], tuple[int, Any]]) -> None:
        fake: FakeOpenAIServer = self.server.fake
        number = fake._begin()
        fake.authorizations.append(self.headers.get("Authorization"))
        try:
            time.sleep(fake.delay)
            headers: dict[str, str] = {}
            if number <= fake.fail_first:
                status, payload = 429, _error("Rate limit reached; slow down.",
                                              "requests", "rate_limit_exceeded")
                headers = {"Retry-After": "0", "retry-after-ms": str(fake.retry_after_ms)}
            elif fake.require_key is not None and (
                    self.headers.get("Authorization") != f"Bearer {fake.require_key}"):
                status, payload = 401, _error("Incorrect API key provided.",
                                              "invalid_request_error", "invalid_api_key")
            else:
                status, payload = respond(fake)
            self._send(status, payload, headers)
        finally:
            fake._end()

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        if isinstance(payload, tuple):  # a raw (content type, bytes) body
            kind, data = payload
        else:
            kind, data = "application/json", json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a hang fault outlived its timeout)
