"""The request loop of the openai backend: requests in flight, retries, adaptations.

Design:

* **One long-lived loop and client, a pipelined pool** (:mod:`.pool`): :meth:`RequestLoop.run`
  and :meth:`RequestLoop.stream` run jobs on the backend's own event loop thread over one
  ``AsyncOpenAI`` client made there once, at most ``max_concurrency`` in flight, the next job
  starting as soon as one ends; :meth:`RequestLoop.close` closes both. Rate limits
  (``rpm``/``tpm``, else the server's headers) are waited for before every attempt.
* **Retries are ours, and counted.** The SDK's own retries are off; the loop retries 408, 409,
  429, 5xx, timeouts, dropped connections *and* 200 replies that are not answers (an HTML page,
  invalid JSON, an empty body, no ``choices``, a NaN log-probability, an empty text; see
  :mod:`.replies`), with exponential back-off and jitter, honouring ``Retry-After``. Each retry
  is counted by kind (:attr:`RequestLoop.retries`, shown in the manifest); the first timeout is
  announced on stderr. What is left after the retries becomes the caller's one-line error.
* **A refusal that names a setting is not a fault.** Before a failure counts as one, the
  caller may adapt to it (a 400 naming ``max_tokens``, say): the job is then sent again at
  once, uncounted, at most :data:`MAX_ADAPTATIONS` times.
* **A batch keeps what finished.** Jobs of a batch run to their own end; when some fail, the
  error raised carries the others (:func:`~.base.attach_completed`) so the cache stores them.
  :meth:`RequestLoop.stream` yields every job's outcome as it ends instead; an error left after
  the retries of a transient fault is marked so (:func:`~.base.mark_transient`): that call
  failed, the run goes on.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import MissingDependencyError
from .base import in_order, mark_transient, transient_kind, zero_usage
from .endpoints import protocol_mismatch, redact_url
from .pool import Pool, RateLimits
from .replies import BadReply

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["RequestLoop", "Slot", "run_sync", "openai_sdk", "MAX_BACKOFF",
           "MAX_ADAPTATIONS", "transient_failure"]

MAX_BACKOFF = 8.0  # seconds, as the SDK's own back-off
MAX_ADAPTATIONS = 8
"""Settings one request may drop or change before its refusal is an error (each is learnt
once per backend, so a request meets at most a few)."""
_MAX_RETRY_AFTER = 60.0  # a server asking for longer is not waited for
_RETRIED_STATUS = {408, 409, 429}

T = TypeVar("T")


def openai_sdk() -> Any:
    """The ``openai`` module, or the pip line that installs it."""
    try:
        import openai
    except ImportError:
        raise MissingDependencyError(
            "the openai backend needs the openai SDK: pip install 'subrational[openai]'"
        ) from None
    return openai


def run_sync(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, even inside a running loop (notebooks)."""
    async def main() -> T:
        return await make()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    # asyncio.run refuses to nest, so a caller that already runs a loop gets a worker thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


@dataclass
class Slot:
    """One job's usage (tokens of every answered attempt) and whether it was sent at all."""

    usage: dict[str, int] = field(default_factory=zero_usage)
    sent: bool = False


Job = Callable[["AsyncOpenAI", Any, Slot], Awaitable[Any]]


class RequestLoop:
    """Runs jobs against one server with bounded concurrency, adaptations and retries.

    Args:
        base_url: The API root.
        api_key: Returns the key when the client is made (it is never kept here).
        timeout: Seconds per HTTP request.
        max_retries: Retries per job of transient faults.
        retry_backoff: Seconds before the first retry; doubled each time, at most 8.
        max_concurrency: Jobs in flight at once.
        notify: Where the first-timeout notice goes.
        adapt: ``(error, request) -> bool``: the caller changed its settings for this
            refusal; send the job again.
        fail: ``(error, attempts) -> error``: the one-line error raised after the retries.
        limits: Rate limits (none: the server's headers, where it sends them).
        estimate: ``request -> tokens`` one attempt may be billed (for the tokens limit).
    """

    def __init__(self, *, base_url: str, api_key: Callable[[], str], timeout: float,
                 max_retries: int, retry_backoff: float, max_concurrency: int,
                 notify: Callable[[str], None], adapt: Callable[[Exception, Any], bool],
                 fail: Callable[[Exception, int], BaseException],
                 limits: RateLimits | None = None,
                 estimate: Callable[[Any], float] = lambda request: 1.0) -> None:
        self.base_url, self.api_key, self.timeout = base_url, api_key, timeout
        self.max_retries, self.retry_backoff = max_retries, retry_backoff
        self.max_concurrency = max_concurrency
        self.notify, self.adapt, self.fail = notify, adapt, fail
        self.estimate = estimate
        self.retries: Counter[str] = Counter()
        self._jitter = random.Random()
        self._timed_out = False
        self.pool = Pool("subrational-openai", self._client, max_concurrency=max_concurrency,
                         limits=limits)

    @property
    def limits(self) -> RateLimits:
        """The rate limits in force."""
        return self.pool.limits

    def _client(self) -> AsyncOpenAI:
        return openai_sdk().AsyncOpenAI(api_key=self.api_key(), base_url=self.base_url,
                                        timeout=self.timeout, max_retries=0)

    def run(self, one: Job, requests: Sequence[Any], slots: Sequence[Slot]) -> list[Any]:
        """``one(client, request, slot)`` for every request, results in request order.

        Every job runs to its end; the first failure (by request order) is raised with the
        others' results attached.
        """
        outcomes = self.pool.run(len(requests), lambda i: self._with_retries(
            one, requests[i], slots[i]))
        return in_order(outcomes, len(requests))

    def stream(self, one: Job, requests: Sequence[Any],
               slots: Sequence[Slot]) -> Iterator[tuple[int, Any] | None]:
        """``(i, result or error)`` as each job ends; a systematic error starts no new job."""
        return self.pool.stream(len(requests),
                                lambda i: self._with_retries(one, requests[i], slots[i]),
                                stop_on=lambda exc: transient_kind(exc) is None)

    def close(self) -> None:
        """Close the client and stop the loop (a later call starts them again)."""
        self.pool.close()

    async def _with_retries(self, one: Job, request: Any, slot: Slot) -> Any:
        """``one(client, request, slot)``, adapted and retried; else one clear error.

        The error left after the retries of a transient fault is marked so
        (:func:`~.base.mark_transient`).
        """
        openai = openai_sdk()
        client = self.pool.client()
        attempt = adapted = 0
        while True:
            try:
                await self.pool.limits.acquire(self.estimate(request))
                return await one(client, request, slot)
            except (openai.OpenAIError, BadReply) as exc:
                if isinstance(exc, openai.APIStatusError):
                    self.pool.limits.observe(exc.response.headers)
                if adapted < MAX_ADAPTATIONS and self.adapt(exc, request):
                    adapted += 1  # the settings changed: not a fault, not counted as a retry
                    continue
                kind = self._retry_kind(exc)
                if kind is None:
                    raise self.fail(exc, attempt + 1) from None
                if attempt >= self.max_retries:
                    raise _transient(self.fail(exc, attempt + 1), kind) from None
                attempt += 1
                self.retries[kind] += 1
                if kind.endswith("timeout") and not self._timed_out:
                    self._timed_out = True
                    self.notify(f"the server at {redact_url(self.base_url)} has not answered "
                                f"in {self.timeout:g} s; retrying ({attempt} of "
                                f"{self.max_retries})...")
                await asyncio.sleep(self._delay(attempt, exc))

    def _retry_kind(self, exc: Exception) -> str | None:
        """What kind of transient fault ``exc`` is (the retry counter's key); None: do not retry."""
        return retry_kind(exc, openai_sdk())

    def _delay(self, attempt: int, exc: Exception) -> float:
        """Seconds before retry ``attempt`` (:func:`retry_delay`)."""
        return retry_delay(attempt, exc, self.retry_backoff, self._jitter)


def _transient(error: BaseException, kind: str) -> BaseException:
    """``error`` marked as one call's failure, unless it is a verdict on the server.

    A plain :class:`~subrational.errors.BackendError` is one request's bad luck; a subclass
    (no log-probabilities, ...) or a usage error says something about every request.
    """
    from ..errors import BackendError

    return mark_transient(error, kind) if type(error) is BackendError else error


def retry_kind(exc: Exception, sdk: Any) -> str | None:
    """What kind of transient fault ``exc`` is (the retry counter's key); None: do not retry.

    ``sdk`` is the ``openai`` or ``anthropic`` module: both SDKs name their timeout and connection
    errors alike and put the HTTP status on ``status_code``.
    """
    if isinstance(exc, BadReply):
        return exc.kind if exc.retry else None
    if isinstance(exc, sdk.APITimeoutError):
        connect = type(exc.__cause__).__name__ == "ConnectTimeout"
        return "connect-timeout" if connect else "timeout"
    if isinstance(exc, sdk.APIConnectionError):
        return None if protocol_mismatch(exc) else "connection"
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and (status in _RETRIED_STATUS or status >= 500):
        return f"http-{status}"
    return None


def transient_failure(error: BaseException, kind: str | None) -> BaseException:
    """The error left after the retries: marked transient when ``kind`` is one (shared helper)."""
    return error if kind is None else _transient(error, kind)


def retry_delay(attempt: int, exc: Exception, backoff: float, jitter: random.Random) -> float:
    """Seconds before retry ``attempt``: the server's Retry-After, else back-off with jitter."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    for header, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        try:
            wait = float(headers.get(header) or "") * scale
        except (TypeError, ValueError):
            continue
        if 0 < wait <= _MAX_RETRY_AFTER:
            return wait
    return min(backoff * 2.0 ** (attempt - 1), MAX_BACKOFF) * (1 - 0.25 * jitter.random())
