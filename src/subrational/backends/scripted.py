"""A deterministic backend driven by a Python function: a test double with a known truth.

It is a real registered backend (``--model scripted:NAME``): tests, learnability checks and
authors of their own games use it to feed the pipeline a known ground truth. A script is
``fn(persona, state)`` or ``fn(persona, state, experiment)`` (add the third parameter, named
``experiment``, to serve several studies with one script); it returns one probability per
action, in the experiment's action order. Register it with :func:`register_script`, e.g. from a
file given to ``--import``. Scores are the log of the probabilities; sampled texts end with
``Answer: <option>`` for an option drawn with the request's seed. A script that returns the
wrong number of probabilities, or numbers that are not a distribution, is a one-line error.

A question that is no game state (a recall probe of :mod:`subrational.controls`: its prompt's
meta has ``probe``) is answered by the script's ``recall(probe, rng)`` function, given with
``register_script(name, fn, recall=...)`` or ``recall_fn=``; a script without one answers
"I do not remember.".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError, UnknownNameError
from .base import Backend, Capabilities, GenerateRequest, OptionScores, ScoreRequest

__all__ = ["ScriptedBackend", "register_script", "SCRIPTS", "RECALLS"]

#: (persona, state[, experiment]) -> probabilities over the experiment's actions, in its order.
ProbsFn = Callable[..., "Sequence[float] | np.ndarray"]

SCRIPTS: dict[str, ProbsFn] = {}
RECALLS: dict[str, Callable[..., str]] = {}
"""Scripts' answers to recall probes, ``(probe, rng) -> text``, by script name."""

NO_RECALL = "I do not remember."


def register_script(name: str, fn: ProbsFn, *, recall: Callable[..., str] | None = None) -> None:
    """Make ``fn`` available as ``--model scripted:NAME`` (``recall`` answers recall probes)."""
    if not callable(fn):
        raise ConfigError(f"register_script({name!r}, ...) needs a function, got {fn!r}")
    SCRIPTS[name] = fn
    if recall is not None:
        RECALLS[name] = recall
    else:
        RECALLS.pop(name, None)


def _uniform(persona: Any, state: Any, experiment: Any) -> np.ndarray:
    n = len(experiment.actions)
    return np.full(n, 1.0 / n)


def _wants_experiment(fn: ProbsFn) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "experiment" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


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
                 batch_size: int = 64, recall_fn: Callable[..., str] | None = None) -> None:
        super().__init__(model)
        if probs_fn is None:
            if model not in SCRIPTS:
                raise UnknownNameError("script", model, SCRIPTS)
            probs_fn = SCRIPTS[model]
        self.probs_fn = probs_fn
        self._with_experiment = _wants_experiment(probs_fn)
        self.texts_fn = texts_fn
        self.recall_fn = recall_fn if recall_fn is not None else RECALLS.get(model)
        self.cacheable = cacheable
        self.batch_size = batch_size
        self.calls = 0

    @property
    def capabilities(self) -> Capabilities:
        """Log-probs available; cached only when asked for."""
        return Capabilities(logprobs=True, max_concurrency=self.batch_size,
                            cacheable=self.cacheable, local_scoring=True)

    def _probs(self, meta: Any, options: Sequence[str]) -> np.ndarray:
        args = (meta["persona"], meta["state"])
        raw = (self.probs_fn(*args, experiment=meta.get("game")) if self._with_experiment
               else self.probs_fn(*args))
        actions = tuple(meta["actions"])
        try:
            probs = np.asarray(raw, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            probs = np.array([])
        where = f"script {self.model!r} for {meta.get('experiment', 'this game')}"
        if len(probs) != len(actions):
            raise ConfigError(f"{where} returned {raw!r}: give one probability per action "
                              f"({', '.join(actions)}), in that order")
        if not np.all(np.isfinite(probs)) or probs.min() < 0 or probs.sum() <= 0:
            raise ConfigError(f"{where} returned {raw!r}: probabilities must be finite, "
                              "non-negative and not all zero")
        # The function speaks in the experiment's action order; the request may list a shuffle.
        order = [actions.index(o) for o in options]
        return probs[order] / probs.sum()

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
            if req.prompt.meta.get("probe") is not None:
                probe = req.prompt.meta["probe"]
                texts.append(self.recall_fn(probe, rng) if self.recall_fn else NO_RECALL)
                continue
            probs = self._probs(req.prompt.meta, req.options)
            option = req.options[int(rng.choice(len(probs), p=probs / probs.sum()))]
            if self.texts_fn is not None:
                texts.append(self.texts_fn(req.prompt.meta["persona"], req.prompt.meta["state"],
                                           option, rng))
            else:
                texts.append(f"Let me think about the situation.\nAnswer: {option}")
        return texts
