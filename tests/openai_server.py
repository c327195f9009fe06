"""A real OpenAI-compatible HTTP server on 127.0.0.1 for backend tests.

It speaks the chat-completions JSON schema over a socket, so tests exercise the official SDK end
to end (HTTP, retries, status codes) rather than a mocked client. Its behaviour comes from a
Python ``handler(messages) -> {token: probability}`` giving the next-token distribution.

Example::

    with FakeOpenAIServer(handler=lambda m: {"Accept": 0.7, " Reject": 0.3}) as srv:
        backend = OpenAIBackend("fake-model", base_url=srv.base_url)

Modes beyond a plain chat server (all off by default):

* ``reasoning=True``: an OpenAI reasoning model. It refuses ``max_tokens``, a temperature other
  than 1, ``top_p``, penalties and log-probabilities with OpenAI's own HTTP 400 messages (the
  first offending setting, as OpenAI names one at a time), takes ``max_completion_tokens`` and
  ``reasoning_effort``, bills ``reasoning_tokens`` hidden tokens per answer out of the budget
  (an answer cut off by the budget comes back empty with ``finish_reason`` "length") and
  reports them in ``usage.completion_tokens_details``.
* ``local_reasoning=True``: a reasoning model on vLLM or llama.cpp. It takes every setting,
  writes ``reasoning_tokens`` of reasoning before the answer, in ``message.reasoning_content``,
  out of ``max_tokens`` (an answer cut off by it comes back empty with ``finish_reason``
  "length"), and does not count them in ``usage``; its first token is reasoning.
* ``max_context=N``: refuses a budget that does not fit N tokens with vLLM's HTTP 400.
* ``json_schema=True``: honours ``response_format`` of type ``json_schema`` and answers
  ``{"reasoning": ..., "answer": ...}`` with the answer drawn among the schema's enum;
  ``reject_response_format=True`` refuses it with a 400 instead.
* ``max_logprobs=N``: refuses ``top_logprobs`` above N as vLLM's ``--max-logprobs`` does.
* ``reject_fields``: refuses those request fields as OpenAI refuses unknown ones.
* ``models=(...)``: lists those ids at ``GET /models`` (``owned_by``, plus ``model_info`` in
  every entry, e.g. vLLM's ``root`` or llama.cpp's ``meta``); without it ``GET /models`` is a
  404, as on a server that lists nothing. Listings are counted in ``listings``, not in
  ``requests``, and are never faulted.
* ``usage_details=True`` (on in reasoning mode): ``usage`` carries ``prompt_tokens_details``
  (``cached_tokens``: the first message's words when that message was seen before, as a
  prefix cache would) and ``completion_tokens_details``.
* ``rate_window=(K, seconds)``: a provider with a rate limit. It admits K chat requests per
  fixed window of that many seconds and answers the rest with HTTP 429; every reply carries
  OpenAI's ``x-ratelimit-*`` headers: the limit (``announced_rpm`` requests and
  ``announced_tpm`` tokens per minute), the requests remaining in this window and the time
  until it resets (``"0.4s"``). The 429s it sent for the limit are counted in ``limited``.
* ``n``: every server answers ``n`` > 1 with that many choices (the first as with ``n`` = 1).

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
        owned_by: ``owned_by`` of the listed models (``vllm``, ``llamacpp``: a server kind).
        model_info: Extra fields of every listed model.
        reasoning: Behave like an OpenAI reasoning model (module docstring).
        reasoning_tokens: Hidden reasoning tokens per answer at medium effort.
        json_schema: Honour ``response_format`` JSON schemas.
        reject_response_format: Refuse ``response_format`` with HTTP 400.
        max_logprobs: Most ``top_logprobs`` allowed (vLLM's HTTP 400 above it).
        reject_fields: Request fields refused with HTTP 400.
        usage_details: Report cached and reasoning tokens in ``usage``.
        local_reasoning: Behave like a reasoning model on a local server (module docstring).
        max_context: The model's context length in tokens (vLLM's HTTP 400 beyond it).
        rate_window: (requests, seconds) admitted per window, with rate-limit headers.
        announced_rpm: ``x-ratelimit-limit-requests`` in rate-window mode.
        announced_tpm: ``x-ratelimit-limit-tokens`` in rate-window mode.

    Attributes:
        requests: Chat requests received (429s and errors included).
        listings: ``GET /models`` requests received.
        max_in_flight: Most requests being handled at the same time.
        bodies: JSON bodies of the chat-completion requests, in arrival order.
        injected: Faults injected, by kind.
        authorizations: ``Authorization`` headers received, in arrival order.
        arrivals: ``time.monotonic()`` of each chat request's arrival.
        limited: HTTP 429s sent for the rate window.
    """

    def __init__(self, handler: Handler = _default_handler, *, fail_first: int = 0,
                 retry_after_ms: int = 5, logprobs_supported: bool = True,
                 require_key: str | None = None, models: tuple[str, ...] | None = None,
                 delay: float = 0.0, reject_logprobs: bool = False,
                 faults: Sequence[str] = (), fault_rate: float = 0.0, fault_seed: int = 0,
                 faults_per_request: int = 2, fault_first: int = 0,
                 fault_if: Callable[[dict[str, Any]], str | None] | None = None,
                 hang_seconds: float = 3.0, owned_by: str = "fake",
                 model_info: dict[str, Any] | None = None, reasoning: bool = False,
                 reasoning_tokens: int = 48, json_schema: bool = False,
                 reject_response_format: bool = False, max_logprobs: int | None = None,
                 reject_fields: Sequence[str] = (), usage_details: bool = False,
                 local_reasoning: bool = False, max_context: int | None = None,
                 rate_window: tuple[int, float] | None = None, announced_rpm: int = 6000,
                 announced_tpm: int = 10_000_000) -> None:
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
        self.owned_by = owned_by
        self.model_info = dict(model_info or {})
        self.reasoning = reasoning
        self.reasoning_tokens = reasoning_tokens
        self.json_schema = json_schema
        self.reject_response_format = reject_response_format
        self.max_logprobs = max_logprobs
        self.reject_fields = tuple(reject_fields)
        self.usage_details = usage_details or reasoning
        self.local_reasoning = local_reasoning
        self.max_context = max_context
        self.rate_window = rate_window
        self.announced = (announced_rpm, announced_tpm)
        self._window = [0.0, 0]  # start, requests admitted in it
        self.arrivals: list[float] = []
        self.limited = 0
        self.listings = 0
        self._seen_prefixes: set[str] = set()
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

    def admit(self) -> tuple[bool, dict[str, str]]:
        """Rate-window mode: whether this request is admitted, and the headers of the reply."""
        assert self.rate_window is not None
        allowed, seconds = self.rate_window
        with self._lock:
            now = time.monotonic()
            if now - self._window[0] >= seconds:
                self._window[:] = [now, 0]
            admitted = self._window[1] < allowed
            self._window[1] += admitted
            self.limited += not admitted
            reset = max(0.0, self._window[0] + seconds - now)
            remaining = allowed - self._window[1]
        rpm, tpm = self.announced
        return admitted, {"x-ratelimit-limit-requests": str(rpm),
                          "x-ratelimit-remaining-requests": str(remaining),
                          "x-ratelimit-reset-requests": f"{reset:.3f}s",
                          "x-ratelimit-limit-tokens": str(tpm),
                          "x-ratelimit-remaining-tokens": str(tpm),
                          "x-ratelimit-reset-tokens": "0s"}

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
        scoring = _scoring(body)
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
        n = int(body.get("n") or 1)
        hidden = self._hidden_tokens(body)
        choices = [self._choice(body, dist, ranked, i, hidden, fault) for i in range(n)]
        if self.local_reasoning:
            choices = [self._reasoned(body, c) for c in choices]
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        completion_tokens = sum(len(c["message"]["content"].split()) for c in choices) \
            + hidden * n
        usage: dict[str, Any] = {"prompt_tokens": prompt_tokens,
                                 "completion_tokens": completion_tokens,
                                 "total_tokens": prompt_tokens + completion_tokens}
        if self.usage_details:
            first = str((body.get("messages") or [{}])[0].get("content", ""))
            with self._lock:
                cached = len(first.split()) if first in self._seen_prefixes else 0
                self._seen_prefixes.add(first)
            usage["prompt_tokens_details"] = {"cached_tokens": cached}
            usage["completion_tokens_details"] = {"reasoning_tokens": hidden * n}
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "system_fingerprint": "fp_fake",
            "choices": [] if fault == "empty-choices" else choices,
            "usage": usage,
        }

    def _reasoned(self, body: dict[str, Any], choice: dict[str, Any]) -> dict[str, Any]:
        """A choice of a local reasoning model: reasoning first, out of ``max_tokens``."""
        budget = int(body.get("max_tokens") or body.get("max_completion_tokens") or 10**9)
        message = choice["message"]
        answer = message["content"]
        thought = min(budget, self.reasoning_tokens)
        message["reasoning_content"] = " ".join(["think"] * thought)
        if _scoring(body) or budget < self.reasoning_tokens + len(answer.split()):
            message["content"], choice["finish_reason"] = "", "length"
        return choice

    def _hidden_tokens(self, body: dict[str, Any]) -> int:
        if not self.reasoning:
            return 0
        scale = {"none": 0, "minimal": 0.25, "low": 0.5, "medium": 1, "high": 2, "xhigh": 4}
        return int(self.reasoning_tokens * scale.get(body.get("reasoning_effort") or "medium", 1))

    def _choice(self, body: dict[str, Any], dist: dict[str, float],
                ranked: list[tuple[str, float]], index: int, hidden: int,
                fault: str | None) -> dict[str, Any]:
        schema = _answer_schema(body) if self.json_schema else None
        if _scoring(body):
            # Scoring call: the greedy next token is the whole reply.
            token, content, finish = ranked[0][0], ranked[0][0], "length"
        else:
            rng = random.Random(body.get("seed") or 0) if index == 0 else \
                random.Random(f"{body.get('seed') or 0}|{index}")
            allowed = [(t, p) for t, p in ranked
                       if schema is None or t.strip() in schema["enum"]] or ranked
            token = rng.choices([t for t, _ in allowed], weights=[p for _, p in allowed])[0]
            content, finish = f"Thinking.\nAnswer: {token.strip()}", "stop"
            if schema is not None:
                content = json.dumps({"reasoning": "Thinking.", "answer": token.strip()})
        budget = body.get("max_completion_tokens")
        if hidden and isinstance(budget, int) and budget < hidden + len(content.split()):
            content, finish = "", "length"  # the hidden reasoning ate the budget
        choice: dict[str, Any] = {
            "index": index,
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
        return choice

    def refusal(self, body: dict[str, Any]) -> str | None:
        """The HTTP 400 message this server gives ``body``, if it refuses one of its settings."""
        for field in self.reject_fields:
            if field in body:
                return f"Unrecognized request argument supplied: {field}"
        if self.reject_logprobs and body.get("logprobs"):
            return "logprobs is not supported by this server"
        if self.reject_response_format and "response_format" in body:
            kind = body["response_format"].get("type")
            return (f"Invalid parameter: 'response_format' of type '{kind}' is not supported "
                    "with this model.")
        asked = int(body.get("top_logprobs") or 0)
        if self.max_logprobs is not None and body.get("logprobs") and asked > self.max_logprobs:
            return (f"Requested sample logprobs of {asked}, which is greater than max allowed: "
                    f"{self.max_logprobs}")
        budget = body.get("max_tokens") or body.get("max_completion_tokens") or 0
        prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        if self.max_context is not None and budget + prompt > self.max_context:
            return (f"'max_tokens' or 'max_completion_tokens' is too large: {budget}. This "
                    f"model's maximum context length is {self.max_context} tokens and your "
                    f"request has {prompt} input tokens ({budget} > {self.max_context} - "
                    f"{prompt}).")
        if self.reasoning:
            return _reasoning_refusal(body)
        return None

    def model_list(self) -> tuple[int, dict[str, Any]]:
        """The ``GET /v1/models`` response: the listed models, or a 404 without ``models``."""
        with self._lock:
            self.listings += 1
        if self.models is None:
            return 404, _error("no route /v1/models", "invalid_request_error", None)
        return 200, {"object": "list", "data": [
            {"id": m, "object": "model", "created": 0, "owned_by": self.owned_by,
             **self.model_info} for m in self.models]}


def _scoring(body: dict[str, Any]) -> bool:
    return body.get("max_tokens") == 1 or body.get("max_completion_tokens") == 1


def _answer_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The ``answer`` property of a JSON-schema ``response_format``, if the body has one."""
    spec = body.get("response_format") or {}
    if spec.get("type") != "json_schema":
        return None
    schema = spec.get("json_schema", {}).get("schema", {})
    answer = schema.get("properties", {}).get("answer")
    return answer if isinstance(answer, dict) and "enum" in answer else None


def _reasoning_refusal(body: dict[str, Any]) -> str | None:
    """OpenAI's 400 for the first setting a reasoning model refuses (its own wording)."""
    if "max_tokens" in body:
        return ("Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                "'max_completion_tokens' instead.")
    if "temperature" in body and body["temperature"] != 1:
        return (f"Unsupported value: 'temperature' does not support {body['temperature']} with "
                "this model. Only the default (1) value is supported.")
    for name in ("top_p", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs"):
        if name in body:
            return f"Unsupported parameter: '{name}' is not supported with this model."
    return None


def _token_logprob(token: str, prob: float) -> dict[str, Any]:
    return {"token": token, "logprob": math.log(prob) if prob > 0 else -9999.0,
            "bytes": list(token.encode("utf-8"))}


def _error(message: str, kind: str, code: str | None, *,
           param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


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
        fake: FakeOpenAIServer = self.server.fake
        if self.path == "/v1/models":
            if fake.require_key is not None and (
                    self.headers.get("Authorization") != f"Bearer {fake.require_key}"):
                status, payload = 401, _error("Incorrect API key provided.",
                                              "invalid_request_error", "invalid_api_key")
            else:
                status, payload = fake.model_list()
            self._send(status, payload, {})
            return
        self._serve(lambda fake: (404, _error(f"no route {self.path}", "invalid_request_error",
                                              None)))

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
        refusal = fake.refusal(body)
        if refusal is not None:
            param = next((f for f in (*fake.reject_fields, "max_tokens", "temperature", "top_p",
                                      "presence_penalty", "frequency_penalty", "response_format",
                                      "top_logprobs", "logprobs") if f"'{f}'" in refusal
                          or refusal.endswith(f": {f}")), None)
            return 400, _error(refusal, "invalid_request_error", None, param=param)
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
        fake.arrivals.append(time.monotonic())
        try:
            time.sleep(fake.delay)
            headers: dict[str, str] = {}
            admitted = True
            if fake.rate_window is not None:
                admitted, headers = fake.admit()
            if not admitted:
                status, payload = 429, _error("Rate limit reached for requests; slow down.",
                                              "requests", "rate_limit_exceeded")
                headers["retry-after-ms"] = str(fake.retry_after_ms)
            elif number <= fake.fail_first:
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
