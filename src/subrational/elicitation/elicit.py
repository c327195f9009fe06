"""The two elicitation methods: from an LLM persona to per-state action distributions.

* ``choice-probs``: one scoring call per persona x state x option order; the option
  log-probabilities are normalised over the options. The *option mass* (probability on all options
  before normalising) says whether the model answers the question at all.
* ``sample`` (the paper's): N chain-of-thought completions per persona x state x option order at
  temperature 1, parsed tolerantly; unparseable draws are counted, never guessed; frequencies are
  smoothed (Jeffreys, or a KDE for ordinal actions).

Each call's seed is derived from the run seed and the cell, so draw ``i`` of a cell is the same
call in every run with that seed, and the cache serves it.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backends.base import GenerateRequest, ScoreRequest
from ..cache import CachedBackend
from ..errors import UnknownNameError
from ..experiments.core import Experiment, Persona, state_key
from .parsing import parse_answer
from .prompts import option_orders, render
from .smoothing import jeffreys, kde_ordinal

__all__ = ["METHODS", "DemoRow", "SampleSettings", "elicit", "plan_size"]

METHODS = ("choice-probs", "sample")


@dataclass(frozen=True)
class SampleSettings:
    """Settings of the ``sample`` method: draws per cell, temperature, token budget."""

    samples: int = 10
    temperature: float = 1.0
    max_tokens: int = 160


@dataclass(frozen=True)
class DemoRow:
    """One persona x state x option-order cell of LLM demonstrations.

    Attributes:
        persona: Persona name.
        state: The game state object.
        variant: The option order shown, e.g. ``"Reject|Accept"``.
        method: ``choice-probs`` or ``sample``.
        probs: Action distribution in the experiment's action order (NaN when the cell failed).
        option_mass: Probability on all options before normalising (choice-probs; NaN for sample).
        logprobs: Raw option log-probabilities (choice-probs).
        n_draws: Draws asked (sample).
        n_failed: Draws that could not be parsed (sample).
        texts: Sampled texts (sample).
        failures: Parse failure reasons with counts (sample).
        status: ``ok`` or ``failed``.
    """

    persona: str
    state: Any
    variant: str
    method: str
    probs: tuple[float, ...]
    option_mass: float = math.nan
    logprobs: tuple[float, ...] = ()
    n_draws: int = 0
    n_failed: int = 0
    texts: tuple[str, ...] = ()
    failures: dict[str, int] = field(default_factory=dict)
    status: str = "ok"


def _cells(experiment: Experiment, personas: Sequence[Persona]):
    for persona in personas:
        for state in experiment.states():
            for order in option_orders(len(experiment.actions)):
                yield persona, state, order


def plan_size(experiment: Experiment, personas: Sequence[Persona], *, method: str,
              samples: int) -> int:
    """Number of model requests the plan needs (before the cache answers any)."""
    cells = len(personas) * len(experiment.states()) * len(option_orders(len(experiment.actions)))
    return cells * (samples if method == "sample" else 1)


def _variant(experiment: Experiment, order: tuple[int, ...]) -> str:
    return "|".join(experiment.actions[i] for i in order)


def _choice_probs(experiment: Experiment, personas: Sequence[Persona],
                  backend: CachedBackend) -> list[DemoRow]:
    cells = list(_cells(experiment, personas))
    requests = [ScoreRequest(render(experiment, p, s, o, method="choice-probs"),
                             experiment.actions) for p, s, o in cells]
    rows = []
    for (persona, state, order), scores in zip(cells, backend.score(requests), strict=True):
        lp = np.asarray(scores.logprobs, dtype=float)
        mass = float(np.exp(lp).sum())
        ok = mass > 0 and np.isfinite(lp).any()
        probs = np.exp(lp - lp.max()) if ok else np.full(len(lp), np.nan)
        probs = probs / probs.sum()
        rows.append(DemoRow(persona.name, state, _variant(experiment, order), "choice-probs",
                            tuple(float(p) for p in probs), mass, tuple(float(x) for x in lp),
                            status="ok" if ok else "failed"))
    return rows


def draw_seed(seed: int, persona: str, state: Any, order: tuple[int, ...], draw: int) -> int:
    """A 31-bit seed that identifies one draw of one cell for a run seed."""
    text = f"{seed}|{persona}|{state_key(state)}|{order}|{draw}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") >> 1


def _sample(experiment: Experiment, personas: Sequence[Persona], backend: CachedBackend, *,
            settings: SampleSettings, seed: int) -> list[DemoRow]:
    cells = list(_cells(experiment, personas))
    n = settings.samples
    requests = [GenerateRequest(render(experiment, p, s, o, method="sample"),
                                temperature=settings.temperature, max_tokens=settings.max_tokens,
                                seed=draw_seed(seed, p.name, s, o, d), options=experiment.actions)
                for p, s, o in cells for d in range(n)]
    texts = backend.generate(requests)
    smooth = kde_ordinal if experiment.ordinal_actions else jeffreys
    rows = []
    for c, (persona, state, order) in enumerate(cells):
        draws = texts[c * n:(c + 1) * n]
        parsed = [parse_answer(t, experiment.actions) for t in draws]
        counts = np.bincount([p.option for p in parsed if p.option is not None],
                             minlength=len(experiment.actions))
        failures = Counter(p.reason for p in parsed if p.option is None)
        n_failed = sum(failures.values())
        rows.append(DemoRow(persona.name, state, _variant(experiment, order), "sample",
                            tuple(float(p) for p in smooth(counts)), n_draws=n,
                            n_failed=n_failed, texts=tuple(draws), failures=dict(failures),
                            status="ok" if n_failed < n else "failed"))
    return rows


def elicit(experiment: Experiment, personas: Sequence[Persona], backend: CachedBackend, *,
           method: str = "choice-probs", settings: SampleSettings | None = None,
           seed: int = 0) -> list[DemoRow]:
    """Ask the LLM persona at every state of the grid with the chosen method."""
    if method == "choice-probs":
        return _choice_probs(experiment, personas, backend)
    if method == "sample":
        return _sample(experiment, personas, backend, settings=settings or SampleSettings(),
                       seed=seed)
    raise UnknownNameError("method", method, METHODS)
