"""Claude through Anthropic's Messages API, on the official ``anthropic`` SDK (1.0 or later).

The contract is the openai backend's (:mod:`.openai_api`), item by item:

* **One long-lived loop and client, a pipelined pool** (:mod:`.pool`): requests run on the
  backend's own event-loop thread over one ``AsyncAnthropic`` client made there once, at most
  ``max_concurrency`` in flight, the next starting as soon as one ends; :meth:`~AnthropicBackend.
  each` yields each request's outcome as it ends (a request failing after its retries is one
  failed call), :meth:`~AnthropicBackend.close` closes the client. Rate limits (``rpm``,
  ``tpm``, else the ``anthropic-ratelimit-*`` headers) are waited for before every attempt.
* **Retries are ours, and counted.** The SDK's retries are off; one loop retries 408, 409, 429,
  5xx (529 "overloaded" included), timeouts, dropped connections and 200 replies that are not
  answers (a body that is not JSON, no content blocks, an empty text: never returned, so never
  cached), with exponential back-off and jitter, honouring ``retry-after``; counted by kind in
  :meth:`~AnthropicBackend.retry_counts`. What is left after the retries is one
  :mod:`subrational.errors` line that says what to try.
* **A batch keeps what finished**: a failed request's error carries the others
  (:func:`~.base.attach_completed`), so the cache stores them.
* **No log-probabilities.** The Messages API has none for any Claude model, so
  :meth:`~AnthropicBackend.score` raises :class:`~subrational.errors.LogprobsUnavailableError`
  before any call and the run falls back to the sample method, saying so in the report.
* **Prompt caching of the shared prefix.** The system text (story, persona and instructions,
  first by design: :mod:`subrational.elicitation.prompts`) goes as one block marked
  ``cache_control: {"type": "ephemeral"}``. Anthropic caches a prefix only from a minimum length
  that depends on the model: 1,024 tokens (Sonnet 4 to 4.5, Opus 4 and 4.1), 2,048 (Haiku 3 and
  3.5), 4,096 (Opus 4.5 and 4.6, Haiku 4.5), per Anthropic's prompt-caching page as of 2026 (not
  checkable offline). Below it the mark is ignored at no cost. Above it, the first request of a
  prefix pays 1.25 times the input price for the part written and each later one (within five
  minutes) 0.1 times for the part read, so it pays from the second request on a prefix; a study
  sends states x orders x samples requests per persona and wording (420 in the ultimatum at 10
  samples). The built-in studies' system texts are 70 to 110 tokens: caching does not engage for
  them, only for a game whose instructions reach the minimum.
* **Sampling parameters.** The SDK takes no temperature since 1.0 (current models use none), so
  temperature 1, the API's default and the paper's, is not sent; another temperature goes in the
  request body for the older models that take one, and a model that refuses it gets a one-line
  error. The API takes no seed: draws of one prompt are independent requests, and a replay comes
  from the cache.
* **Structured answers** (``structured=True``, off by default): a forced tool ``answer`` whose
  input schema is ``{"reasoning": string, "answer": one of the options}`` (listed in the order
  the prompt lists them, the counterbalanced factor), turned into the reasoning and a last line
  ``Answer: <answer>`` for the strict parser; a reply without that tool call falls back to its
  text. Off by default: nothing measured says it parses better than the plain ``Answer:`` line
  for Claude.
* **Extended thinking** (``thinking_budget=N``, at least 1,024): ``thinking={"type": "enabled",
  "budget_tokens": N}``, and ``max_tokens`` is N plus the answer's own budget, so hidden
  reasoning never eats the answer. Only at temperature 1, and not with structured answers (the
  API refuses a forced tool while thinking).
* **Usage** (:meth:`~AnthropicBackend.last_usage`, :meth:`~AnthropicBackend.usage_totals`):
  ``input_tokens`` is every input token, cached or not (Anthropic reports the uncached,
  cache-written and cache-read parts apart; written tokens are billed at 1.25 times);
  ``cached_input_tokens`` the part read from the cache; ``output_tokens`` includes thinking;
  ``reasoning_tokens`` is ``usage.output_tokens_details.thinking_tokens`` where the API reports
  it, else 0. A request's numbers add up all its attempts that were billed (a 200 reply that is
  no answer costs tokens too).
* **Secrets and URLs.** The key comes from ``ANTHROPIC_API_KEY`` only and is passed to the SDK
  explicitly (so it reads no other credential); it is never kept on the backend nor put in the
  fingerprint, ``repr``, errors or logs. The base URL (``--base-url``, else
  ``ANTHROPIC_BASE_URL``, else Anthropic's) is checked when the backend is made and redacted
  wherever shown; it is the API root, and a trailing ``/v1`` is dropped (the SDK adds it).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

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
    USAGE_KEYS,
    Backend,
    Capabilities,
    GenerateRequest,
    OptionScores,
    Outcome,
    ScoreRequest,
    in_order,
    transient_kind,
)
from .endpoints import check_base_url, connection_advice, redact_url
from .openai_api import _check_range, check_rate_limits
from .openai_loop import MAX_BACKOFF, retry_delay, retry_kind, transient_failure
from .pool import Pool, RateLimits
from .replies import BadReply, reply_json
from .tokens import CHARS_PER_TOKEN

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

__all__ = ["AnthropicBackend", "DEFAULT_BASE_URL", "API_KEY_ENV", "ANSWER_TOOL",
           "MIN_THINKING_BUDGET", "USAGE_KEYS", "answer_tool", "structured_text"]

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_KEY_ENV = "ANTHROPIC_API_KEY"
_BASE_URL_ENV = "ANTHROPIC_BASE_URL"
ANSWER_TOOL = "answer"
MIN_THINKING_BUDGET = 1024
"""Smallest ``budget_tokens`` the API takes for extended thinking."""
_NO_LOGPROBS = "Anthropic's Messages API has none for any Claude model"


def _anthropic_sdk() -> Any:
    try:
        import anthropic
    except ImportError:
        raise MissingDependencyError(
            "the anthropic backend needs the anthropic SDK: pip install 'subrational[anthropic]'"
        ) from None
    return anthropic


def _stderr_line(text: str) -> None:
    print(f"subrational: {text}", file=sys.stderr, flush=True)


def answer_tool(options: Sequence[str]) -> dict[str, Any]:
    """The tool whose forced call is a structured answer: reasoning first, then one option."""
    return {"name": ANSWER_TOOL,
            "description": "Give your answer: first your reasoning in two or three sentences, "
                           "as this person would think it, then the option you choose.",
            "input_schema": {"type": "object",
                             "properties": {"reasoning": {"type": "string"},
                                            "answer": {"type": "string", "enum": list(options)}},
                             "required": ["reasoning", "answer"]}}


def structured_text(tool_input: Any) -> str | None:
    r"""``<reasoning>\nAnswer: <answer>`` from the tool's input; None without an answer.

    Example:
        >>> structured_text({"reasoning": "Too little.", "answer": "Reject"})
        'Too little.\nAnswer: Reject'
    """
    answer = tool_input.get("answer") if isinstance(tool_input, dict) else None
    if not isinstance(answer, str) or not answer.strip():
        return None
    reasoning = tool_input.get("reasoning")
    reasoning = reasoning.strip() if isinstance(reasoning, str) else ""
    return f"{reasoning}\nAnswer: {answer.strip()}" if reasoning else f"Answer: {answer.strip()}"


def _prompt_order(request: GenerateRequest) -> tuple[str, ...]:
    """The options in the order the last message lists them (else as the request has them)."""
    text = request.prompt.messages[-1].content if request.prompt.messages else ""
    where = {o: text.rfind(o) for o in request.options}
    if not where or min(where.values()) < 0:
        return tuple(request.options)
    return tuple(sorted(request.options, key=where.__getitem__))


def _api_root(url: str) -> str:
    root = url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def reply_usage(data: dict[str, Any]) -> dict[str, int]:
    """The four usage numbers of a Messages reply (see the module docstring)."""
    found = data.get("usage")
    usage: dict[str, Any] = found if isinstance(found, dict) else {}
    details = usage.get("output_tokens_details")
    read = _count(usage.get("cache_read_input_tokens"))
    return {"input_tokens": _count(usage.get("input_tokens")) + read
            + _count(usage.get("cache_creation_input_tokens")),
            "cached_input_tokens": read,
            "output_tokens": _count(usage.get("output_tokens")),
            "reasoning_tokens": _count(details.get("thinking_tokens"))
            if isinstance(details, dict) else 0}


class AnthropicBackend(Backend):
    """Claude models behind Anthropic's Messages API, through the official ``anthropic`` SDK.

    Args:
        model: Model id, e.g. ``claude-sonnet-4-5``.
        base_url: API root; defaults to ``ANTHROPIC_BASE_URL``, else ``https://api.anthropic.com``.
        offline: The run replays from the cache: do not require a key up front.
        max_concurrency: Requests in flight at once.
        timeout: Seconds per HTTP request.
        max_retries: Retries per request (exponential back-off with jitter) on 408, 409, 429,
            5xx and 529, timeouts, dropped connections and replies that are not answers.
        retry_backoff: Seconds before the first retry; doubled each time, at most 8.
        structured: Ask for answers through the forced ``answer`` tool.
        thinking_budget: Tokens of extended thinking per answer (at least 1,024); None: off.
        prompt_cache: Mark the system text for Anthropic's prompt cache.
        notify: Where one-line progress notices go (the first timeout); stderr by default.
        rpm: Requests per minute at most (None: the ``anthropic-ratelimit-*`` headers).
        tpm: Tokens per minute at most (prompt characters / 4 plus the output budget per
            request; None: the headers).

    Raises:
        MissingCredentialsError: ``ANTHROPIC_API_KEY`` is not set (and the run is not offline).
        ConfigError: A numeric option out of range, thinking with structured answers, or a base
            URL that cannot work.
    """

    name = "anthropic"
    billed = True

    def __init__(self, model: str, *, base_url: str | None = None, max_concurrency: int = 8,
                 timeout: float = 60.0, max_retries: int = 5, retry_backoff: float = 0.5,
                 structured: bool = False, thinking_budget: int | None = None,
                 prompt_cache: bool = True, offline: bool = False,
                 notify: Callable[[str], None] | None = None, rpm: float | None = None,
                 tpm: float | None = None) -> None:
        super().__init__(model)
        _anthropic_sdk()
        check_rate_limits(rpm, tpm)
        _check_range("max_concurrency", max_concurrency, 1, None)
        _check_range("timeout", timeout, 1e-3, None)
        _check_range("max_retries", max_retries, 0, None)
        _check_range("retry_backoff", retry_backoff, 0, MAX_BACKOFF)
        if thinking_budget is not None:
            _check_range("thinking_budget", thinking_budget, MIN_THINKING_BUDGET, None)
            if structured:
                raise ConfigError("structured answers force a tool call, which the Messages API "
                                  "refuses while extended thinking is on; choose one of "
                                  "structured and thinking_budget")
        self.base_url = _api_root(check_base_url(base_url or os.environ.get(_BASE_URL_ENV)
                                                 or DEFAULT_BASE_URL))
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.structured = structured
        self.thinking_budget = thinking_budget
        self.prompt_cache = prompt_cache
        self.notify = notify or _stderr_line
        self._retries: Counter[str] = Counter()
        self._jitter = random.Random()
        self._timed_out = False
        self._last_usage: list[dict[str, int]] = []
        self._totals: Counter[str] = Counter(dict.fromkeys((*USAGE_KEYS, "calls"), 0))
        self._pool = Pool("subrational-anthropic", self._client,
                          max_concurrency=max_concurrency, limits=RateLimits(rpm, tpm))
        if not offline:  # a replay from the cache needs no key
            self._api_key()  # fail now, before the first prompt is rendered

    def __repr__(self) -> str:
        return f"AnthropicBackend(model={self.model!r}, base_url={redact_url(self.base_url)!r})"

    @property
    def capabilities(self) -> Capabilities:
        """No log-probabilities, ``max_concurrency`` in flight, cacheable."""
        return Capabilities(logprobs=False, max_concurrency=self.max_concurrency, cacheable=True)

    def fingerprint(self) -> dict[str, Any]:
        """Backend, model, the API root without credentials, and what changes the answers.

        Structured answers and a thinking budget change what the model writes, so they are
        part of the cache key when on; prompt caching does not, so it is not.
        """
        found: dict[str, Any] = {"backend": self.name, "model": self.model,
                                 "base_url": redact_url(self.base_url)}
        if self.structured:
            found["structured"] = "tool"
        if self.thinking_budget is not None:
            found["thinking_budget"] = self.thinking_budget
        return found

    def retry_counts(self) -> dict[str, int]:
        """Retries so far by kind: ``http-429``, ``http-529``, ``timeout``, ``no-content``..."""
        return dict(sorted(self._retries.items()))

    def output_budget(self, max_tokens: int) -> int:
        """``max_tokens``, plus the thinking budget when extended thinking is on (as sent)."""
        return max_tokens + (self.thinking_budget or 0)

    def last_usage(self) -> list[dict[str, int]]:
        """Tokens of each request of the latest :meth:`generate` call, in request order."""
        return [dict(u) for u in self._last_usage]

    def usage_totals(self) -> dict[str, int]:
        """Tokens of every request so far, and ``calls``: the requests made."""
        return dict(self._totals)

    def score(self, requests: Sequence[ScoreRequest]) -> list[OptionScores]:
        """Never available: Claude gives no log-probabilities.

        Raises:
            LogprobsUnavailableError: Always (for a non-empty batch), before any call.
        """
        self._last_usage = []
        if not requests:
            return []
        raise LogprobsUnavailableError(f"{_NO_LOGPROBS} ({self.model!r} gives no "
                                       "log-probabilities): use --method sample",
                                       evidence=_NO_LOGPROBS)

    def generate(self, requests: Sequence[GenerateRequest]) -> list[str]:
        """One sampled answer per request, in request order.

        Raises:
            UsageError: A temperature the API cannot sample at (checked before any call).
            BackendError: A request failed after the retries (the others are attached).
        """
        usage = self._start(requests)
        outcomes = self._pool.run(len(requests), lambda i: self._with_retries(
            requests[i], usage[i]))
        return in_order(outcomes, len(requests))

    def each(self, op: str, requests: Sequence[Any]) -> Iterator[Outcome | None]:
        """Outcomes of ``generate`` as each request ends (see :mod:`.base`); ``score`` raises."""
        if op == "score":
            self.score(requests)
            return
        usage = self._start(requests)
        for item in self._pool.stream(len(requests),
                                      lambda i: self._with_retries(requests[i], usage[i]),
                                      stop_on=lambda exc: transient_kind(exc) is None):
            if item is None:
                yield None
                continue
            i, got = item
            yield (Outcome(i, error=got, usage=usage[i]) if isinstance(got, BaseException)
                   else Outcome(i, got, usage=usage[i]))

    def close(self) -> None:
        """Close the HTTP client and stop the backend's event loop."""
        self._pool.close()

    def diagnostics(self) -> dict[str, Any]:
        """The rate limits in force, where any are (else nothing)."""
        limits = self._pool.limits.describe()
        return {"rate_limits": limits} if limits else {}

    def _start(self, requests: Sequence[GenerateRequest]) -> list[dict[str, int]]:
        """Check the requests (before any call); their usage records, counted as calls."""
        for request in requests:
            self._check_sampling(request)
        usage = [dict.fromkeys(USAGE_KEYS, 0) for _ in requests]
        self._last_usage = usage
        self._totals["calls"] += len(requests)
        return usage

    def _client(self) -> AsyncAnthropic:
        return _anthropic_sdk().AsyncAnthropic(api_key=self._api_key(), base_url=self.base_url,
                                               timeout=self.timeout, max_retries=0)

    def _estimate(self, request: GenerateRequest) -> float:
        prompt = sum(len(m.content) for m in request.prompt.messages) / CHARS_PER_TOKEN
        return prompt + self.output_budget(request.max_tokens)

    def _check_sampling(self, request: GenerateRequest) -> None:
        if self.thinking_budget is not None and request.temperature != 1:
            raise UsageError(f"--temperature {request.temperature:g}: extended thinking samples "
                             "at temperature 1 only (the API's rule); leave it at 1 or turn "
                             "thinking off")
        if not 0 <= request.temperature <= 1:
            raise UsageError(f"--temperature {request.temperature:g}: Claude samples at a "
                             "temperature between 0 and 1; use one in that range")

    def _api_key(self) -> str:
        key = os.environ.get(API_KEY_ENV)
        if not key:
            raise MissingCredentialsError(f"set {API_KEY_ENV} to your Anthropic API key (read "
                                          "from the environment only, never stored)")
        return key

    async def _with_retries(self, request: GenerateRequest, usage: dict[str, int]) -> str:
        """One answer to ``request``, retried on transient faults; else one clear error.

        The error left after the retries of a transient fault is marked so
        (:func:`~.base.mark_transient`): one failed call.
        """
        sdk = _anthropic_sdk()
        client = self._pool.client()
        attempt = 0
        while True:
            try:
                await self._pool.limits.acquire(self._estimate(request))
                data = await self._post(client, request)
                for key, n in reply_usage(data).items():  # billed, answer or not
                    usage[key] += n
                    self._totals[key] += n
                return self._answer(data)
            except (sdk.AnthropicError, BadReply) as exc:
                if isinstance(exc, sdk.APIStatusError):
                    self._pool.limits.observe(exc.response.headers)
                kind = self._retry_kind(exc)
                if kind is None or attempt >= self.max_retries:
                    raise transient_failure(self._translate(exc, attempts=attempt + 1),
                                            kind) from None
                attempt += 1
                self._retries[kind] += 1
                if kind.endswith("timeout") and not self._timed_out:
                    self._timed_out = True
                    self.notify(f"the server at {redact_url(self.base_url)} has not answered "
                                f"in {self.timeout:g} s; retrying ({attempt} of "
                                f"{self.max_retries})...")
                await asyncio.sleep(self._delay(attempt, exc))

    def _params(self, request: GenerateRequest) -> dict[str, Any]:
        """The Messages API request for ``request`` (see the module docstring)."""
        system = "\n\n".join(m.content for m in request.prompt.messages if m.role == "system")
        params: dict[str, Any] = {
            "model": self.model, "max_tokens": request.max_tokens,
            "messages": [{"role": m.role, "content": m.content}
                         for m in request.prompt.messages if m.role != "system"]}
        if system:
            block: dict[str, Any] = {"type": "text", "text": system}
            if self.prompt_cache:
                block["cache_control"] = {"type": "ephemeral"}
            params["system"] = [block]
        if self.thinking_budget is not None:
            params["thinking"] = {"type": "enabled", "budget_tokens": self.thinking_budget}
            params["max_tokens"] += self.thinking_budget
        elif request.temperature != 1:
            params["extra_body"] = {"temperature": request.temperature}
        if self.structured and request.options:
            params["tools"] = [answer_tool(_prompt_order(request))]
            params["tool_choice"] = {"type": "tool", "name": ANSWER_TOOL}
        return params

    async def _post(self, client: AsyncAnthropic, request: GenerateRequest) -> dict[str, Any]:
        """One Messages call; the reply's JSON object, read from the raw body."""
        raw = await client.messages.with_raw_response.create(**self._params(request))
        self._pool.limits.observe(raw.headers)
        return reply_json(await raw.read(), raw.headers.get("content-type", ""))

    def _answer(self, data: dict[str, Any]) -> str:
        """The answer text of a reply; :class:`BadReply` when it holds none."""
        content, stop = data.get("content"), data.get("stop_reason")
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        if not blocks:
            raise BadReply("no-content", f"a reply with no content blocks (stop_reason={stop!r})")
        if self.structured:
            for block in blocks:
                if block.get("type") == "tool_use" and block.get("name") == ANSWER_TOOL:
                    text = structured_text(block.get("input"))
                    if text is not None:
                        return text
        text = "".join(b["text"] for b in blocks
                       if b.get("type") == "text" and isinstance(b.get("text"), str))
        if not text.strip():
            raise BadReply("empty-content", f"an empty answer (stop_reason={stop!r})")
        return text

    def _retry_kind(self, exc: Exception) -> str | None:
        """What kind of transient fault ``exc`` is (the retry counter's key); None: do not retry."""
        return retry_kind(exc, _anthropic_sdk())

    def _delay(self, attempt: int, exc: Exception) -> float:
        """Seconds before retry ``attempt``: the server's retry-after, else back-off with jitter."""
        return retry_delay(attempt, exc, self.retry_backoff, self._jitter)

    def _translate(self, exc: Exception, *, attempts: int = 1) -> SubrationalError:
        """An SDK error or a bad reply, after the retries, as one line that says what to do."""
        sdk = _anthropic_sdk()
        url = redact_url(self.base_url)
        tries = f"{attempts} time{'s' if attempts > 1 else ''}"
        status = getattr(exc, "status_code", None)
        if isinstance(exc, BadReply):
            hint = ("raise --max-tokens (the answer ran out of tokens)"
                    if "max_tokens" in exc.detail else "check the server (or a proxy in "
                    "between) and run again")
            return BackendError(f"{url} sent a 200 reply that is not an answer {tries} for one "
                                f"request (last: {exc.detail}); nothing of it was cached; {hint}")
        detail = self._scrub(_message(exc))
        if isinstance(exc, (sdk.AuthenticationError, sdk.PermissionDeniedError)):
            return MissingCredentialsError(f"{url} rejected the key in {API_KEY_ENV} (HTTP "
                                           f"{status}); check its value and the account's "
                                           f"access to {self.model!r}")
        if isinstance(exc, sdk.NotFoundError):
            return UsageError(f"model {self.model!r} not found at {url} (HTTP 404: {detail}); "
                              "check the model id (e.g. claude-sonnet-4-5) and that the base URL "
                              "is the API root, like https://api.anthropic.com")
        if isinstance(exc, sdk.APITimeoutError):
            return BackendError(f"{url} did not answer within {self.timeout:g} s, {tries}; "
                                "raise --timeout or lower --concurrency")
        if isinstance(exc, sdk.APIConnectionError):
            return BackendError(connection_advice(exc, url, tries))
        if status == 429:
            return BackendError(f"{url} answered HTTP 429 (rate limit) {tries}; lower "
                                "--concurrency or try again later")
        if status == 529:
            return BackendError(f"{url} answered HTTP 529 (overloaded) {tries}; try again "
                                "later or lower --concurrency")
        if isinstance(status, int) and status >= 500:
            return BackendError(f"{url} answered HTTP {status} (server error) {tries}; try "
                                "again later")
        if status == 400 and "temperature" in detail.lower():
            return UsageError(f"{self.model!r} refuses the temperature (HTTP 400: {detail}); "
                              "leave --temperature at 1, the API's default, which is not sent")
        return BackendError(f"{url} refused the request (HTTP {status}): {detail}")

    def _scrub(self, text: str) -> str:
        """Blank the key out of server text, in case a server echoes it back."""
        key = os.environ.get(API_KEY_ENV)
        return text.replace(key, "***") if key else text


def _message(exc: Exception, limit: int = 200) -> str:
    """The ``error.message`` of an Anthropic error body, else the exception's text, shortened."""
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    text = " ".join(str(message or exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
