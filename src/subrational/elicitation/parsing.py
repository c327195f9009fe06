"""Tolerant parsing of a sampled answer into an option index; failures are reported, not guessed.

Order of attempts: the last ``Answer: X`` line (any case, markdown and punctuation ignored); else
the last line if it names exactly one option; else the whole text if it names exactly one option.
Anything else is a failure with a reason, counted in the demonstrations.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ParseResult", "parse_answer"]

_ANSWER = re.compile(r"answer\s*[:：\-]\s*(.+)", re.IGNORECASE)
_STRIP = re.compile(r"[*_`\"'“”‘’\[\]().,!?:;]")


@dataclass(frozen=True)
class ParseResult:
    """``option`` is an index into the options, or ``None`` with ``reason`` saying why."""

    option: int | None
    reason: str = ""


def _mentioned(text: str, options: Sequence[str]) -> set[int]:
    words = set(_STRIP.sub(" ", text).lower().split())
    return {i for i, o in enumerate(options) if o.lower() in words}


def _leading(text: str, options: Sequence[str]) -> int | None:
    cleaned = _STRIP.sub(" ", text).strip().lower()
    for i, o in enumerate(options):
        if cleaned.startswith(o.lower()):
            return i
    return None


def parse_answer(text: str, options: Sequence[str]) -> ParseResult:
    """Find which of ``options`` (single words, distinct first words) the text chose."""
    if not text or not text.strip():
        return ParseResult(None, "empty")
    answers = _ANSWER.findall(text)
    if answers:
        chosen = _leading(answers[-1], options)
        if chosen is not None:
            return ParseResult(chosen)
        hits = _mentioned(answers[-1], options)
        if len(hits) == 1:
            return ParseResult(hits.pop())
        return ParseResult(None, "answer line names no single option")
    last = text.strip().splitlines()[-1]
    for candidate, where in ((last, "last line"), (text, "text")):
        hits = _mentioned(candidate, options)
        if len(hits) == 1:
            return ParseResult(hits.pop())
        if len(hits) > 1:
            return ParseResult(None, f"ambiguous: {where} names several options")
    return ParseResult(None, "no option named")
