"""What a model accepts, by model id: the capability table behind honest request settings.

Reasoning models (OpenAI's o-series and gpt-5 class, DeepSeek's reasoner, gpt-oss) refuse
settings a chat model takes: ``max_tokens`` (they want ``max_completion_tokens``), any
temperature but their default, log-probabilities; and their hidden reasoning is billed out of
the completion budget, so a 160-token budget would be eaten before the answer is written.

Design:

* **A table of glob patterns**, matched case-insensitively against the model id and against
  its last path segment (``openai/o3-mini`` on OpenRouter matches ``o3*``). Each entry sets some
  of the :class:`ModelCapabilities` fields. The user's entries (the config key
  ``model_capabilities``) come first, then :data:`SHIPPED`; each field is taken from the first
  matching entry that sets it, else from the plain chat model (:data:`CHAT_MODEL`). So a user
  entry may correct one field of a shipped one (``"o3-pro*" = {structured_answers = false}``).
* **The table is a starting point, not the last word.** A model the table does not know that
  answers HTTP 400 naming ``max_tokens``, ``temperature`` or ``logprobs`` is adapted to at
  run time by the openai backend (:mod:`.openai_settings`), which says so once.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["ModelCapabilities", "CHAT_MODEL", "SHIPPED", "ANSWER_MODES", "REASONING_EFFORTS",
           "DEFAULT_REASONING_BUDGET", "CapabilityMatch", "parse_table", "lookup"]

ANSWER_MODES = ("auto", "structured", "text")
"""How sampled answers are asked for: ``structured`` (a JSON schema with the options as an
enum), ``text`` (the free text the prompt asks for) or ``auto``: structured for a model the
table says takes the schema but cannot be scored (a reasoning model, whose only path is the
sample method), and on vLLM and SGLang; text elsewhere, so that a scorable model's sampled
answers keep the paper's free text and their cache keys."""

REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
"""Values of ``reasoning_effort`` (sent only when chosen; each model accepts some of them)."""

DEFAULT_REASONING_BUDGET = 8192
"""Completion tokens a reasoning model gets on top of ``max_tokens`` for its hidden reasoning
(design choice: the four studies' questions need a few hundred at medium effort; a budget that
runs out costs the call and yields no answer, while tokens not used are not billed, so this
bounds the worst case per call rather than the usual one)."""


@dataclass(frozen=True)
class ModelCapabilities:
    """What one model accepts in a chat-completion request.

    Attributes:
        max_completion_tokens: Send the budget as ``max_completion_tokens`` (``max_tokens`` is
            refused).
        temperature: Accepts a temperature (and ``top_p``, penalties) other than its default;
            when false none is sent and the model samples at its own default (1).
        logprobs: Returns log-probabilities of its first answer token, so the choice-probs
            method can score it; when false the backend says so before any call and the run
            falls back to the sample method.
        reasoning: Reasons in hidden tokens billed out of the completion budget, which then
            gets the reasoning budget on top of ``max_tokens``.
        reasoning_effort: Accepts ``reasoning_effort``.
        structured_answers: Accepts ``response_format`` of type ``json_schema`` (``auto``
            answers of a model that cannot be scored are then structured).
    """

    max_completion_tokens: bool = False
    temperature: bool = True
    logprobs: bool = True
    reasoning: bool = False
    reasoning_effort: bool = False
    structured_answers: bool = False


CHAT_MODEL = ModelCapabilities()
"""A plain chat model: every setting accepted, no structured answers assumed."""

_FIELDS = tuple(f.name for f in fields(ModelCapabilities))
_OPENAI_REASONING = {"max_completion_tokens": True, "temperature": False, "logprobs": False,
                     "reasoning": True, "reasoning_effort": True, "structured_answers": True}

SHIPPED: tuple[tuple[str, Mapping[str, bool]], ...] = (
    # o1-mini and o1-preview take neither reasoning_effort nor response_format.
    ("o1-mini*", {**_OPENAI_REASONING, "reasoning_effort": False, "structured_answers": False}),
    ("o1-preview*", {**_OPENAI_REASONING, "reasoning_effort": False,
                     "structured_answers": False}),
    ("o1*", _OPENAI_REASONING),
    ("o3*", _OPENAI_REASONING),
    ("o4*", _OPENAI_REASONING),
    ("gpt-5*", _OPENAI_REASONING),
    ("gpt-4o-2024-05-13*", {"structured_answers": False}),  # predates structured outputs
    ("gpt-4o*", {"structured_answers": True}),
    ("gpt-4.1*", {"structured_answers": True}),
    ("gpt-oss*", {"reasoning": True, "reasoning_effort": True, "logprobs": False}),
    ("deepseek-reasoner*", {"reasoning": True, "temperature": False, "logprobs": False}),
    ("deepseek-r1*", {"reasoning": True, "logprobs": False}),
    ("qwq*", {"reasoning": True, "logprobs": False}),
)
"""The shipped table, most specific pattern first (as of 2026; extend it in the config file).

First-token scoring needs the answer to be the first generated token, which it is not for a
model that reasons first (gpt-oss, DeepSeek-R1 and QwQ on vLLM or llama.cpp put their reasoning
before the answer): those are marked ``logprobs = false`` although their servers return
log-probabilities."""


@dataclass(frozen=True)
class CapabilityMatch:
    """The capabilities of one model and the table entries they came from.

    Attributes:
        capabilities: The merged capabilities.
        sources: ``"field: pattern (table)"`` for every field a table entry set, e.g.
            ``"logprobs: 'o3*' (shipped)"``; fields absent here are the plain chat model's.
    """

    capabilities: ModelCapabilities
    sources: tuple[str, ...] = ()

    def source_of(self, name: str) -> str:
        """Where field ``name`` came from: a pattern of a table, or the plain chat model."""
        for line in self.sources:
            if line.startswith(f"{name}: "):
                return line.split(": ", 1)[1]
        return "the plain chat model's default"


def parse_table(raw: Any) -> tuple[tuple[str, dict[str, bool]], ...]:
    """Check a user capability table: ``{pattern: {field: bool, ...}, ...}``.

    Raises:
        ValueError: One line naming the pattern and the field that is wrong, and what is valid.
    """
    if not isinstance(raw, Mapping):
        raise ValueError(f"must be a table of model patterns, e.g. [model_capabilities."
                         f"\"my-reasoner*\"] with logprobs = false; got {type(raw).__name__}")
    table = []
    for pattern, entry in raw.items():
        if not isinstance(pattern, str) or not pattern.strip():
            raise ValueError(f"a model pattern must be a non-empty string; got {pattern!r}")
        if not isinstance(entry, Mapping):
            raise ValueError(f"{pattern!r} must be a table of capabilities (e.g. "
                             f"logprobs = false); got {entry!r}")
        for key, value in entry.items():
            if key not in _FIELDS:
                raise ValueError(f"{pattern!r} sets {key!r}, which is not a capability; valid: "
                                 f"{', '.join(_FIELDS)}")
            if not isinstance(value, bool):
                raise ValueError(f"{pattern!r}.{key} must be true or false; got {value!r}")
        table.append((pattern, dict(entry)))
    return tuple(table)


def _matches(pattern: str, model: str) -> bool:
    pattern, model = pattern.lower(), model.lower()
    return fnmatch.fnmatchcase(model, pattern) or \
        fnmatch.fnmatchcase(model.rsplit("/", 1)[-1], pattern)


def lookup(model: str, user: Mapping[str, Mapping[str, bool]] | None = None) -> CapabilityMatch:
    """The capabilities of ``model``: user entries first, then :data:`SHIPPED`, then defaults.

    Example:
        >>> lookup("o3-mini").capabilities.logprobs
        False
        >>> lookup("o3-mini", {"o3-mini": {"logprobs": True}}).source_of("logprobs")
        "'o3-mini' (config)"
        >>> lookup("my-local-model").capabilities == CHAT_MODEL
        True
    """
    entries: list[tuple[str, Mapping[str, bool], str]] = [
        (p, e, "config") for p, e in parse_table(user or {})]
    entries += [(p, e, "shipped") for p, e in SHIPPED]
    chosen: dict[str, bool] = {}
    sources = []
    for pattern, entry, table in entries:
        if not _matches(pattern, model):
            continue
        for key, value in entry.items():
            if key not in chosen:
                chosen[key] = value
                sources.append(f"{key}: {pattern!r} ({table})")
    return CapabilityMatch(replace(CHAT_MODEL, **chosen), tuple(sources))
