"""The backend contract: batched option scoring and batched generation, plus capability flags.

A backend turns rendered chat prompts into either log-probabilities of a fixed set of answer
options (:meth:`Backend.score`) or sampled texts (:meth:`Backend.generate`). Backends load their
model lazily, on the first call, so a run answered entirely from the cache never loads one.
Caching is not the backend's job: :class:`subrational.cache.CachedBackend` wraps any backend.

What counts as an answer is decided in one place, :func:`invalid_scores` and :func:`invalid_text`:
a backend retries a reply they reject, and the cache never stores one. A backend whose batch
fails part-way attaches the results that did finish to the error it raises
(:func:`attach_completed`), so that the cache keeps them.

**Usage contract** (the same for every backend). :meth:`Backend.last_usage` is one dict per
request of the most recent ``score`` or ``generate`` call, in request order, with exactly the
keys :data:`USAGE_KEYS`: ``input_tokens`` (prompt tokens billed), ``cached_input_tokens`` (the
part of them a prompt cache served), ``output_tokens`` (every generated token billed as
output, hidden reasoning included) and ``reasoning_tokens`` (the hidden part of them); 0 where
the API reports none. The tokens of every attempt that got an answer from the API are counted
(a retried reply that was no answer was still billed); a request that several draws shared
(``n`` > 1) carries them all on its first request. :meth:`Backend.usage_totals` adds them up
over the backend's life, plus ``calls``: requests sent to the API (a retried request counts
once). Backends without a billed API (in-process, scripted) report zeros.

**Streaming contract** (:meth:`Backend.each`): the cache calls ``each(op, requests)``, which
yields one :class:`Outcome` per request as it finishes (any order), with that request's usage,
and ``None`` as a heartbeat when it likes. A request that failed after its retries with a
*transient* kind (timeouts, dropped connections, 429, 5xx, replies that are not answers) is an
outcome whose error carries that kind (:func:`mark_transient`): the run goes on without it. Any
other error is systematic (a rejected key, a missing model): the cache stops on it. The default
runs ``score``/``generate`` on batches of ``max_concurrency`` (in-process backends batch); the
HTTP backends pipeline (:mod:`.pool`).
"""

from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

__all__ = [
    "Message",
    "Prompt",
    "ScoreRequest",
    "OptionScores",
    "GenerateRequest",
    "Capabilities",
    "Backend",
    "invalid_scores",
    "invalid_text",
    "attach_completed",
    "completed_results",
    "in_order",
    "USAGE_KEYS",
    "zero_usage",
    "Outcome",
    "FailedCall",
    "mark_transient",
    "transient_kind",
]

USAGE_KEYS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens")
"""The keys of one request's usage (see the module docstring)."""

F = TypeVar("F", bound=Callable[..., Any])


def zero_usage() -> dict[str, int]:
    """One request's usage when nothing was billed: every key of :data:`USAGE_KEYS` at 0."""
    return dict.fromkeys(USAGE_KEYS, 0)


def _counting_requests(method: F) -> F:
    """``method`` that first notes how many requests it was given (for the zero usage)."""
    @functools.wraps(method)
    def counted(self: Backend, requests: Sequence[Any]) -> Any:
        self._requests_in_last_call = len(requests)
        return method(self, requests)

    counted._counts_requests = True  # type: ignore[attr-defined]
    return counted  # type: ignore[return-value]


@dataclass(frozen=True)
class Message:
    """One chat message. ``role`` is ``system``, ``user`` or ``assistant``."""

    role: str
    content: str


@dataclass(frozen=True)
class Prompt:
    """A rendered chat prompt.

    Attributes:
        messages: The conversation; instructions and persona first, the state last.
        meta: Where the prompt came from (experiment id, persona, state). Never part of a cache
            key: the messages already determine the output. The scripted backend reads it.
    """

    messages: tuple[Message, ...]
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def as_dicts(self) -> list[dict[str, str]]:
        """Messages as ``[{"role": ..., "content": ...}]`` for chat templates and APIs."""
        return [{"role": m.role, "content": m.content} for m in self.messages]


@dataclass(frozen=True)
class ScoreRequest:
    """Ask for the log-probability of each answer option as the start of the assistant's reply.

    Attributes:
        prompt: The rendered prompt.
        options: Answer texts, e.g. ``("Accept", "Reject")``; their first tokens differ.
    """

    prompt: Prompt
    options: tuple[str, ...]


@dataclass(frozen=True)
class OptionScores:
    """Result of scoring one request.

    Attributes:
        logprobs: ``log P(option | prompt)`` per option, in request order. ``-inf`` when the
            backend could not see the option (e.g. not among a server's ``top_logprobs``).
        detail: Backend-specific diagnostics (e.g. ``{"scored": "first-token"}``), JSON-safe.
    """

    logprobs: tuple[float, ...]
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GenerateRequest:
    """Ask for one sampled completion.

    Attributes:
        prompt: The rendered prompt.
        temperature: Sampling temperature (the paper uses 1.0).
        max_tokens: Upper bound on generated tokens.
        seed: Per-draw seed, so that draw ``i`` is reproducible where the backend supports it.
        options: The answer options the text should end with (used by the scripted backend only).
    """

    prompt: Prompt
    temperature: float = 1.0
    max_tokens: int = 256
    seed: int = 0
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do.

    Attributes:
        logprobs: Whether :meth:`Backend.score` is available (else use the ``sample`` method).
        max_concurrency: Requests worth sending at once (batch size locally, in-flight remotely).
        cacheable: Whether results may be stored in the on-disk cache.
        local_scoring: Whether scores are computed in-process, so that their numerical noise
            floor (how far batching moves them) can be measured; a remote server batches as it
            pleases (see :mod:`.noise`).
    """

    logprobs: bool
    max_concurrency: int = 8
    cacheable: bool = True
    local_scoring: bool = False


@dataclass(frozen=True)
class Outcome:
    """One request's end, as :meth:`Backend.each` yields it.

    Attributes:
        index: The request's position in the call.
        result: Its scores or text (when ``error`` is None).
        error: Why it has none (transient: :func:`transient_kind`; else systematic).
        usage: Tokens it was billed (:data:`USAGE_KEYS`), None when unknown.
    """

    index: int
    result: Any = None
    error: BaseException | None = None
    usage: Mapping[str, int] | None = None


@dataclass(frozen=True)
class FailedCall:
    """In a result list, in place of an answer: the call failed after its retries.

    Never cached; the next run asks again. ``reason`` is the one-line error, ``kind`` the
    transient kind (``http-503``, ``timeout``, ...).
    """

    reason: str
    kind: str = ""


def mark_transient(error: BaseException, kind: str) -> BaseException:
    """Mark ``error`` (raised after the retries of a ``kind`` fault) as one call's failure."""
    error.transient = kind  # type: ignore[attr-defined]
    return error


def transient_kind(error: BaseException) -> str | None:
    """The transient kind :func:`mark_transient` put on ``error``; None: a systematic one."""
    kind = getattr(error, "transient", None)
    return kind if isinstance(kind, str) else None


class Backend(ABC):
    """Base class of model backends. Subclasses set :attr:`name` and implement two methods."""

    name: ClassVar[str]
    billed: ClassVar[bool] = False
    """Whether calls are billed by an API (priced by :mod:`.prices`); False: free by definition."""
    _requests_in_last_call = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A subclass's score and generate note their request count, so that the default
        # last_usage() has one zero dict per request without each backend's help.
        super().__init_subclass__(**kwargs)
        for method in ("score", "generate"):
            own = cls.__dict__.get(method)
            if callable(own) and not getattr(own, "_counts_requests", False):
                setattr(cls, method, _counting_requests(own))

    def __init__(self, model: str) -> None:
        self.model = model

    @property
    @abstractmethod
    def capabilities(self) -> Capabilities:
        """Capability flags."""

    def fingerprint(self) -> dict[str, Any]:
        """Identity of the model for cache keys: backend, model id, file hash or revision.

        Must be cheap and must not load the model. Never include secrets.
        """
        return {"backend": self.name, "model": self.model}

    @abstractmethod
    def score(self, requests: Sequence[ScoreRequest]) -> list[OptionScores]:
        """Score a batch of requests; results in request order."""

    @abstractmethod
    def generate(self, requests: Sequence[GenerateRequest]) -> list[str]:
        """Generate one completion per request; texts in request order."""

    def each(self, op: str, requests: Sequence[Any]) -> Iterator[Outcome | None]:
        """``op`` (``score`` or ``generate``) on every request, outcomes as they finish.

        Here: batches of ``max_concurrency`` through :meth:`score` or :meth:`generate`; a
        batch that raises yields what it finished (:func:`attach_completed`) and the error in
        place of the rest, and stops.
        """
        call = self.score if op == "score" else self.generate
        size = max(1, self.capabilities.max_concurrency)
        for start in range(0, len(requests), size):
            batch = list(requests[start:start + size])
            failure: Exception | None = None
            try:
                done = dict(enumerate(call(batch)))
            except Exception as exc:  # noqa: BLE001 - re-raised below, after what finished
                failure, done = exc, completed_results(exc)
            usage = self.last_usage()
            for i in range(len(batch)):
                billed = usage[i] if len(usage) == len(batch) else None
                if i in done:
                    yield Outcome(start + i, done[i], usage=billed)
                elif failure is not None:
                    yield Outcome(start + i, error=failure, usage=billed)
            if failure is not None:
                return

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (model memory, HTTP clients)."""

    def describe(self) -> str:
        """``backend:model`` as the user would type it."""
        return f"{self.name}:{self.model}"

    def retry_counts(self) -> dict[str, int]:
        """Retries so far by kind (``http-503``, ``timeout``, ``invalid-json``, ...); none here."""
        return {}

    def output_budget(self, max_tokens: int) -> int:
        """The most output tokens one sampled answer asked with ``max_tokens`` can be billed.

        ``max_tokens`` here; a backend that gives hidden reasoning a budget of its own on top
        adds it (what a plan's upper cost counts: :mod:`subrational.plan`).
        """
        return max_tokens

    def last_usage(self) -> list[dict[str, int]]:
        """Tokens of each request of the last ``score``/``generate`` call (module docstring).

        Zeros here: a backend without a billed API.
        """
        return [zero_usage() for _ in range(self._requests_in_last_call)]

    def usage_totals(self) -> dict[str, int]:
        """The :data:`USAGE_KEYS` summed over the backend's life, plus ``calls``; zeros here."""
        return {**zero_usage(), "calls": 0}

    def diagnostics(self) -> dict[str, Any]:
        """What the backend learnt about the model and the server while it ran, JSON-safe.

        Not part of the fingerprint (it changes as calls are made); for the manifest and for
        a user who wants to know what was sent. Empty here.
        """
        return {}


def invalid_scores(scores: OptionScores, n_options: int) -> str | None:
    """Why ``scores`` is not an answer to a request with ``n_options`` options, or ``None``.

    ``-inf`` is an answer (the model put no visible mass on that option); NaN, ``+inf``, a
    non-number or a count of log-probabilities other than the options' is not.
    """
    if len(scores.logprobs) != n_options:
        return f"{len(scores.logprobs)} log-probabilities for {n_options} options"
    for lp in scores.logprobs:
        if isinstance(lp, bool) or not isinstance(lp, (int, float)) or math.isnan(lp) \
                or lp == math.inf:
            return f"a log-probability of {lp!r}"
    return None


def invalid_text(text: object) -> str | None:
    """Why ``text`` is not a sampled answer (not a string, or empty), or ``None``."""
    if not isinstance(text, str):
        return f"a {type(text).__name__} instead of a text"
    return None if text.strip() else "an empty text"


def attach_completed(exc: BaseException, completed: Mapping[int, object]) -> BaseException:
    """Attach the finished results of a failed batch (request index -> result) to ``exc``."""
    exc.completed = dict(completed)  # type: ignore[attr-defined]
    return exc


def in_order(outcomes: Mapping[int, object], n: int) -> list[Any]:
    """Results ``0..n-1`` of a batch in request order; else its first failure, the rest attached.

    ``outcomes`` maps each request index to its result or to the exception it ended with.
    """
    ordered = [outcomes[i] for i in range(n)]
    failures = [o for o in ordered if isinstance(o, BaseException)]
    if failures:
        raise attach_completed(failures[0], {i: o for i, o in enumerate(ordered)
                                             if not isinstance(o, BaseException)})
    return ordered


def completed_results(exc: BaseException) -> dict[int, object]:
    """The results :func:`attach_completed` attached to ``exc`` (none when nothing was)."""
    return dict(getattr(exc, "completed", None) or {})
