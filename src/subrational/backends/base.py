"""The backend contract: batched option scoring and batched generation, plus capability flags.

A backend turns rendered chat prompts into either log-probabilities of a fixed set of answer
options (:meth:`Backend.score`) or sampled texts (:meth:`Backend.generate`). Backends load their
model lazily, on the first call, so a run answered entirely from the cache never loads one.
Caching is not the backend's job: :class:`subrational.cache.CachedBackend` wraps any backend.

What counts as an answer is decided in one place, :func:`invalid_scores` and :func:`invalid_text`:
a backend retries a reply they reject, and the cache never stores one. A backend whose batch
fails part-way attaches the results that did finish to the error it raises
(:func:`attach_completed`), so that the cache keeps them.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

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
]


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


class Backend(ABC):
    """Base class of model backends. Subclasses set :attr:`name` and implement two methods."""

    name: ClassVar[str]

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

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (model memory, HTTP clients)."""

    def describe(self) -> str:
        """``backend:model`` as the user would type it."""
        return f"{self.name}:{self.model}"

    def retry_counts(self) -> dict[str, int]:
        """Retries so far by kind (``http-503``, ``timeout``, ``invalid-json``, ...); none here."""
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


def completed_results(exc: BaseException) -> dict[int, object]:
    """The results :func:`attach_completed` attached to ``exc`` (none when nothing was)."""
    return dict(getattr(exc, "completed", None) or {})
