"""The HTTP backends' engine: one long-lived event loop and client, a pipelined pool, rate limits.

Design:

* **One event loop per backend, in a thread of its own.** :class:`LoopThread` starts a daemon
  thread running an ``asyncio`` loop on first use; the backend's async SDK client is made on
  that loop once (:meth:`Pool.client`) and kept, so no call pays for a new loop, client and
  connection pool (24-37 ms each against a real server). :meth:`Pool.close` closes the client
  and stops the loop; the backend calls it from its ``close``, and an interpreter exit without
  it only loses the daemon thread.
* **A pipelined, bounded pool.** :meth:`Pool.stream` runs up to ``max_concurrency`` workers that
  each take the next job as soon as their own finishes: no batch waits for its slowest call.
  Outcomes come back to the calling thread through a queue *as they finish* (the caller stores
  them; the SQLite connection never leaves its thread), with a heartbeat (``None``) when
  nothing finished for half a second, so the caller can flush what it holds.
* **One failure is one outcome.** A job's exception is yielded in its place, like a result.
  ``stop_on(error)`` says whether it is systematic (a rejected key, a missing model): then no
  new job starts, the ones in flight run to their end and are yielded, and the caller raises.
  Closing the generator early (a circuit breaker, a spending limit, Ctrl-C) cancels what is in
  flight.
* **Rate limits** (:class:`RateLimits`) with ``aiolimiter``'s leaky buckets: requests per
  minute are paced one at a time (60 / rpm seconds apart, never a burst); tokens per minute
  (each request's prompt estimate plus its output budget) drain a bucket of a tenth of a
  minute's tokens, refilled at the rate. Without the user's ``rpm``/``tpm`` the provider's own
  limits are adopted from its rate-limit headers (OpenAI ``x-ratelimit-*``, Anthropic
  ``anthropic-ratelimit-*``), and a reply that says nothing is left (``remaining`` 0) pauses
  every request until the window resets (at most a minute), whatever the user set.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import re
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

__all__ = ["LoopThread", "Pool", "RateLimits", "parse_reset", "MAX_PAUSE"]

MAX_PAUSE = 60.0
"""Seconds at most that a rate-limit header's reset time makes requests wait."""
_HEARTBEAT = 0.5  # seconds without an outcome before the stream yields None
_TOKEN_WINDOW = 6.0  # seconds of tokens the token bucket holds (a tenth of a minute)


class LoopThread:
    """An ``asyncio`` event loop running in a daemon thread, started on first use."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop (started now if it is not)."""
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=serve, name=self.name, daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    @property
    def running(self) -> bool:
        """Whether the loop has been started and not stopped."""
        return self._loop is not None and not self._loop.is_closed()

    def submit(self, coroutine: Awaitable[Any]) -> Any:
        """Schedule ``coroutine`` on the loop; a :class:`concurrent.futures.Future`."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)  # type: ignore[arg-type]

    def call(self, coroutine: Awaitable[Any]) -> Any:
        """Run ``coroutine`` on the loop and wait for its result here."""
        return self.submit(coroutine).result()

    def stop(self) -> None:
        """Stop the loop and join its thread (idempotent)."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        if not loop.is_running():
            loop.close()


def parse_reset(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds until a rate-limit window resets, from a header; None when it says nothing.

    Takes OpenAI's durations (``"20ms"``, ``"1s"``, ``"6m0s"``, ``"1h2m3.5s"``), a bare number of
    seconds, or Anthropic's RFC 3339 time (``"2026-12-02T10:00:00Z"``).

    Example:
        >>> parse_reset("6m0s"), parse_reset("250ms"), parse_reset("nonsense")
        (360.0, 0.25, None)
    """
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    if parts and "".join(n + u for n, u in parts) == text:
        scale = {"ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
        return sum(float(n) * scale[u] for n, u in parts)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


#: (limit, remaining, reset) header names of requests and of tokens, per provider.
_HEADERS = {
    "requests": (("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
                  "x-ratelimit-reset-requests"),
                 ("anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining",
                  "anthropic-ratelimit-requests-reset")),
    "tokens": (("x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens",
                "x-ratelimit-reset-tokens"),
               ("anthropic-ratelimit-tokens-limit", "anthropic-ratelimit-tokens-remaining",
                "anthropic-ratelimit-tokens-reset")),
}


def _number(value: str | None) -> float | None:
    try:
        found = float(value) if value is not None else None
    except ValueError:
        return None
    return found if found is not None and found >= 0 else None


class RateLimits:
    """Requests- and tokens-per-minute limits, the user's or the provider's (module docstring).

    Args:
        rpm: Requests per minute the user allows (None: the provider's, if it says).
        tpm: Tokens per minute the user allows (None: the provider's, if it says).
        adopt: Whether to adopt the limits the provider's headers announce.

    Attributes:
        source: ``{"requests": ..., "tokens": ...}``: ``"--rpm"``/``"--tpm"``, ``"headers"`` or
            absent; with :attr:`limits`, what the manifest reports.
        limits: The limits in force, per minute.
        paused: Seconds requests waited for a window to reset, in total.
    """

    def __init__(self, rpm: float | None = None, tpm: float | None = None, *,
                 adopt: bool = True) -> None:
        self.adopt = adopt
        self.limits: dict[str, float] = {}
        self.source: dict[str, str] = {}
        self.paused = 0.0
        self._requests: Any = None
        self._tokens: Any = None
        self._pause_until = 0.0
        self._last_tokens = 0.0
        if rpm is not None:
            self._set("requests", rpm, "--rpm")
        if tpm is not None:
            self._set("tokens", tpm, "--tpm")

    def _set(self, kind: str, per_minute: float, source: str) -> None:
        from aiolimiter import AsyncLimiter

        self.limits[kind], self.source[kind] = float(per_minute), source
        if kind == "requests":
            self._requests = AsyncLimiter(1, 60.0 / per_minute)
        else:
            self._tokens = AsyncLimiter(per_minute * _TOKEN_WINDOW / 60.0, _TOKEN_WINDOW)

    def describe(self) -> dict[str, Any]:
        """The limits in force and where they came from, JSON-safe (for the manifest)."""
        return {kind: {"per_minute": self.limits[kind], "source": self.source[kind]}
                for kind in sorted(self.limits)} | (
                    {"paused_seconds": round(self.paused, 2)} if self.paused else {})

    async def acquire(self, tokens: float) -> None:
        """Wait until one request of about ``tokens`` tokens may be sent."""
        wait = self._pause_until - time.monotonic()
        if wait > 0:
            self.paused += wait
            await asyncio.sleep(wait)
        if self._requests is not None:
            await self._requests.acquire()
        if self._tokens is not None:
            await self._tokens.acquire(min(float(tokens), self._tokens.max_rate))
        self._last_tokens = float(tokens)

    def observe(self, headers: Mapping[str, str] | None) -> None:
        """Learn from a reply's rate-limit headers: adopt its limits, pause when none is left."""
        if not headers:
            return
        for kind, variants in _HEADERS.items():
            for limit_name, remaining_name, reset_name in variants:
                limit = _number(headers.get(limit_name))
                if limit is None and headers.get(remaining_name) is None:
                    continue
                if self.adopt and limit and self.source.get(kind, "headers") == "headers" \
                        and self.limits.get(kind) != limit:
                    self._set(kind, limit, "headers")
                remaining = _number(headers.get(remaining_name))
                need = 1.0 if kind == "requests" else max(1.0, self._last_tokens)
                if remaining is not None and remaining < need:
                    reset = parse_reset(headers.get(reset_name))
                    if reset:
                        until = time.monotonic() + min(reset, MAX_PAUSE)
                        self._pause_until = max(self._pause_until, until)


class Pool:
    """Jobs against one server: a long-lived loop and client, bounded and pipelined.

    Args:
        name: The loop thread's name.
        make_client: Makes the async SDK client (called once, on the loop).
        max_concurrency: Jobs in flight at once.
        limits: Rate limits applied before every attempt (by the backend's retry loop).
    """

    def __init__(self, name: str, make_client: Callable[[], Any], *, max_concurrency: int,
                 limits: RateLimits | None = None) -> None:
        self.thread = LoopThread(name)
        self.make_client = make_client
        self.max_concurrency = max_concurrency
        self.limits = limits or RateLimits()
        self._client: Any = None
        weakref.finalize(self, _close_at_exit, self.thread)  # also runs at interpreter exit

    def client(self) -> Any:
        """The async client (made the first time; call on the loop)."""
        if self._client is None:
            self._client = self.make_client()
        return self._client

    def stream(self, count: int, job: Callable[[int], Awaitable[Any]],
               stop_on: Callable[[BaseException], bool]) -> Iterator[tuple[int, Any] | None]:
        """``(i, result or exception)`` for ``job(0..count-1)`` as each finishes (module doc).

        ``None`` is a heartbeat: nothing finished in the last half second.
        """
        if count == 0:
            return
        outcomes: queue.Queue[Any] = queue.Queue()
        stopped = threading.Event()
        done = object()

        async def drive() -> None:
            jobs = iter(range(count))

            async def worker() -> None:
                for i in jobs:
                    if stopped.is_set():
                        return
                    try:
                        outcome: Any = await job(i)
                    except Exception as exc:  # noqa: BLE001 - an outcome like any other
                        outcome = exc
                        if stop_on(exc):
                            stopped.set()
                    outcomes.put((i, outcome))

            await asyncio.gather(*(worker() for _ in range(min(self.max_concurrency, count))))

        future = self.thread.submit(drive())
        future.add_done_callback(lambda f: outcomes.put(done))
        try:
            while True:
                try:
                    item = outcomes.get(timeout=_HEARTBEAT)
                except queue.Empty:
                    yield None
                    continue
                if item is done:
                    break
                yield item
            future.result()  # an error of the pool itself (never a job's)
        finally:
            if not future.done():
                stopped.set()
                self.thread.loop.call_soon_threadsafe(future.cancel)
                with contextlib.suppress(Exception):
                    future.result(timeout=5)

    def run(self, count: int, job: Callable[[int], Awaitable[Any]]) -> dict[int, Any]:
        """Every job's outcome by index (results or exceptions), all jobs run to their end."""
        return {item[0]: item[1] for item in self.stream(count, job, lambda exc: False)
                if item is not None}

    def close(self) -> None:
        """Close the client (if one was made) and stop the loop."""
        if self.thread.running and self._client is not None:
            client, self._client = self._client, None
            with contextlib.suppress(Exception):
                self.thread.submit(client.close()).result(timeout=5)
        self.thread.stop()


def _close_at_exit(thread: LoopThread) -> None:
    thread.stop()
