"""The requests a run still has to make, as provider batch lines keyed by cache key.

Design:

* **The run's own requests.** The run's elicitation (:func:`.pipeline._elicit`) runs against the
  planner of :mod:`subrational.plan`, which answers cache hits as the run does and records each
  miss with its cache key instead of calling the model. So a batch asks exactly what
  ``subrational run`` would ask, under the keys the run looks up, and ``plan`` reports the
  same count.
* **Sequential studies under the sample method** (marshmallow, double-or-nothing,
  procrastination: several decisions per episode) cannot be asked in one go: the next question
  depends on the answer. The planner ends an episode at its first miss, so what is missing is
  the *frontier*: the next undecided step of each unfinished episode. A batch serves that
  step; ``collect`` stores it and the next ``submit`` walks one step further. Single-decision
  studies, and every study under choice-probs, need one batch.
* **One line per request, ``custom_id`` = the cache key** (64 hex digits: within Anthropic's
  ``^[a-zA-Z0-9_-]{1,64}$``). An OpenAI line is ``{"custom_id", "method": "POST", "url":
  "/v1/chat/completions", "body"}`` with the body the live backend sends (its
  :class:`~subrational.backends.openai_settings.RequestSettings`, ``extra_body`` merged in, as
  the SDK does); this is also the input of ``vllm run-batch``. Draws of one cell share a line
  with ``n`` only where the live path would (``--draws-per-request``); the line then carries
  every draw's key. An Anthropic request is ``{"custom_id", "params"}`` with the live
  ``messages.create`` arguments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..backends.base import Backend, GenerateRequest, ScoreRequest
from ..backends.openai_settings import merged as _merged
from ..cache import Cache
from ..config import RunConfig
from ..errors import BatchError
from ..pipeline import _elicit, select_personas
from ..plan import _Planner

__all__ = ["BatchLine", "Missing", "PROVIDERS", "missing_requests", "batch_lines",
           "check_provider", "CUSTOM_ID"]

PROVIDERS = ("openai", "anthropic")
"""Backends whose provider has a batch API."""
CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
"""What Anthropic takes as a ``custom_id`` (OpenAI takes any string)."""
OPENAI_ENDPOINT = "/v1/chat/completions"


@dataclass(frozen=True)
class Missing:
    """What a run still has to ask, in run order.

    Attributes:
        requests: ``(op, key, request)`` for each missing call (``score`` or ``generate``),
            without duplicates.
        frontier: Ids of the sequential studies sampled whose missing requests are only the
            next step of their unfinished episodes (module docstring).
        episodes: Unfinished episodes of those studies (one missing request each).
        cached: Requests the cache already answers.
    """

    requests: list[tuple[str, str, ScoreRequest | GenerateRequest]]
    frontier: list[str]
    episodes: int
    cached: int


@dataclass(frozen=True)
class BatchLine:
    """One line of a batch file.

    Attributes:
        custom_id: The first key it answers (the line's id at the provider).
        op: ``score`` or ``generate``.
        keys: The cache key of every draw it answers (one, unless draws share it with ``n``).
        options: The request's answer options (to read the reply).
        structured: The answers were asked for as JSON (``response_format``).
        line: The JSON object written to the file.
        request: The first request it answers (its tokens price the line).
    """

    custom_id: str
    op: str
    keys: tuple[str, ...]
    options: tuple[str, ...]
    structured: bool
    line: dict[str, Any]
    request: ScoreRequest | GenerateRequest


class _Recorder(_Planner):
    """The planner, also noting each miss's operation and cache key."""

    def __init__(self, backend: Backend, cache: Cache | None, *, sequential: bool) -> None:
        super().__init__(backend, cache, sequential=sequential)
        self.keyed: list[tuple[str, str, Any]] = []

    def _call(self, op: Any, requests: list[Any], keys: list[str]) -> dict[str, Any]:
        got = super()._call(op, requests, keys)  # refuses scoring an unscorable model first
        self.keyed.extend((op.name, k, r) for k, r in zip(keys, requests, strict=True))
        return got


def missing_requests(config: RunConfig, backend: Backend, experiments: Sequence[Any],
                     cache: Cache) -> Missing:
    """The calls the run of ``config`` still has to make (module docstring)."""
    found: dict[str, tuple[str, str, Any]] = {}
    frontier: list[str] = []
    episodes = cached = 0
    for experiment in experiments:
        recorder = _Recorder(backend, cache, sequential=experiment.sequential)
        _, method = _elicit(experiment, config, recorder, select_personas(
            experiment, config.personas), [])
        cached += recorder.stats.hits
        for op, key, request in recorder.keyed:
            found.setdefault(key, (op, key, request))
        if experiment.sequential and method == "sample" and recorder.keyed:
            frontier.append(experiment.id)
            episodes += len(recorder.keyed)
    return Missing(list(found.values()), frontier, episodes, cached)


def _check_id(key: str) -> str:
    if not CUSTOM_ID.fullmatch(key):
        raise BatchError(f"cache key {key!r} cannot be a batch custom_id (expected "
                         f"{CUSTOM_ID.pattern}); report this as a bug")
    return key


def _openai_lines(backend: Any, missing: Missing) -> list[BatchLine]:
    settings = backend.settings
    lines = []
    scores = [(k, r) for op, k, r in missing.requests if op == "score"]
    for key, request in scores:
        body = {"model": backend.model, "messages": request.prompt.as_dicts(),
                **_merged(settings.score_params())}
        lines.append(_openai_line("score", (key,), request, body, structured=False))
    gens = [(k, r) for op, k, r in missing.requests if op == "generate"]
    for group in backend._groups([r for _, r in gens]):  # draws shared with n, as when live
        first = gens[group[0]][1]
        params = settings.generate_params(temperature=first.temperature,
                                          max_tokens=first.max_tokens, seed=first.seed,
                                          n=len(group), options=first.options)
        body = {"model": backend.model, "messages": first.prompt.as_dicts(), **_merged(params)}
        lines.append(_openai_line("generate", tuple(gens[i][0] for i in group), first, body,
                                  structured="response_format" in params))
    return lines


def _openai_line(op: str, keys: tuple[str, ...], request: Any, body: dict[str, Any], *,
                 structured: bool) -> BatchLine:
    line = {"custom_id": _check_id(keys[0]), "method": "POST", "url": OPENAI_ENDPOINT,
            "body": body}
    return BatchLine(keys[0], op, keys, tuple(request.options), structured, line, request)


def _anthropic_lines(backend: Any, missing: Missing) -> list[BatchLine]:
    lines = []
    for op, key, request in missing.requests:
        if op != "generate":  # the planner falls back to sampling: Claude cannot be scored
            raise BatchError(f"{backend.describe()} cannot be scored; use --method sample")
        backend._check_sampling(request)  # the live path's checks, before anything is sent
        params = _merged(backend._params(request))
        line = {"custom_id": _check_id(key), "params": params}
        lines.append(BatchLine(key, op, (key,), tuple(request.options),
                               backend.structured, line, request))
    return lines


def check_provider(backend: Backend) -> None:
    """Refuse a backend whose provider has no batch API (before any planning).

    Raises:
        BatchError: Not ``openai`` or ``anthropic``.
    """
    if backend.name in PROVIDERS:
        return
    raise BatchError(f"{backend.describe()} has no batch API: batches go to "
                     f"{' or '.join(p + ':MODEL' for p in PROVIDERS)} (for vLLM, use "
                     "--model openai:MODEL --base-url URL with --write FILE, then "
                     "`vllm run-batch`); run a local model with `subrational run`")


def batch_lines(backend: Backend, missing: Missing) -> list[BatchLine]:
    """The batch lines of ``missing`` in the format of ``backend``'s provider.

    Raises:
        BatchError: The backend's provider has no batch API.
    """
    check_provider(backend)
    if backend.name == "openai":
        return _openai_lines(backend, missing)
    return _anthropic_lines(backend, missing)
