"""Strict parsing of a sampled answer into an option index: failures are counted, never guessed.

The grammar is the one the prompt asks for: a final line ``Answer: X`` where ``X`` is exactly one
of the options. Markdown emphasis, quotes and trailing punctuation around it are ignored, and so
are words after the option that name nothing (``Answer: Reject the offer.``). Everything else is a
failure with a reason:

* no ``Answer:`` line, unless the last line is the bare option itself (``Reject``);
* an answer that names several options (``Answer: Accept or Reject? Reject.``);
* an answer with a negation (``Answer: Not Eat``, ``Answer: I would not accept``): whether the
  negation applies to the option is a guess, and guesses bias the frequencies;
* an answer that starts with anything but an option (``Answer: I think Accept``).

Only the last ``Answer:`` line counts, so a model that corrects itself is read as it concluded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ParseResult", "parse_answer", "NEGATIONS"]

_ANSWER = re.compile(r"^\W*(?:final\s+)?answer\W*?\s*[:：\-]\s*(.*)$", re.IGNORECASE)
_STRIP = re.compile(r"[*_`\"“”\[\]().,!?:;]")
NEGATIONS = frozenset({"not", "no", "never", "don't", "dont", "doesn't", "won't", "wont",
                       "wouldn't", "wouldnt", "cannot", "can't", "cant", "neither", "nor",
                       "without", "n't"})
"""Words that make an answer a failure: the parser does not decide what they negate."""


@dataclass(frozen=True)
class ParseResult:
    """``option`` is an index into the options, or ``None`` with ``reason`` saying why."""

    option: int | None
    reason: str = ""


def _tokens(text: str) -> list[str]:
    words = _STRIP.sub(" ", text.replace("’", "'").replace("‘", "'")).lower().split()
    return [t for w in words if (t := w.strip("'"))]  # quotes go, "don't" stays a word


def _option_at(tokens: list[str], options: list[list[str]]) -> int | None:
    for i, words in enumerate(options):
        if tokens[:len(words)] == words:
            return i
    return None


def _named(tokens: list[str], options: list[list[str]]) -> set[int]:
    return {i for i, words in enumerate(options)
            for k in range(len(tokens) - len(words) + 1) if tokens[k:k + len(words)] == words}


def _judge(answer: str, options: list[list[str]], where: str) -> ParseResult:
    tokens = _tokens(answer)
    if not tokens:
        return ParseResult(None, f"{where} is empty")
    if NEGATIONS & set(tokens) or any(t.endswith("n't") for t in tokens):
        return ParseResult(None, f"{where} contains a negation")
    named = _named(tokens, options)
    if len(named) > 1:
        return ParseResult(None, f"{where} names several options")
    chosen = _option_at(tokens, options)
    if chosen is None:
        return ParseResult(None, f"{where} names no single option" if not named
                           else f"{where} does not start with the option")
    return ParseResult(chosen)


def parse_answer(text: str, options: Sequence[str]) -> ParseResult:
    """Which of ``options`` the text's final ``Answer:`` line chose (see the module docstring)."""
    if not text or not text.strip():
        return ParseResult(None, "empty")
    words = [_tokens(o) for o in options]
    lines = [line for line in text.strip().splitlines() if line.strip()]
    answers = [m.group(1) for line in lines if (m := _ANSWER.match(line.strip()))]
    if answers:
        return _judge(answers[-1], words, "answer line")
    last = _tokens(lines[-1])
    chosen = _option_at(last, words)
    if chosen is not None and len(last) == len(words[chosen]):
        return ParseResult(chosen)
    return ParseResult(None, "no answer line")
