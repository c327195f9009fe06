"""The two elicitation methods: from an LLM persona to per-state action distributions.

* ``choice-probs``: one scoring call per persona x state x option order; the option
  log-probabilities are normalised over the options. The *option mass* (probability on all options
  before normalising) says whether the model answers the question at all.
* ``sample`` (the paper's): N chain-of-thought completions per persona x state x option order at
  temperature 1, parsed tolerantly; unparseable draws are counted, never guessed. Each row keeps
  its raw ``counts`` and its frequencies as ``probs`` (NaN when no draw parsed): smoothing is
  applied to the targets only, after pooling the counts over wordings and orders
  (:mod:`.smoothing`). For a sequential game (several decisions per
  episode) the persona instead plays N episodes per option order: each sampled answer is the
  action taken, so states are asked about as often as the persona's own choices reach them, as in
  the paper. An unparseable answer is asked again (a new draw, up to ``MAX_ATTEMPTS``) and the
  episode is abandoned, never guessed, when every attempt fails. Every row records which
  episodes answered in it (``episode_steps``: episode index, step, action, reward; action -1
  where the episode was abandoned), so the episodes themselves can be put back together.

Each call's seed is derived from the run seed and the cell, so draw ``i`` of a cell is the same
call in every run with that seed, and the cache serves it. A :class:`~.prompts.Layout` (the
design factors' placement and question) changes the prompts only, never the seeds: a cell laid
out as the run's own is the run's own call.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backends.base import FailedCall, GenerateRequest, ScoreRequest
from ..cache import CachedBackend
from ..errors import UnknownNameError
from ..experiments.core import Experiment, Persona, state_key
from ..seeding import derive_seed, derived_rng
from .parsing import parse_answer
from .prompts import DEFAULT_LAYOUT, Layout, option_orders, render
from .smoothing import frequencies

__all__ = ["ABANDONED", "CALL_FAILED", "METHODS", "Cell", "DemoRow", "SampleSettings", "elicit",
           "plan_size", "wordings"]

METHODS = ("choice-probs", "sample")
MAX_ATTEMPTS = 3
"""Draws asked at one step of a sampled episode before the episode is abandoned."""
MAX_EPISODE_STEPS = 1000
ABANDONED = -1
"""The action recorded in ``episode_steps`` where every attempt at a step failed to parse."""
CALL_FAILED = -2
"""The action recorded in ``episode_steps`` where the call failed: the episode is incomplete."""


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
        paraphrase: Index of the instructions' wording.
        counts: Parsed draws per action (sample), in the experiment's action order.
        episode_steps: (episode index, step, action, reward) of every episode that answered
            here (sequential sample; action ``ABANDONED``, reward NaN, where the episode was
            given up; ``CALL_FAILED`` where its call failed).
        n_call_failed: Calls that failed after their retries (sample; not in ``n_draws``).
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
    paraphrase: int = 0
    counts: tuple[int, ...] = ()
    episode_steps: tuple[tuple[int, int, int, float], ...] = ()
    n_call_failed: int = 0


@dataclass(frozen=True)
class Cell:
    """One prompt of the plan: who, where, in which wording and which option order."""

    persona: Persona
    state: Any
    paraphrase: int
    order: tuple[int, ...]
    layout: Layout = DEFAULT_LAYOUT

    def prompt(self, experiment: Experiment, method: str) -> Any:
        """The rendered messages of this cell."""
        return render(experiment, self.persona, self.state, self.order, method=method,
                      paraphrase=self.paraphrase, layout=self.layout)

    def seed(self, seed: int, draw: int | str) -> int:
        """A 31-bit seed identifying one draw of this cell under a run seed.

        The first wording keeps the key it had before paraphrases existed, so earlier caches
        still answer it.
        """
        wording = [f"p{self.paraphrase}"] if self.paraphrase else []
        return derive_seed(seed, self.persona.name, state_key(self.state), self.order, draw,
                           *wording, bits=31)


def wordings(experiment: Experiment, paraphrases: int | None = None) -> list[tuple[int, tuple]]:
    """(paraphrase, option order) pairs: the first ``paraphrases`` wordings x every order."""
    persona = next(iter(experiment.personas.values()))
    n = len(experiment.paraphrases(persona))
    n = n if paraphrases is None else max(1, min(n, paraphrases))
    return [(k, order) for k in range(n) for order in option_orders(len(experiment.actions))]


def _cells(experiment: Experiment, personas: Sequence[Persona], paraphrases: int | None,
           layout: Layout = DEFAULT_LAYOUT) -> list[Cell]:
    return [Cell(persona, state, k, order, layout) for persona in personas
            for state in experiment.states() for k, order in wordings(experiment, paraphrases)]


def plan_size(experiment: Experiment, personas: Sequence[Persona], *, method: str,
              samples: int, paraphrases: int | None = None) -> int:
    """Number of model requests the plan needs (before the cache answers any).

    For the sample method on a sequential game this is an upper bound (every episode visiting
    every grid state once): the persona's own choices decide how long episodes last.
    """
    cells = len(personas) * len(experiment.states()) * len(wordings(experiment, paraphrases))
    return cells * (samples if method == "sample" else 1)


def _variant(experiment: Experiment, order: tuple[int, ...]) -> str:
    return "|".join(experiment.actions[i] for i in order)


def _choice_probs(experiment: Experiment, personas: Sequence[Persona], backend: CachedBackend,
                  *, paraphrases: int | None, layout: Layout) -> list[DemoRow]:
    cells = _cells(experiment, personas, paraphrases, layout)
    requests = [ScoreRequest(c.prompt(experiment, "choice-probs"), experiment.actions)
                for c in cells]
    rows = []
    for cell, scores in zip(cells, backend.score(requests), strict=True):
        if isinstance(scores, FailedCall):
            rows.append(DemoRow(cell.persona.name, cell.state, _variant(experiment, cell.order),
                                "choice-probs", (math.nan,) * len(experiment.actions),
                                status="call-failed", paraphrase=cell.paraphrase))
            continue
        lp = np.asarray(scores.logprobs, dtype=float)
        mass = float(np.exp(lp).sum())
        ok = mass > 0 and np.isfinite(lp).any()
        probs = np.exp(lp - lp.max()) if ok else np.full(len(lp), np.nan)
        probs = probs / probs.sum()
        rows.append(DemoRow(cell.persona.name, cell.state, _variant(experiment, cell.order),
                            "choice-probs", tuple(float(p) for p in probs), mass,
                            tuple(float(x) for x in lp), status="ok" if ok else "failed",
                            paraphrase=cell.paraphrase))
    return rows


def _sample(experiment: Experiment, personas: Sequence[Persona], backend: CachedBackend, *,
            settings: SampleSettings, seed: int, paraphrases: int | None,
            layout: Layout) -> list[DemoRow]:
    cells = _cells(experiment, personas, paraphrases, layout)
    n = settings.samples
    requests = [GenerateRequest(c.prompt(experiment, "sample"), temperature=settings.temperature,
                                max_tokens=settings.max_tokens, seed=c.seed(seed, d),
                                options=experiment.actions)
                for c in cells for d in range(n)]
    texts = backend.generate(requests)
    rows = []
    for c, cell in enumerate(cells):
        draws = [t for t in texts[c * n:(c + 1) * n] if not isinstance(t, FailedCall)]
        parsed = [parse_answer(t, experiment.actions) for t in draws]
        counts = np.bincount([p.option for p in parsed if p.option is not None],
                             minlength=len(experiment.actions))
        failures = Counter(p.reason for p in parsed if p.option is None)
        n_failed = sum(failures.values())
        status = "call-failed" if not draws else "ok" if n_failed < len(draws) else "failed"
        rows.append(DemoRow(cell.persona.name, cell.state, _variant(experiment, cell.order),
                            "sample", tuple(float(p) for p in frequencies(counts)),
                            n_draws=len(draws), n_failed=n_failed, texts=tuple(draws),
                            failures=dict(failures), status=status, paraphrase=cell.paraphrase,
                            counts=tuple(int(x) for x in counts),
                            n_call_failed=n - len(draws)))
    return rows


@dataclass
class _Episode:
    """A sampled episode in progress: who plays, in which wording, where it is now."""

    persona: Persona
    paraphrase: int
    order: tuple[int, ...]
    index: int
    state: Any
    rng: np.random.Generator
    steps: int = 0
    attempt: int = 0
    layout: Layout = DEFAULT_LAYOUT

    @property
    def cell(self) -> Cell:
        """The prompt cell of the episode's current state."""
        return Cell(self.persona, self.state, self.paraphrase, self.order, self.layout)


@dataclass
class _Tally:
    texts: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    steps: list[tuple[int, int, int, float]] = field(default_factory=list)
    call_failed: int = 0


def _episode_rng(seed: int, persona: str, wording: tuple[int, tuple[int, ...]],
                 index: int) -> np.random.Generator:
    return derived_rng(seed, persona, wording[1], f"episode {index}",
                       *([f"p{wording[0]}"] if wording[0] else []))


def _start_episodes(experiment: Experiment, personas: Sequence[Persona], *, samples: int,
                    seed: int, paraphrases: int | None,
                    layout: Layout = DEFAULT_LAYOUT) -> list[_Episode]:
    episodes = []
    for persona in personas:
        for wording in wordings(experiment, paraphrases):
            for index in range(samples):
                rng = _episode_rng(seed, persona.name, wording, index)
                episodes.append(_Episode(persona, wording[0], wording[1], index,
                                         experiment.initial_state(persona, rng=rng), rng,
                                         layout=layout))
    return episodes


def _advance(experiment: Experiment, ep: _Episode, text: str, cell: _Tally) -> bool:
    """Record one answer in its cell and move the episode on; False when the episode is over."""
    parsed = parse_answer(text, experiment.actions)
    cell.texts.append(text)
    if parsed.option is None:
        cell.failures[parsed.reason] += 1
        ep.attempt += 1
        if ep.attempt >= MAX_ATTEMPTS:
            cell.steps.append((ep.index, ep.steps, ABANDONED, math.nan))
            return False
        return True
    cell.counts[parsed.option] += 1
    result = experiment.sample_step(ep.state, parsed.option, ep.persona, rng=ep.rng)
    cell.steps.append((ep.index, ep.steps, parsed.option, float(result.reward)))
    ep.state, ep.steps, ep.attempt = result.next_state, ep.steps + 1, 0
    return not result.terminated and ep.steps < MAX_EPISODE_STEPS


def _sample_rollouts(experiment: Experiment, personas: Sequence[Persona], backend: CachedBackend,
                     *, settings: SampleSettings, seed: int, paraphrases: int | None,
                     layout: Layout) -> list[DemoRow]:
    """The persona plays ``settings.samples`` episodes per wording, all in lockstep."""
    tallies: dict[tuple[str, Any, int, tuple[int, ...]], tuple[Cell, _Tally]] = {}
    active = _start_episodes(experiment, personas, samples=settings.samples, seed=seed,
                             paraphrases=paraphrases, layout=layout)
    while active:
        requests = [GenerateRequest(ep.cell.prompt(experiment, "sample"),
                                    temperature=settings.temperature,
                                    max_tokens=settings.max_tokens, options=experiment.actions,
                                    seed=ep.cell.seed(seed, f"episode {ep.index} try {ep.attempt}"))
                    for ep in active]
        still = []
        for ep, text in zip(active, backend.generate(requests), strict=True):
            if text is None:  # no answer to be had (a plan: subrational.plan): the episode ends
                continue
            key = (ep.persona.name, ep.state, ep.paraphrase, ep.order)
            _, tally = tallies.setdefault(key, (ep.cell, _Tally()))
            if isinstance(text, FailedCall):  # the episode is incomplete, not abandoned
                tally.call_failed += 1
                tally.steps.append((ep.index, ep.steps, CALL_FAILED, math.nan))
                continue
            if _advance(experiment, ep, text, tally):
                still.append(ep)
        active = still
    return _rollout_rows(experiment, personas, list(tallies.values()))


def _rollout_rows(experiment: Experiment, personas: Sequence[Persona],
                  tallies: list[tuple[Cell, _Tally]]) -> list[DemoRow]:
    n = len(experiment.actions)
    rows = []
    grid = {state: i for i, state in enumerate(experiment.states())}
    names = [p.name for p in personas]

    def position(item: tuple[Cell, _Tally]) -> tuple:
        c = item[0]
        return (names.index(c.persona.name), grid.get(c.state, len(grid)), state_key(c.state),
                c.paraphrase, c.order)

    for key, cell in sorted(tallies, key=position):
        counts = np.array([cell.counts[i] for i in range(n)])
        status = "ok" if counts.sum() else "failed" if cell.texts else "call-failed"
        rows.append(DemoRow(key.persona.name, key.state, _variant(experiment, key.order),
                            "sample", tuple(float(p) for p in frequencies(counts)),
                            n_draws=len(cell.texts), n_failed=sum(cell.failures.values()),
                            texts=tuple(cell.texts), failures=dict(cell.failures),
                            status=status, paraphrase=key.paraphrase,
                            counts=tuple(int(x) for x in counts),
                            episode_steps=tuple(cell.steps), n_call_failed=cell.call_failed))
    return rows


def elicit(experiment: Experiment, personas: Sequence[Persona], backend: CachedBackend, *,
           method: str = "choice-probs", settings: SampleSettings | None = None,
           seed: int = 0, paraphrases: int | None = None,
           layout: Layout = DEFAULT_LAYOUT) -> list[DemoRow]:
    """Ask the LLM persona at every state of the grid with the chosen method.

    ``paraphrases`` limits the wordings of the instructions to the first N (all by default);
    ``layout`` moves the persona or changes the question (:class:`~.prompts.Layout`).
    """
    if method == "choice-probs":
        return _choice_probs(experiment, personas, backend, paraphrases=paraphrases,
                             layout=layout)
    if method == "sample":
        sampler = _sample_rollouts if experiment.sequential else _sample
        return sampler(experiment, personas, backend, settings=settings or SampleSettings(),
                       seed=seed, paraphrases=paraphrases, layout=layout)
    raise UnknownNameError("method", method, METHODS)
