"""The optional design factors' names, levels and what each level asks of the model.

Light on purpose (no pandas, no torch): the configuration validates ``--factor`` names here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

from ..elicitation.prompts import Layout

__all__ = ["FACTOR_NAMES", "LEVELS", "DIRECT_TOKENS", "Ask", "combinations", "own_ask",
           "resolve", "with_temperature"]

FACTOR_NAMES = ("temperature", "reasoning", "placement")
"""The factors ``--factor`` takes."""

LEVELS: dict[str, tuple[Any, ...]] = {
    "temperature": (0.5, 1.0),
    "reasoning": ("direct", "cot"),
    "placement": ("system", "user"),
}
"""Each factor's levels, in the order the report lists them (design choice: the temperature's
are fixed, so that runs with different ``--temperature`` share them; 1.0 is the default run's)."""

DIRECT_TOKENS = 16
"""Token budget of a sampled one-word answer (the ``direct`` level under the sample method)."""


@dataclass(frozen=True)
class Ask:
    """One elicitation the factor design needs: how it is called and laid out.

    Attributes:
        method: ``choice-probs`` (scored) or ``sample`` (drawn).
        layout: Where the persona goes and which question is asked; the question is ``None``
            where it is the method's own, so that an ask equal to the run's compares equal.
        temperature: Sampling temperature (``None`` for a scored ask).
        max_tokens: Token budget per draw (``None`` for a scored ask).
    """

    method: str
    layout: Layout
    temperature: float | None = None
    max_tokens: int | None = None


def own_ask(config: Any, method: str) -> Ask:
    """The ask of the run's own demonstrations (its method after any fallback)."""
    if method == "choice-probs":
        return Ask(method, Layout())
    return Ask(method, Layout(), float(config.temperature), int(config.max_tokens))


def combinations(factors: Sequence[str]) -> list[dict[str, Any]]:
    """The full factorial of the factors' levels, as ``{factor: level}`` cells."""
    return [dict(zip(factors, levels, strict=True))
            for levels in product(*(LEVELS[f] for f in factors))]


def resolve(cell: Mapping[str, Any], config: Any, method: str) -> tuple[Ask, float | None]:
    """The ask of one factor cell, and the temperature to apply to scored answers (or None).

    ``reasoning=cot`` is always sampled (a scored answer has no reasoning before it);
    ``reasoning=direct`` keeps the run's method, sampled with :data:`DIRECT_TOKENS` tokens. A
    temperature level is sampled at where the ask is sampled and applied to the options'
    distribution where it is scored (:func:`with_temperature`).
    """
    own_question = "direct" if method == "choice-probs" else "cot"
    question = cell.get("reasoning", own_question)
    ask_method = "sample" if question == "cot" else method
    native = "direct" if ask_method == "choice-probs" else "cot"
    layout = Layout(cell.get("placement", "system"), None if question == native else question)
    if ask_method == "choice-probs":
        t = cell.get("temperature")
        return Ask(ask_method, layout), None if t is None else float(t)
    temperature = float(cell.get("temperature", config.temperature))
    tokens = (min(DIRECT_TOKENS, int(config.max_tokens)) if question == "direct"
              else int(config.max_tokens))
    return Ask(ask_method, layout, temperature, tokens), None


def with_temperature(probs: Sequence[float], temperature: float) -> tuple[float, ...]:
    """``p_i^(1/T) / sum_j p_j^(1/T)``: a scored distribution at sampling temperature ``T``.

    Sampling at ``T`` divides the logits by ``T``; restricted to the options, that is this
    power when every option is one token (for options of several tokens the sequence's
    probability is not a softmax of one logit, and the transform is an approximation). NaN
    stays NaN (a failed cell); ``T = 1`` returns the distribution unchanged.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be above 0; got {temperature}")
    p = [float(x) for x in probs]
    if any(math.isnan(x) for x in p):
        return tuple(p)
    logs = [math.log(x) / temperature if x > 0 else -math.inf for x in p]
    top = max(logs)
    w = [math.exp(x - top) for x in logs]
    total = sum(w)
    return tuple(x / total for x in w)
