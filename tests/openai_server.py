"""A real OpenAI-compatible HTTP server on 127.0.0.1 for backend tests.

It speaks the chat-completions JSON schema over a socket, so tests exercise the official SDK end
to end (HTTP, retries, status codes) rather than a mocked client. Its behaviour comes from a
Python ``handler(messages) -> {token: probability}`` giving the next-token distribution.

Example::

    with FakeOpenAIServer(handler=lambda m: {"Accept": 0.7, " Reject": 0.3}) as srv:
        backend = OpenAIBackend("fake-model", base_url=srv.base_url)
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeOpenAIServer", "Handler"]

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

    Attributes:
        requests: Requests received (429s and errors included).
        max_in_flight: Most requests being handled at the same time.
        bodies: JSON bodies of the chat-completion requests, in arrival order.
    """

    def __init__(self, handler: Handler = _default_handler, *, fail_first: int = 0,
                 retry_after_ms: int = 5, logprobs_supported: bool = True,
                 require_key: str | None = None, models: tuple[str, ...] | None = None,
                 delay: float = 0.0) -> None:
        self.handler = handler
        self.fail_first = fail_first
        self.retry_after_ms = retry_after_ms
        self.logprobs_supported = logprobs_supported
        self.require_key = require_key
        self.models = models
        self.delay = delay
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
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _RequestHandler)
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

    # --- responses ----------------------------------------------------------------------

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        """The chat-completion response for a request body."""
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
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        completion_tokens = len(content.split())
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "system_fingerprint": "fp_fake",
            "choices": [choice],
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

    def _chat(self, fake: FakeOpenAIServer, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.path != "/v1/chat/completions":
            return 404, _error(f"no route {self.path}", "invalid_request_error", None)
        with fake._lock:
            fake.bodies.append(body)
        model = body.get("model")
        if fake.models is not None and model not in fake.models:
            return 404, _error(f"The model `{model}` does not exist or you do not have access "
                               "to it.", "invalid_request_error", "model_not_found")
        return 200, fake.completion(body)

    def _serve(self, respond: Callable[[FakeOpenAIServer], tuple[int, dict[str, Any]]]) -> None:
        fake: FakeOpenAIServer = self.server.fake
        number = fake._begin()
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

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
