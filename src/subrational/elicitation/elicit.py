"""The two elicitation methods: from an LLM persona to per-state action distributions.

* ``choice-probs``: one scoring call per persona x state x option order; the option
  log-probabilities are normalised over the options. The *option mass* (probability on all options
  before normalising) says whether the model answers the question at all.
* ``sample`` (the paper's): N chain-of-thought completions per persona x state x option order at
  temperature 1, parsed tolerantly; unparseable draws are counted, never guessed; frequencies are
  smoothed (Jeffreys, or a KDE for ordinal actions). For a sequential game (several decisions per
  episode) the persona instead plays N episodes per option order: each sampled answer is the
  action taken, so states are asked about as often as the persona's own choices reach them, as in
  the paper. An unparseable answer is asked again (a new draw, up to ``MAX_ATTEMPTS``) and the
  episode is abandoned, never guessed, when every attempt fails.

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
MAX_ATTEMPTS = 3
"""Draws asked at one step of a sampled episode before the episode is abandoned."""
MAX_EPISODE_STEPS = 1000


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
    """Number of model requests the plan needs (before the cache answers any).

    For the sample method on a sequential game this is an upper bound (every episode visiting
    every grid state once): the persona's own choices decide how long episodes last.
    """
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


def draw_seed(seed: int, persona: str, state: Any, order: tuple[int, ...], draw: int | str) -> int:
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


@dataclass
class _Episode:
    """A sampled episode in progress: who plays, in which option order, where it is now."""

    persona: Persona
    order: tuple[int, ...]
    index: int
    state: Any
    rng: np.random.Generator
    steps: int = 0
    attempt: int = 0


@dataclass
class _Cell:
    texts: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)


def _episode_rng(seed: int, persona: str, order: tuple[int, ...],
                 index: int) -> np.random.Generator:
    text = f"{seed}|{persona}|{order}|episode {index}"
    return np.random.default_rng(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def _start_episodes(experiment: Experiment, personas: Sequence[Persona], *, samples: int,
                    seed: int) -> list[_Episode]:
    episodes = []
    for persona in personas:
        for order in option_orders(len(experiment.actions)):
            for index in range(samples):
                rng = _episode_rng(seed, persona.name, order, index)
                episodes.append(_Episode(persona, order, index,
                                         experiment.initial_state(persona, rng=rng), rng))
    return episodes


def _advance(experiment: Experiment, ep: _Episode, text: str, cell: _Cell) -> bool:
    """Record one answer in its cell and move the episode on; False when the episode is over."""
    parsed = parse_answer(text, experiment.actions)
    cell.texts.append(text)
    if parsed.option is None:
        cell.failures[parsed.reason] += 1
        ep.attempt += 1
        return ep.attempt < MAX_ATTEMPTS
    cell.counts[parsed.option] += 1
    result = experiment.sample_step(ep.state, parsed.option, ep.persona, rng=ep.rng)
    ep.state, ep.steps, ep.attempt = result.next_state, ep.steps + 1, 0
    return not result.terminated and ep.steps < MAX_EPISODE_STEPS


def _sample_rollouts(experiment: Experiment, personas: Sequence[Persona], backend: CachedBackend,
                     *, settings: SampleSettings, seed: int) -> list[DemoRow]:
    """The persona plays ``settings.samples`` episodes per option order, all in lockstep."""
    cells: dict[tuple[str, Any, tuple[int, ...]], _Cell] = {}
    active = _start_episodes(experiment, personas, samples=settings.samples, seed=seed)
    while active:
        requests = [GenerateRequest(render(experiment, ep.persona, ep.state, ep.order,
                                           method="sample"),
                                    temperature=settings.temperature,
                                    max_tokens=settings.max_tokens, options=experiment.actions,
                                    seed=draw_seed(seed, ep.persona.name, ep.state, ep.order,
                                                   f"episode {ep.index} try {ep.attempt}"))
                    for ep in active]
        still = []
        for ep, text in zip(active, backend.generate(requests), strict=True):
            cell = cells.setdefault((ep.persona.name, ep.state, ep.order), _Cell())
            if _advance(experiment, ep, text, cell):
                still.append(ep)
        active = still
    return _rollout_rows(experiment, personas, cells)


def _rollout_rows(experiment: Experiment, personas: Sequence[Persona],
                  cells: dict[tuple[str, Any, tuple[int, ...]], _Cell]) -> list[DemoRow]:
    smooth = kde_ordinal if experiment.ordinal_actions else jeffreys
    n = len(experiment.actions)
    rows = []
    grid = {state: i for i, state in enumerate(experiment.states())}
    ordered = sorted(cells, key=lambda k: ([p.name for p in personas].index(k[0]),
                                           grid.get(k[1], len(grid)), state_key(k[1]), k[2]))
    for persona, state, order in ordered:
        cell = cells[(persona, state, order)]
        counts = np.array([cell.counts[i] for i in range(n)])
        rows.append(DemoRow(persona, state, _variant(experiment, order), "sample",
                            tuple(float(p) for p in smooth(counts)), n_draws=len(cell.texts),
                            n_failed=sum(cell.failures.values()), texts=tuple(cell.texts),
                            failures=dict(cell.failures),
                            status="ok" if counts.sum() else "failed"))
    return rows


def elicit(experiment: Experiment, personas: Sequence[Persona], backend: CachedBackend, *,
           method: str = "choice-probs", settings: SampleSettings | None = None,
           seed: int = 0) -> list[DemoRow]:
    """Ask the LLM persona at every state of the grid with the chosen method."""
    if method == "choice-probs":
        return _choice_probs(experiment, personas, backend)
    if method == "sample":
        sampler = _sample_rollouts if experiment.sequential else _sample
        return sampler(experiment, personas, backend, settings=settings or SampleSettings(),
                       seed=seed)
    raise UnknownNameError("method", method, METHODS)
