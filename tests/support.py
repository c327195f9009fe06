"""Helpers shared by tests: scripted demonstrators with a known truth."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit

from subrational.experiments import Experiment, Persona, Step


def share_models(cache: Path, models: Path) -> Path:
    """Make ``cache``'s ``models`` folder (de-quantised models) the session's shared one.

    ``models`` is the ``shared_models`` fixture of ``conftest.py``; returns ``cache``.
    """
    cache.mkdir(parents=True, exist_ok=True)
    link = cache / "models"
    if not link.exists():
        link.symlink_to(models, target_is_directory=True)
    return cache


def cli(*args: str) -> str:
    """``subrational ...`` in a fresh process, as a user runs it (only the built-in studies)."""
    done = subprocess.run([sys.executable, "-m", "subrational", *args], capture_output=True,
                          text=True, timeout=2400, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    return done.stdout


def human_logistic(persona, state) -> list[float]:
    """P(reject | s) = sigmoid(1.59 - 10.42 s) (Heffner & FeldmanHall 2022) for every persona."""
    p_reject = float(expit(1.59 - 10.42 * state.offer))
    return [1.0 - p_reject, p_reject]


def persona_logistic(persona, state) -> list[float]:
    """A fair persona with a high threshold, a typical human one, a selfish one that accepts."""
    a, b = {"fair": (4.5, -15.0), "typical": (1.59, -10.42), "selfish": (-4.0, 0.0)}[persona.name]
    p_reject = float(expit(a + b * state.offer))
    return [1.0 - p_reject, p_reject]


class CacheableScripted:
    """Scripted backends that the on-disk cache may store (to test caching)."""

    @staticmethod
    def make(fn, **kwargs):
        from subrational.backends.scripted import ScriptedBackend

        return ScriptedBackend("cacheable", probs_fn=fn, cacheable=True, batch_size=16, **kwargs)


@dataclass(frozen=True)
class BusState:
    minute: int


class BusStop(Experiment):
    """A small sequential game: wait for a bus (it comes after 4 minutes) or walk home now.

    Personas differ in patience, a numeric axis, so a held-out value can be interpolated.
    """

    name = "bus-stop"
    version = 1
    title = "Bus stop (test game)"
    actions = ("Walk", "Wait")
    state_type = BusState
    persona_axes = {"patience": (1.0, 4.0)}
    sequential = True
    holdout_personas = ("patience-3",)

    @property
    def personas(self) -> Mapping[str, Persona]:
        return {f"patience-{k}": Persona(f"patience-{k}", f"You have patience {k}.", "rider",
                                         {"patience": k}) for k in (1, 2, 3, 4)}

    def states(self) -> Sequence[BusState]:
        return [BusState(t) for t in range(4)]

    def initial_state(self, persona: Persona, *, rng) -> BusState:
        return BusState(0)

    def step(self, state: BusState, action: int, persona: Persona) -> Step:
        if action == 0:
            return Step(None, 1.0, True)
        if state.minute == 3:
            return Step(None, 2.0, True)
        return Step(BusState(state.minute + 1), 0.0, False)

    def state_features(self, state: BusState) -> Mapping[str, float]:
        return {"minute": state.minute / 3}

    def instructions(self, persona: Persona) -> str:
        return f"{persona.text} You wait for a bus."

    def paraphrases(self, persona: Persona) -> Sequence[str]:
        return (self.instructions(persona), f"{persona.text} You are at a bus stop.",
                f"{persona.text} Your bus is late.")

    def situation(self, state: BusState, persona: Persona) -> str:
        return f"You have waited {state.minute} minutes. Walk or wait?"


def bus_truth(persona, state) -> list[float]:
    """P(wait | minute, patience) = sigmoid(-1 + 0.8 patience + 0.3 minute)."""
    p_wait = float(expit(-1.0 + 0.8 * persona.values["patience"] + 0.3 * state.minute))
    return [1.0 - p_wait, p_wait]


UNPARSEABLE = "I would rather not say."
"""A sampled answer with no ``Answer:`` line: the strict parser counts it as a failure."""


def failing_texts(fail_rate):
    """A ``texts_fn`` that answers :data:`UNPARSEABLE` with probability ``fail_rate(persona,
    state)`` (drawn with the request's own generator) and ``Answer: <option>`` otherwise."""

    def texts(persona, state, option, rng):
        return UNPARSEABLE if rng.random() < fail_rate(persona, state) else f"Answer: {option}"

    return texts


def sample_frame(game, personas, probs_fn, fail_rate, *, samples, seed=0):
    """Sampled demonstrations (first wording only) of a scripted truth with injected failures."""
    from subrational.backends.scripted import ScriptedBackend
    from subrational.cache import Cache, CachedBackend
    from subrational.demonstrations import to_frame
    from subrational.elicitation import SampleSettings, elicit

    backend = ScriptedBackend("x", probs_fn=probs_fn, texts_fn=failing_texts(fail_rate))
    rows = elicit(game, [game.persona(p) for p in personas], CachedBackend(backend, Cache()),
                  method="sample", settings=SampleSettings(samples=samples), seed=seed,
                  paraphrases=1)
    return to_frame(game, rows, {})


def prompt_messages(exp):
    """Every message of every prompt of ``exp``: both methods, personas, states, wordings."""
    from subrational.elicitation import render, wordings

    for method in ("choice-probs", "sample"):
        for persona in exp.personas.values():
            for state in exp.states():
                for paraphrase, order in wordings(exp):
                    yield from render(exp, persona, state, order, method=method,
                                      paraphrase=paraphrase).messages


def simulated_answers(model: Any, persona: Any, grid: tuple[Any, ...], method: str,
                      rng: np.random.Generator, blocks: int = 8, draws: int = 10,
                      sigma: float = 0.3) -> Any:
    """Answers of a structural model itself at its starting values (jittered 30 %), in blocks.

    ``sample``: ``draws`` binomial draws per state and block; otherwise choice probabilities
    with a logit block effect N(0, sigma^2) (the cluster bootstrap's case).
    """
    from scipy.special import logit

    from subrational.evaluation.structural import Observations

    lo, hi = np.array(model.bounds).T
    x0 = np.asarray(model.x0, dtype=float)
    theta = np.clip(x0 * rng.uniform(0.7, 1.3, size=len(x0)), lo, hi)
    q = np.clip(np.asarray(model.predict(theta, grid, persona), dtype=float), 1e-6, 1 - 1e-6)
    states = grid * blocks
    names = tuple(str(b) for b in range(blocks) for _ in grid)
    if method == "sample":
        k = rng.binomial(draws, np.tile(q, blocks)).astype(float)
        n = np.full(len(k), float(draws))
        return Observations(states, k / n, k, n, names)
    u = rng.normal(0.0, sigma, size=blocks)
    return Observations(states, expit(logit(np.tile(q, blocks)) + np.repeat(u, len(grid))),
                        blocks=names)
