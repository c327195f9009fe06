"""Any OpenAI-compatible chat endpoint (OpenAI, vLLM, SGLang, Ollama, llama.cpp server, ...).

Design:

* **One async core, a thin sync entry point.** :meth:`OpenAIBackend.score` and
  :meth:`OpenAIBackend.generate` run one ``asyncio`` gather of single requests over an
  ``AsyncOpenAI`` client, bounded by a semaphore of ``max_concurrency``. The client is created
  inside each event-loop run and closed at its end, because an async HTTP client is bound to
  the loop that created it; this keeps repeated sync calls safe.
* **Retries belong to the SDK.** Its ``max_retries`` already backs off exponentially with jitter
  on 408/409/429/5xx and connection errors, and honours ``Retry-After``. What is left after the
  retries becomes one :mod:`subrational.errors` line that says what to try.
* **Scoring is first-token.** One completion token with ``top_logprobs``; each option collects
  the probability of the returned tokens that unambiguously start it. Options that no returned
  token starts get ``-inf``. A server without log-probs raises
  :class:`~subrational.errors.LogprobsUnavailableError`, so the caller can fall back to sampling.
* **Secrets.** The key is read from the environment when a client is made and is never kept on
  the backend, nor put in the fingerprint, ``repr``, errors or logs.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from ..errors import (
    BackendError,
    ConfigError,
    LogprobsUnavailableError,
    MissingCredentialsError,
    MissingDependencyError,
    SubrationalError,
    UsageError,
)
from .base import Backend, Capabilities, GenerateRequest, OptionScores, ScoreRequest

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["OpenAIBackend", "DEFAULT_BASE_URL"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Local servers (vLLM, Ollama, llama.cpp) want some bearer token but accept any.
_PLACEHOLDER_KEY = "no-key-required"
_MAX_TOP_LOGPROBS = 20  # the OpenAI API's upper bound

T = TypeVar("T")


def _openai_sdk() -> Any:
    try:
        import openai
    except ImportError:
        raise MissingDependencyError(
            "the openai backend needs the openai SDK: pip install 'subrational[openai]'"
        ) from None
    return openai


def redact_url(url: str) -> str:
    """``url`` without user, password, query or fragment, and without a trailing slash."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


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
    """Gather ``jobs`` in order; on the first failure cancel the rest before re-raising."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


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
        max_retries: SDK retries (exponential back-off with jitter) on 429, 5xx and timeouts.
        top_logprobs: Alternatives asked for when scoring (0 to 20).

    Raises:
        MissingCredentialsError: No key for the OpenAI API itself.
        ConfigError: A numeric option out of range.
    """

    name = "openai"

    def __init__(self, model: str, *, base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", max_concurrency: int = 8,
                 timeout: float = 60.0, max_retries: int = 5, top_logprobs: int = 20,
                 offline: bool = False, **_: Any) -> None:
        super().__init__(model)
        _openai_sdk()
        _check_range("max_concurrency", max_concurrency, 1, None)
        _check_range("timeout", timeout, 1e-3, None)
        _check_range("max_retries", max_retries, 0, None)
        _check_range("top_logprobs", top_logprobs, 0, _MAX_TOP_LOGPROBS)
        self.custom_url = bool(base_url or os.environ.get("OPENAI_BASE_URL"))
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL)
        self.api_key_env = api_key_env
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.top_logprobs = top_logprobs
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

    def score(self, requests: Sequence[ScoreRequest]) -> list[OptionScores]:
        """First-token option probabilities from ``top_logprobs``, in request order.

        Raises:
            LogprobsUnavailableError: The server returns no log-probabilities.
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
                try:
                    return await one(client, request)
                except openai.OpenAIError as exc:
                    raise self._translate(exc) from None

        async with openai.AsyncOpenAI(api_key=self._api_key(), base_url=self.base_url,
                                      timeout=self.timeout, max_retries=self.max_retries) as client:
            return await _gather_all([bounded(client, r) for r in requests])

    async def _score_one(self, client: AsyncOpenAI, request: ScoreRequest) -> OptionScores:
        response = await client.chat.completions.create(
            model=self.model, messages=request.prompt.as_dicts(),  # type: ignore[arg-type]
            max_tokens=1, temperature=0, logprobs=True, top_logprobs=self.top_logprobs)
        content = _first_choice_logprobs(response)
        if not content:
            raise LogprobsUnavailableError(
                f"{redact_url(self.base_url)} returned no log-probabilities for {self.model!r}; "
                "use --method sample"
            )
        first = content[0]
        # Some servers send only the chosen token; it still carries its own probability.
        alternatives = first.top_logprobs or [first]
        candidates = [(alt.token, alt.logprob) for alt in alternatives]
        return OptionScores(option_logprobs(candidates, request.options),
                            detail={"scored": "first-token"})

    async def _generate_one(self, client: AsyncOpenAI, request: GenerateRequest) -> str:
        response = await client.chat.completions.create(
            model=self.model, messages=request.prompt.as_dicts(),  # type: ignore[arg-type]
            temperature=request.temperature, max_tokens=request.max_tokens, seed=request.seed)
        if not response.choices:
            return ""
        return response.choices[0].message.content or ""

    def _translate(self, exc: Exception) -> SubrationalError:
        """Turn an SDK error (after its retries) into one line that says what to do."""
        openai = _openai_sdk()
        url = redact_url(self.base_url)
        tries = f"after {self.max_retries} retries"
        status = getattr(exc, "status_code", None)
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
            return BackendError(f"{url} did not answer within {self.timeout:g}s {tries}; "
                                "raise the timeout or lower the concurrency")
        if isinstance(exc, openai.APIConnectionError):
            return BackendError(f"cannot reach {url}: is the server running?")
        if isinstance(exc, openai.RateLimitError):
            return BackendError(f"{url} still answered HTTP 429 (rate limit) {tries}; "
                                "lower the concurrency or try again later")
        if status is not None and status >= 500:
            return BackendError(f"{url} answered HTTP {status} (server error) {tries}; "
                                "check the server's log or try again later")
        detail = self._scrub(_short(exc))
        if status == 400 and "logprob" in detail.lower():
            return LogprobsUnavailableError(f"{url} does not support log-probabilities "
                                            f"({detail}); use --method sample")
        return BackendError(f"{url} refused the request (HTTP {status}): {detail}")

    def _scrub(self, text: str) -> str:
        """Blank the key out of server text, in case a server echoes it back."""
        key = os.environ.get(self.api_key_env)
        return text.replace(key, "***") if key else text


def _first_choice_logprobs(response: Any) -> list[Any]:
    if not response.choices or response.choices[0].logprobs is None:
        return []
    return list(response.choices[0].logprobs.content or [])


def _short(exc: Exception, limit: int = 200) -> str:
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    text = " ".join(str(message or exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_range(name: str, value: float, low: float, high: float | None) -> None:
    if value < low or (high is not None and value > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise ConfigError(f"{name}={value!r} is out of range; it must be {bound}")
