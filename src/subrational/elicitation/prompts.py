"""Rendering an experiment state into chat messages.

Layout: the fixed story and persona go in the system message, the state and the question last,
so prompts for one persona share a long prefix (KV cache locally, prompt caching remotely).
The option order in the question is the counterbalanced factor. Any wording change here must bump
``PROMPT_VERSION`` (stored in the manifest; the cache keys change by themselves).
"""

from __future__ import annotations

from itertools import permutations
from typing import Any

from ..backends.base import Message, Prompt
from ..experiments.core import Experiment, Persona

__all__ = ["PROMPT_VERSION", "option_orders", "render"]

PROMPT_VERSION = 1

_CHOICE = "Answer with exactly one word: {options}."
_SAMPLE = ("Think it through in two or three sentences, as this person would. Then end with a "
           "final line of the form \"Answer: X\", where X is one of: {options}.")


def option_orders(n: int) -> list[tuple[int, ...]]:
    """Counterbalanced orders: every permutation up to 3 options, cyclic shifts beyond."""
    base = tuple(range(n))
    if n <= 3:
        return list(permutations(base))
    return [base[i:] + base[:i] for i in range(n)]


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def render(experiment: Experiment, persona: Persona, state: Any, order: tuple[int, ...], *,
           method: str, paraphrase: int = 0) -> Prompt:
    """Messages for one persona x state x wording x option order.

    ``method`` is choice-probs or sample; ``paraphrase`` indexes
    :meth:`~subrational.experiments.Experiment.paraphrases` (0: the instructions themselves).
    """
    words = [experiment.actions[i] for i in order]
    template = _CHOICE if method == "choice-probs" else _SAMPLE
    question = template.format(options=_join(words))
    system = (experiment.paraphrases(persona)[paraphrase] if paraphrase
              else experiment.instructions(persona))
    messages = (Message("system", system),
                Message("user", f"{experiment.situation(state, persona)}\n{question}"))
    meta = {"experiment": experiment.id, "persona": persona, "state": state,
            "actions": experiment.actions, "game": experiment}
    return Prompt(messages, meta)
