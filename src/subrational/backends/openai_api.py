"""Any OpenAI-compatible chat endpoint (OpenAI, vLLM, SGLang, Ollama, llama.cpp server, ...).

Design:

* **One async core, a thin sync entry point.** :meth:`OpenAIBackend.score` and
  :meth:`OpenAIBackend.generate` run one ``asyncio`` gather of single requests over an
  ``AsyncOpenAI`` client, bounded by a semaphore of ``max_concurrency``. The client is created
  inside each event-loop run and closed at its end, because an async HTTP client is bound to
  the loop that created it; this keeps repeated sync calls safe.
* **Retries are ours, and counted.** The SDK's own retries are off; one loop retries 408, 409,
  429, 5xx, timeouts, dropped connections *and* 200 replies that are not answers (an HTML page,
  invalid JSON, an empty body, no ``choices``, a NaN log-probability, an empty text; see
  :mod:`.replies`), with exponential back-off and jitter, honouring ``Retry-After``. Each retry
  is counted by kind (:meth:`OpenAIBackend.retry_counts`, shown in the manifest); the first
  timeout is announced on stderr. What is left after the retries becomes one
  :mod:`subrational.errors` line that says what happened and what to try.
* **A batch keeps what finished.** Requests of a batch run to their own end; when some fail, the
  error raised carries the others (:func:`~.base.attach_completed`) so the cache stores them.
* **Scoring is first-token.** One completion token with ``top_logprobs``; each option collects
  the probability of the returned tokens that unambiguously start it. Options that no returned
  token starts get ``-inf``.
* **No log-probabilities is decided on evidence.** A reply without them is retried like a
  transient fault. Only when no reply so far carried any and either
  ``NO_LOGPROBS_EVIDENCE`` different prompts lacked them twice or one prompt lacked them that
  many times (or the server answers 400 naming logprobs) does the backend raise
  :class:`~subrational.errors.LogprobsUnavailableError`, with the counts, so the caller can
  fall back to sampling.
* **URLs** are checked when the backend is made (scheme, host, port), before any call.
* **Secrets.** The key is read from the environment when a client is made and is never kept on
  the backend, nor put in the fingerprint, ``repr``, errors or logs. The key comes from the
  environment variable only; ``user:password@`` in the base URL is sent to the server as HTTP
  Basic auth (for a proxy that wants it; it then replaces the bearer key) and is stripped from
  everything stored or shown (:func:`redact_url`).
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import (
    BackendError,
    ConfigError,
    LogprobsUnavailableError,
    MissingCredentialsError,
    MissingDependencyError,
    SubrationalError,
    UsageError,
)
from .base import (
    Backend,
    Capabilities,
    GenerateRequest,
    OptionScores,
    ScoreRequest,
    attach_completed,
)
from .endpoints import check_base_url, connection_advice, protocol_mismatch, redact_url
from .replies import BadReply, first_choice, first_token_candidates, reply_json, reply_text

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["OpenAIBackend", "DEFAULT_BASE_URL", "check_base_url", "redact_url"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Local servers (vLLM, Ollama, llama.cpp) want some bearer token but accept any.
_PLACEHOLDER_KEY = "no-key-required"
_MAX_TOP_LOGPROBS = 20  # the OpenAI API's upper bound
NO_LOGPROBS_EVIDENCE = 3
"""Different prompts that lacked log-probabilities in two attempts each (or one prompt in this
many attempts), with no reply carrying any, before the server is judged to have none (design
choice: a reply that lacks them once, or several prompts' first replies, must not switch a study
to sampling)."""
_MAX_BACKOFF = 8.0  # seconds, as the SDK's own back-off
_MAX_RETRY_AFTER = 60.0  # a server asking for longer is not waited for
_RETRIED_STATUS = {408, 409, 429}

T = TypeVar("T")


def _openai_sdk() -> Any:
    try:
        import openai
    except ImportError:
        raise MissingDependencyError(
            "the openai backend needs the openai SDK: pip install 'subrational[openai]'"
        ) from None
    return openai


def _stderr_line(text: str) -> None:
    print(f"subrational: {text}", file=sys.stderr, flush=True)


def _run_sync(make: Callable[[], Awaitable[T]]) -> T:
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


async def _gather_all(jobs: Sequence[Awaitable[T]]) -> list[T]:
    """Gather ``jobs`` in order, each to its own end; then raise the first failure.

    The failure carries the results that finished (:func:`~.base.attach_completed`), so that
    one bad request does not throw away the rest of its batch.
    """
    outcomes = await asyncio.gather(*jobs, return_exceptions=True)
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    if not failures:
        return list(outcomes)  # type: ignore[arg-type]
    first = next((f for f in failures if not isinstance(f, Exception)), failures[0])
    done = {i: o for i, o in enumerate(outcomes) if not isinstance(o, BaseException)}
    raise attach_completed(first, done)


def option_logprobs(candidates: Sequence[tuple[str, float]],
                    options: Sequence[str]) -> tuple[float, ...]:
    """Log of the probability mass of the candidate tokens that start each option.

    A token counts for an option when its stripped text is a non-empty prefix of the option
    (case-sensitive) and of no other option: an ambiguous token says nothing about the choice.

    Args:
        candidates: ``(token, logprob)`` pairs, e.g. a server's ``top_logprobs``.
        options: The answer options.

    Returns:
        One log-probability per option, ``-inf`` where no token matched.

    Example:
        >>> option_logprobs([("Acc", math.log(0.5)), (" Reject", math.log(0.25))],
        ...                 ["Accept", "Reject", "Maybe"])
        (-0.6931471805599453, -1.3862943611198906, -inf)
    """
    mass = [0.0] * len(options)
    for token, logprob in candidates:
        text = token.strip()
        if not text:
            continue
        hits = [i for i, option in enumerate(options) if option.startswith(text)]
        if len(hits) == 1:
            mass[hits[0]] += math.exp(logprob)
    return tuple(math.log(m) if m > 0 else -math.inf for m in mass)


class OpenAIBackend(Backend):
    """Chat models behind an OpenAI-compatible HTTP API, through the official ``openai`` SDK.

    Args:
        model: Model id as the server knows it, e.g. ``gpt-4o-mini`` or ``qwen2.5:7b``.
        base_url: API root such as ``http://localhost:8000/v1``; defaults to the environment
            variable ``OPENAI_BASE_URL``, else OpenAI itself.
        api_key_env: Name of the environment variable that holds the key.
        offline: The run replays from the cache: do not require a key up front.
        max_concurrency: Requests in flight at once.
        timeout: Seconds per HTTP request.
        max_retries: Retries per request (exponential back-off with jitter) on 408, 409, 429,
            5xx, timeouts, dropped connections and replies that are not answers.
        retry_backoff: Seconds before the first retry; doubled each time, at most 8.
        top_logprobs: Alternatives asked for when scoring (0 to 20).
        notify: Where one-line progress notices go (the first timeout); stderr by default.

    Raises:
        MissingCredentialsError: No key for the OpenAI API itself.
        ConfigError: A numeric option out of range, or a base URL that cannot work.
    """

    name = "openai"

    def __init__(self, model: str, *, base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", max_concurrency: int = 8,
                 timeout: float = 60.0, max_retries: int = 5, retry_backoff: float = 0.5,
                 top_logprobs: int = 20, offline: bool = False,
                 notify: Callable[[str], None] | None = None) -> None:
        super().__init__(model)
        _openai_sdk()
        _check_range("max_concurrency", max_concurrency, 1, None)
        _check_range("timeout", timeout, 1e-3, None)
        _check_range("max_retries", max_retries, 0, None)
        _check_range("retry_backoff", retry_backoff, 0, _MAX_BACKOFF)
        _check_range("top_logprobs", top_logprobs, 0, _MAX_TOP_LOGPROBS)
        self.custom_url = bool(base_url or os.environ.get("OPENAI_BASE_URL"))
        self.base_url = check_base_url(base_url or os.environ.get("OPENAI_BASE_URL")
                                       or DEFAULT_BASE_URL)
        self.api_key_env = api_key_env
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.top_logprobs = top_logprobs
        self.notify = notify or _stderr_line
        self._retries: Counter[str] = Counter()
        self._jitter = random.Random()
        self._timed_out = False
        # Evidence about log-probabilities: replies with and without them, prompts without.
        self._with_logprobs = 0
        self._without_logprobs = 0
        self._lacking: Counter[ScoreRequest] = Counter()  # replies without, by prompt
        self._no_logprobs: LogprobsUnavailableError | None = None
        if not offline:  # a replay from the cache needs no key
            self._api_key()  # fail now, not after the first prompt is rendered

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_url={redact_url(self.base_url)!r})"

    @property
    def capabilities(self) -> Capabilities:
        """Log-probs (where the server gives them), ``max_concurrency`` in flight, cacheable."""
        return Capabilities(logprobs=True, max_concurrency=self.max_concurrency, cacheable=True)

    def fingerprint(self) -> dict[str, Any]:
        """Backend, model and the API root without credentials."""
        return {"backend": self.name, "model": self.model, "base_url": redact_url(self.base_url)}

    def retry_counts(self) -> dict[str, int]:
        """Retries so far by kind: ``http-429``, ``http-503``, ``timeout``, ``invalid-json``..."""
        return dict(sorted(self._retries.items()))

    def score(self, requests: Sequence[ScoreRequest]) -> list[OptionScores]:
        """First-token option probabilities from ``top_logprobs``, in request order.

        Raises:
            LogprobsUnavailableError: The server consistently returns no log-probabilities.
            BackendError: The server failed after the retries.
        """
        return _run_sync(lambda: self._map(self._score_one, requests))

    def generate(self, requests: Sequence[GenerateRequest]) -> list[str]:
        """One sampled completion per request (``seed`` passed on; some servers ignore it)."""
        return _run_sync(lambda: self._map(self._generate_one, requests))

    def _api_key(self) -> str:
        key = os.environ.get(self.api_key_env)
        if key:
            return key
        if self.custom_url:
            return _PLACEHOLDER_KEY
        raise MissingCredentialsError(
            f"set {self.api_key_env} (or pass --base-url for a local server that needs no key)"
        )

    async def _map(self, one: Callable[[AsyncOpenAI, Any], Awaitable[T]],
                   requests: Sequence[Any]) -> list[T]:
        """Apply ``one`` to every request with at most ``max_concurrency`` in flight."""
        if not requests:
            return []
        openai = _openai_sdk()
        semaphore = asyncio.Semaphore(self.max_concurrency)

        async def bounded(client: AsyncOpenAI, request: Any) -> T:
            async with semaphore:
                return await self._with_retries(one, client, request)

        async with openai.AsyncOpenAI(api_key=self._api_key(), base_url=self.base_url,
                                      timeout=self.timeout, max_retries=0) as client:
            return await _gather_all([bounded(client, r) for r in requests])

    async def _with_retries(self, one: Callable[[AsyncOpenAI, Any], Awaitable[T]],
                            client: AsyncOpenAI, request: Any) -> T:
        """``one(client, request)``, retried on transient faults; else one clear error."""
        openai = _openai_sdk()
        attempt = 0
        while True:
            try:
                return await one(client, request)
            except (openai.OpenAIError, BadReply) as exc:
                kind = self._retry_kind(exc)
                if kind is None or attempt >= self.max_retries:
                    raise self._translate(exc, attempts=attempt + 1) from None
                attempt += 1
                self._retries[kind] += 1
                if kind.endswith("timeout") and not self._timed_out:
                    self._timed_out = True
                    self.notify(f"the server at {redact_url(self.base_url)} has not answered "
                                f"in {self.timeout:g} s; retrying ({attempt} of "
                                f"{self.max_retries})...")
                await asyncio.sleep(self._delay(attempt, exc))

    def _retry_kind(self, exc: Exception) -> str | None:
        """What kind of transient fault ``exc`` is (the retry counter's key); None: do not retry."""
        openai = _openai_sdk()
        if isinstance(exc, BadReply):
            return exc.kind
        if isinstance(exc, openai.APITimeoutError):
            connect = type(exc.__cause__).__name__ == "ConnectTimeout"
            return "connect-timeout" if connect else "timeout"
        if isinstance(exc, openai.APIConnectionError):
            return None if protocol_mismatch(exc) else "connection"
        status = getattr(exc, "status_code", None)
        if isinstance(status, int) and (status in _RETRIED_STATUS or status >= 500):
            return f"http-{status}"
        return None

    def _delay(self, attempt: int, exc: Exception) -> float:
        """Seconds before retry ``attempt``: the server's Retry-After, else back-off with jitter."""
        headers = getattr(getattr(exc, "response", None), "headers", None) or {}
        for header, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
            try:
                wait = float(headers.get(header) or "") * scale
            except (TypeError, ValueError):
                continue
            if 0 < wait <= _MAX_RETRY_AFTER:
                return wait
        backoff = min(self.retry_backoff * 2.0 ** (attempt - 1), _MAX_BACKOFF)
        return backoff * (1 - 0.25 * self._jitter.random())

    async def _post(self, client: AsyncOpenAI, request: Any, **params: Any) -> dict[str, Any]:
        """One chat-completion call; the reply's JSON object, read from the raw body."""
        raw = await client.chat.completions.with_raw_response.create(
            model=self.model, messages=request.prompt.as_dicts(), **params)
        return reply_json(raw.http_response.content,
                          raw.http_response.headers.get("content-type", ""))

    async def _score_one(self, client: AsyncOpenAI, request: ScoreRequest) -> OptionScores:
        if self._no_logprobs is not None:
            raise self._no_logprobs
        data = await self._post(client, request, max_tokens=1, temperature=0, logprobs=True,
                                top_logprobs=self.top_logprobs)
        candidates = first_token_candidates(first_choice(data))
        if candidates is None:
            self._without_logprobs += 1
            self._lacking[request] += 1
            confirmed = sum(n >= 2 for n in self._lacking.values())
            if self._with_logprobs == 0 and (confirmed >= NO_LOGPROBS_EVIDENCE or
                                             self._lacking[request] >= NO_LOGPROBS_EVIDENCE):
                raise self._logprobs_unavailable()
            raise BadReply("no-logprobs", "a reply without log-probabilities")
        self._with_logprobs += 1
        return OptionScores(option_logprobs(candidates, request.options),
                            detail={"scored": "first-token"})

    async def _generate_one(self, client: AsyncOpenAI, request: GenerateRequest) -> str:
        data = await self._post(client, request, temperature=request.temperature,
                                max_tokens=request.max_tokens, seed=request.seed)
        return reply_text(first_choice(data))

    def _logprobs_unavailable(self) -> LogprobsUnavailableError:
        """The verdict 'this server gives no log-probabilities', with the evidence; kept."""
        if self._no_logprobs is None:
            total = self._with_logprobs + self._without_logprobs
            evidence = (f"{self._with_logprobs} of {total} replies from "
                        f"{redact_url(self.base_url)} carried log-probabilities, over "
                        f"{len(self._lacking)} different prompt"
                        f"{'s' if len(self._lacking) > 1 else ''}")
            self._no_logprobs = LogprobsUnavailableError(
                f"{evidence}; the server gives none for {self.model!r}: use --method sample",
                evidence=evidence)
        return self._no_logprobs

    def _translate(self, exc: Exception, *, attempts: int = 1) -> SubrationalError:
        """An SDK error or a bad reply, after the retries, as one line that says what to do."""
        openai = _openai_sdk()
        url = redact_url(self.base_url)
        tries = f"{attempts} time{'s' if attempts > 1 else ''}"
        status = getattr(exc, "status_code", None)
        if isinstance(exc, BadReply):
            if exc.kind == "no-logprobs":
                if self._with_logprobs == 0:
                    return self._logprobs_unavailable()
                return BackendError(
                    f"{url} sent no log-probabilities for one prompt {tries}, though "
                    f"{self._with_logprobs} of {self._with_logprobs + self._without_logprobs} "
                    "replies carried them; try again, or use --method sample")
            return BackendError(f"{url} sent a 200 reply that is not an answer {tries} for one "
                                f"request (last: {exc.detail}); nothing of it was cached; check "
                                "the server's log (or a proxy in between) and run again")
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return MissingCredentialsError(
                f"the server at {url} rejected the key in {self.api_key_env} (HTTP {status}); "
                "check its value and the account's access to the model"
            )
        if isinstance(exc, openai.NotFoundError):
            return UsageError(
                f"model {self.model!r} not found at {url} (HTTP 404); check the model name "
                "(GET /models lists them) and that the base URL ends in /v1"
            )
        if isinstance(exc, openai.APITimeoutError):
            return BackendError(f"{url} did not answer within {self.timeout:g} s, {tries}; if "
                                "the model is slow, raise --timeout or lower --concurrency; if "
                                "nothing ever answers, check that an OpenAI-compatible server "
                                "listens at that port")
        if isinstance(exc, openai.APIConnectionError):
            return BackendError(connection_advice(exc, url, tries))
        if isinstance(exc, openai.RateLimitError):
            return BackendError(f"{url} answered HTTP 429 (rate limit) {tries}; "
                                "lower --concurrency or try again later")
        if status is not None and status >= 500:
            return BackendError(f"{url} answered HTTP {status} (server error) {tries}; "
                                "check the server's log or try again later")
        detail = self._scrub(_short(exc))
        if status == 400 and "logprob" in detail.lower():
            evidence = f"{url} refused log-probabilities with HTTP 400 ({detail})"
            self._no_logprobs = LogprobsUnavailableError(f"{evidence}; use --method sample",
                                                         evidence=evidence)
            return self._no_logprobs
        return BackendError(f"{url} refused the request (HTTP {status}): {detail}")

    def _scrub(self, text: str) -> str:
        """Blank the key out of server text, in case a server echoes it back."""
        key = os.environ.get(self.api_key_env)
        return text.replace(key, "***") if key else text


def _short(exc: Exception, limit: int = 200) -> str:
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    text = " ".join(str(message or exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_range(name: str, value: float, low: float, high: float | None) -> None:
    if value < low or (high is not None and value > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise ConfigError(f"{name}={value!r} is out of range; it must be {bound}")
