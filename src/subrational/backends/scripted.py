"""A deterministic backend driven by a Python function of (persona, state).

It is a real registered backend (``scripted:NAME``): tests and learnability checks use it to feed
the pipeline a known ground truth. Scores are the log of the function's probabilities; sampled
texts end with ``Answer: <option>`` for an option drawn with the request's seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import UnknownNameError
from .base import Backend, Capabilities, GenerateRequest, OptionScores, ScoreRequest

__all__ = ["ScriptedBackend", "register_script", "SCRIPTS"]

#: (persona, state) -> probabilities over the experiment's actions, in canonical action order.
ProbsFn = Callable[[Any, Any], Sequence[float]]

SCRIPTS: dict[str, ProbsFn] = {}


def register_script(name: str, fn: ProbsFn) -> None:
    """Make ``fn`` available as ``--model scripted:NAME``."""
    SCRIPTS[name] = fn


def _uniform(persona: Any, state: Any) -> list[float]:
    return [0.5, 0.5]


register_script("uniform", _uniform)


class ScriptedBackend(Backend):
    """Backend whose answers come from ``probs_fn(persona, state)``.

    Args:
        model: Name of a registered script (ignored when ``probs_fn`` is given).
        probs_fn: The ground-truth function; its output is in the experiment's action order.
        texts_fn: Optional ``(persona, state, option, rng) -> str`` for custom sampled texts.
        cacheable: Let the on-disk cache store its answers (off by default: a function may
            change between runs under the same name). Tests of caching turn it on.
        batch_size: Requests per call, as a model backend would batch them.
    """

    name = "scripted"

    def __init__(self, model: str = "custom", *, probs_fn: ProbsFn | None = None,
                 texts_fn: Callable[..., str] | None = None, cacheable: bool = False,
                 batch_size: int = 64, **_: Any) -> None:
        super().__init__(model)
        if probs_fn is None:
            if model not in SCRIPTS:
                raise UnknownNameError("script", model, SCRIPTS)
            probs_fn = SCRIPTS[model]
        self.probs_fn = probs_fn
        self.texts_fn = texts_fn
        self.cacheable = cacheable
        self.batch_size = batch_size
        self.calls = 0

    @property
    def capabilities(self) -> Capabilities:
        """Log-probs available; cached only when asked for."""
        return Capabilities(logprobs=True, max_concurrency=self.batch_size,
                            cacheable=self.cacheable)

    def _probs(self, meta: Any, options: Sequence[str]) -> np.ndarray:
        probs = np.asarray(self.probs_fn(meta["persona"], meta["state"]), dtype=float)
        # The function speaks in the experiment's action order; the request may list a shuffle.
        order = [meta["actions"].index(o) for o in options]
        return probs[order]

    def score(self, requests: Sequence[ScoreRequest]) -> list[OptionScores]:
        """Log of the scripted probabilities, in each request's option order."""
        self.calls += len(requests)
        out = []
        for req in requests:
            with np.errstate(divide="ignore"):
                lp = np.log(self._probs(req.prompt.meta, req.options))
            out.append(OptionScores(tuple(float(x) for x in lp)))
        return out

    def generate(self, requests: Sequence[GenerateRequest]) -> list[str]:
        """Texts ending in ``Answer: <option>``, the option drawn with the request's seed."""
        self.calls += len(requests)
        texts = []
        for req in requests:
            rng = np.random.default_rng(req.seed)
            probs = self._probs(req.prompt.meta, req.options)
            option = req.options[int(rng.choice(len(probs), p=probs / probs.sum()))]
            if self.texts_fn is not None:
                texts.append(self.texts_fn(req.prompt.meta["persona"], req.prompt.meta["state"],
                                           option, rng))
            else:
                texts.append(f"Let me think about the situation.\nAnswer: {option}")
        return texts
