"""Rendering an experiment state into chat messages.

Layout: the fixed story and persona go in the system message, the state and the question last,
so prompts for one persona share a long prefix (KV cache locally, prompt caching remotely).
The option order in the question is the counterbalanced factor. Any wording change here must bump
``PROMPT_VERSION`` (stored in the manifest; the cache keys change by themselves).

A :class:`Layout` moves two things for the optional design factors (:mod:`subrational.factors`):
``placement="user"`` takes the persona's text out of the instructions (where it must appear
verbatim) and puts it first in the user message; ``question`` asks the one-word question
(``direct``) or the think-then-answer one (``cot``) whatever the method. The default layout is
the prompts above, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations
from typing import Any

from ..backends.base import Message, Prompt
from ..experiments.core import Experiment, Persona

__all__ = ["PROMPT_VERSION", "PLACEMENTS", "QUESTIONS", "Layout", "option_orders",
           "persona_removed", "render"]

PROMPT_VERSION = 1

_CHOICE = "Answer with exactly one word: {options}."
_SAMPLE = ("Think it through in two or three sentences, as this person would. Then end with a "
           "final line of the form \"Answer: X\", where X is one of: {options}.")


PLACEMENTS = ("system", "user")
"""Where the persona's text goes: the system message (the instructions) or the user message."""
QUESTIONS = ("direct", "cot")
"""The one-word question (choice-probs' own) or the think-then-answer one (sample's own)."""


@dataclass(frozen=True)
class Layout:
    """How a prompt is laid out beyond its cell (module docstring).

    Attributes:
        placement: ``system`` (the persona opens the instructions) or ``user`` (it opens the
            user message, and the instructions lose it).
        question: ``direct``, ``cot``, or ``None`` for the method's own question.
    """

    placement: str = "system"
    question: str | None = None

    def __post_init__(self) -> None:
        if self.placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {', '.join(PLACEMENTS)}; "
                             f"got {self.placement!r}")
        if self.question is not None and self.question not in QUESTIONS:
            raise ValueError(f"question must be one of {', '.join(QUESTIONS)} or None; "
                             f"got {self.question!r}")


DEFAULT_LAYOUT = Layout()


def persona_removed(instructions: str, text: str) -> str | None:
    """``instructions`` without the persona's ``text`` (its first occurrence), or ``None``.

    ``None`` when the text is empty or not in the instructions verbatim: the persona cannot be
    moved. The whitespace around the text is closed up to one separator.
    """
    at = instructions.find(text) if text else -1
    if at < 0:
        return None
    before, after = instructions[:at], instructions[at + len(text):]
    if not before.strip():
        return after.lstrip()
    if not after.strip():
        return before.rstrip()
    gap = after[:len(after) - len(after.lstrip())] or " "
    return before.rstrip() + gap + after.lstrip()


def option_orders(n: int) -> list[tuple[int, ...]]:
    """Counterbalanced orders: every permutation up to 3 options, cyclic shifts beyond."""
    base = tuple(range(n))
    if n <= 3:
        return list(permutations(base))
    return [base[i:] + base[:i] for i in range(n)]


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def render(experiment: Experiment, persona: Persona, state: Any, order: tuple[int, ...], *,
           method: str, paraphrase: int = 0, layout: Layout = DEFAULT_LAYOUT) -> Prompt:
    """Messages for one persona x state x wording x option order.

    ``method`` is choice-probs or sample; ``paraphrase`` indexes
    :meth:`~subrational.experiments.Experiment.paraphrases` (0: the instructions themselves);
    ``layout`` moves the persona or changes the question (module docstring). A persona that
    is not in its instructions verbatim cannot be moved: a ``ValueError`` (check first with
    :func:`persona_removed`).
    """
    words = [experiment.actions[i] for i in order]
    kind = layout.question or ("direct" if method == "choice-probs" else "cot")
    template = _CHOICE if kind == "direct" else _SAMPLE
    question = template.format(options=_join(words))
    system = (experiment.paraphrases(persona)[paraphrase] if paraphrase
              else experiment.instructions(persona))
    user = f"{experiment.situation(state, persona)}\n{question}"
    if layout.placement == "user":
        moved = persona_removed(system, persona.text)
        if moved is None:
            raise ValueError(f"the text of persona {persona.name!r} is not in the "
                             f"instructions of {experiment.id} verbatim: it cannot be moved")
        system, user = moved, f"{persona.text}\n{user}"
    messages = (Message("system", system), Message("user", user))
    meta = {"experiment": experiment.id, "persona": persona, "state": state,
            "actions": experiment.actions, "game": experiment}
    return Prompt(messages, meta)
