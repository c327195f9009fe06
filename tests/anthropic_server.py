"""A real Anthropic Messages API server on 127.0.0.1 for the anthropic backend's tests.

It speaks enough of ``POST /v1/messages`` over a socket for the official ``anthropic`` SDK to be
exercised end to end (HTTP, headers, status codes, error bodies). It checks a request the way the
real API does where a mistake of ours would otherwise go unnoticed: the key (``x-api-key``, or
``Authorization: Bearer`` as SDK 2 sends it), the
``anthropic-version`` header, no ``system`` role inside ``messages``, a temperature between 0 and
1, extended thinking only at temperature 1 with ``max_tokens`` above its budget and without a
forced tool. Errors come in Anthropic's shape, ``{"type": "error", "error": {"type", "message"},
"request_id"}``; 429 and 529 (overloaded) carry ``retry-after``.

Answers come from a Python ``handler(messages) -> {option: probability}``, called with the
conversation in chat form (the system text first, as ``{"role": "system"}``), so handlers
written for :mod:`openai_server` serve here too. The API takes no seed, so identical bodies are
distinct draws: the ``k``-th answer to a body is drawn with ``random.Random((seed, body, k))``.

Usage is counted in words (one word, one token) and prompt caching is emulated: a system block
marked ``cache_control`` and at least ``min_cache_tokens`` long is written to the cache on its
first request (``cache_creation_input_tokens``) and read on later ones
(``cache_read_input_tokens``); ``input_tokens`` is the rest, as the real API reports it.

Example::

    with FakeAnthropicServer(lambda m: {"Accept": 0.7, "Reject": 0.3}) as srv:
        backend = AnthropicBackend("claude-test", base_url=srv.base_url)
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FAULTS", "FakeAnthropicServer", "Handler", "options_in_question"]

#: Faults ``fault_if`` may name: HTTP errors in Anthropic's shape, and 200 replies that are no
#: answer (no content blocks, a text block that is empty, a body that is not JSON).
FAULTS = ("http-429", "http-500", "http-503", "http-529", "no-content", "empty-text",
          "invalid-json", "html-body")

#: chat messages (system first) -> answer distribution (option -> probability).
Handler = Callable[[list[dict[str, Any]]], dict[str, float]]

_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
                429: "rate_limit_error", 500: "api_error", 503: "api_error",
                529: "overloaded_error"}
_RAW_BODIES: dict[str, tuple[str, bytes]] = {
    "invalid-json": ("application/json", b'{"id": "msg_1", "content": [{"ty'),
    "html-body": ("text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
}


def options_in_question(messages: list[dict[str, Any]]) -> list[str]:
    """The options the sampling prompt lists ("... where X is one of: A, B or C.")."""
    text = str(messages[-1]["content"])
    listed = text.rsplit("one of:", 1)[-1].strip().rstrip(".")
    head, _, last = listed.rpartition(" or ")
    return [w.strip() for w in head.split(",") if w.strip()] + [last.strip()]


def _uniform(messages: list[dict[str, Any]]) -> dict[str, float]:
    options = options_in_question(messages)
    return {o: 1 / len(options) for o in options}


def _error(status: int, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": _ERROR_TYPES.get(status, "api_error"),
                                       "message": message},
            "request_id": f"req_{uuid.uuid4().hex[:20]}"}


def _words(value: Any) -> int:
    return len(json.dumps(value).split()) if not isinstance(value, str) else len(value.split())


class FakeAnthropicServer:
    """Threaded Anthropic Messages server; use as a context manager.

    Args:
        handler: Answer distribution for a conversation (default: uniform over the options the
            sampling prompt lists).
        api_key: The only key accepted (``x-api-key`` or a bearer token); others get 401.
        fail_first: HTTP statuses (429, 529, 500...) for the first requests, by arrival.
        retry_after: ``retry-after`` (seconds) sent with 429 and 529.
        models: Known model ids; others get 404. ``None`` accepts any id.
        delay: Seconds each request sleeps, so that concurrency can be observed.
        fault_if: ``(body, attempt) -> fault or None``, ``attempt`` counting this body's
            requests from 0: one of :data:`FAULTS`.
        ignore_tools: Answer in text even when a tool is forced (as a proxy that drops tools).
        min_cache_tokens: Shortest system block the emulated prompt cache stores.
        thinking_tokens: ``thinking_tokens`` reported when extended thinking is on.
        rejects_temperature: Refuse any ``temperature`` (HTTP 400), as current models do.
        seed: Seed of the draws.

    Attributes:
        requests: Requests received (errors included).
        max_in_flight: Most requests handled at the same time.
        bodies: JSON bodies of the ``/v1/messages`` requests, in arrival order.
        headers: Their headers (lower-cased names), in arrival order.
        injected: Faults and ``fail_first`` statuses sent, by kind.
    """

    def __init__(self, handler: Handler = _uniform, *, api_key: str = "sk-ant-test",
                 fail_first: Sequence[int] = (), retry_after: str = "0",
                 models: tuple[str, ...] | None = None, delay: float = 0.0,
                 fault_if: Callable[[dict[str, Any], int], str | None] | None = None,
                 ignore_tools: bool = False, min_cache_tokens: int = 1024,
                 thinking_tokens: int = 40, rejects_temperature: bool = False,
                 seed: int = 0) -> None:
        self.handler = handler
        self.api_key = api_key
        self.fail_first = list(fail_first)
        self.retry_after = retry_after
        self.models = models
        self.delay = delay
        self.fault_if = fault_if
        self.ignore_tools = ignore_tools
        self.min_cache_tokens = min_cache_tokens
        self.thinking_tokens = thinking_tokens
        self.rejects_temperature = rejects_temperature
        self.seed = seed
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.injected: Counter[str] = Counter()
        self._attempts: Counter[str] = Counter()
        self._answered: Counter[str] = Counter()
        self._cached_prefixes: set[str] = set()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the API root, as ``https://api.anthropic.com``."""
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> FakeAnthropicServer:
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

    # --- one request -------------------------------------------------------------------

    def respond(self, number: int, headers: dict[str, str],
                body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        """(status, payload, extra headers) for request ``number`` (1-based, by arrival)."""
        bearer = headers.get("authorization", "").removeprefix("Bearer ")
        if self.api_key not in (headers.get("x-api-key"), bearer):
            return 401, _error(401, "invalid x-api-key"), {}
        if not headers.get("anthropic-version"):
            return 400, _error(400, "anthropic-version: header is required"), {}
        if number <= len(self.fail_first):
            status = self.fail_first[number - 1]
            with self._lock:
                self.injected[f"http-{status}"] += 1
            return status, _error(status, "Overloaded" if status == 529 else "Injected fault."), \
                {"retry-after": self.retry_after}
        if self.models is not None and body.get("model") not in self.models:
            return 404, _error(404, f"model: {body.get('model')}"), {}
        problem = _invalid_request(body)
        if self.rejects_temperature and "temperature" in body:
            problem = "`temperature` is deprecated for this model."
        if problem:
            return 400, _error(400, problem), {}
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            attempt = self._attempts[key]
            self._attempts[key] += 1
        fault = self.fault_if(body, attempt) if self.fault_if else None
        if fault is not None:
            with self._lock:
                self.injected[fault] += 1
            if fault.startswith("http-"):
                status = int(fault[5:])
                return status, _error(status, "Injected fault."), {"retry-after": self.retry_after}
            if fault in _RAW_BODIES:
                return 200, _RAW_BODIES[fault], {}
        with self._lock:
            draw = self._answered[key]
            self._answered[key] += 1
        return 200, self.message(body, key, draw, fault), {}

    def message(self, body: dict[str, Any], key: str, draw: int,
                fault: str | None = None) -> dict[str, Any]:
        """The Messages API response to ``body``: draw number ``draw`` of its answers."""
        system = _system_text(body.get("system"))
        chat = ([{"role": "system", "content": system}] if system else []) + [
            {"role": m["role"], "content": _content_text(m["content"])} for m in body["messages"]]
        dist = self.handler(chat)
        rng = random.Random(f"{self.seed}|{key}|{draw}")
        choice = rng.choices(list(dist), weights=list(dist.values()))[0]
        reasoning = "Weighing it up as this person would."
        content: list[dict[str, Any]] = []
        if body.get("thinking", {}).get("type") == "enabled":
            content.append({"type": "thinking", "thinking": "Let me think.", "signature": "sig"})
        forced = (body.get("tool_choice") or {}).get("type") == "tool"
        if forced and not self.ignore_tools:
            name = body["tool_choice"]["name"]
            content.append({"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:20]}",
                            "name": name, "input": {"reasoning": reasoning, "answer": choice}})
            stop = "tool_use"
        else:
            content.append({"type": "text", "text": f"{reasoning}\nAnswer: {choice}"})
            stop = "end_turn"
        if fault == "no-content":
            content = []
        elif fault == "empty-text":
            content = [{"type": "text", "text": "  "}]
        return {"id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant",
                "model": body["model"], "content": content, "stop_reason": stop,
                "stop_sequence": None, "usage": self.usage(body, content)}

    def usage(self, body: dict[str, Any], content: list[dict[str, Any]]) -> dict[str, Any]:
        """Token counts in words, with the emulated prompt cache (see the module docstring)."""
        total = _words(_system_text(body.get("system"))) + sum(
            _words(_content_text(m["content"])) for m in body["messages"])
        total += _words(body.get("tools") or "")
        blocks = body.get("system") if isinstance(body.get("system"), list) else []
        marked = [b for b in blocks if isinstance(b, dict) and b.get("cache_control")]
        prefix = _words(_system_text(body.get("system")))
        created = read = 0
        if marked and prefix >= self.min_cache_tokens:
            key = json.dumps([body.get("model"), body.get("tools"), blocks], sort_keys=True)
            with self._lock:
                if key in self._cached_prefixes:
                    read = prefix
                else:
                    self._cached_prefixes.add(key)
                    created = prefix
        out = sum(_words(b.get("text") or b.get("input") or "") for b in content)
        thinking = self.thinking_tokens if body.get("thinking") else 0
        return {"input_tokens": total - created - read, "cache_creation_input_tokens": created,
                "cache_read_input_tokens": read, "output_tokens": out + thinking,
                "output_tokens_details": {"thinking_tokens": thinking}}


def _system_text(system: Any) -> str:
    if isinstance(system, list):
        return "\n\n".join(b.get("text", "") for b in system if isinstance(b, dict))
    return system or ""


def _content_text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return str(content)


def _invalid_request(body: dict[str, Any]) -> str | None:
    """What the real API would refuse in ``body`` (HTTP 400), or None."""
    for field in ("model", "max_tokens", "messages"):
        if field not in body:
            return f"{field}: Field required"
    if any(m.get("role") not in ("user", "assistant") for m in body["messages"]):
        return "messages: roles must be 'user' or 'assistant'; use the top-level system parameter"
    temperature = body.get("temperature")
    if temperature is not None and not 0 <= temperature <= 1:
        return "temperature: range: 0..1"
    thinking = body.get("thinking") or {}
    if thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens", 0)
        if budget < 1024:
            return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
        if body["max_tokens"] <= budget:
            return "`max_tokens` must be greater than `thinking.budget_tokens`"
        if temperature is not None and temperature != 1:
            return "`temperature` may only be set to 1 when thinking is enabled"
        if (body.get("tool_choice") or {}).get("type") in ("tool", "any"):
            return "Thinking may not be enabled when tool_choice forces tool use."
    return None


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default of 5 drops connections opened at once


class _RequestHandler(BaseHTTPRequestHandler):
    server: Any  # ThreadingHTTPServer with a ``fake`` attribute

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        fake: FakeAnthropicServer = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        headers = {k.lower(): v for k, v in self.headers.items()}
        with fake._lock:
            fake.requests += 1
            number = fake.requests
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
            if self.path == "/v1/messages":
                fake.bodies.append(body)
                fake.headers.append(headers)
        try:
            time.sleep(fake.delay)
            if self.path != "/v1/messages":
                self._send(404, _error(404, f"Not found: {self.path}"), {})
            else:
                self._send(*fake.respond(number, headers, body))
        finally:
            with fake._lock:
                fake.in_flight -= 1

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
            pass
