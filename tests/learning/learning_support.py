"""Helpers for the learning tests: scripted demonstrator targets and a tiny toy game.

Plain functions rather than a ``conftest.py``: the pipeline tests import the top-level
``conftest`` by name, which a second ``conftest`` module here would shadow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

import subrational.experiments  # noqa: F401  (registers the built-ins)
from subrational.experiments.core import Experiment, Persona, Step
from subrational.learning import Target


@dataclass(frozen=True)
class ToyState:
    level: float


class Toy(Experiment):
    """Two actions over five levels; one numeric persona axis and two kinds."""

    name = "toy-learning"
    version = 1
    title = "Toy"
    actions = ("Left", "Right")
    state_type = ToyState
    persona_axes = {"age": (0.0, 10.0)}

    @property
    def personas(self) -> Mapping[str, Persona]:
        return {"young": Persona("young", "You are young.", "kid", {"age": 2}),
                "old": Persona("old", "You are old.", "adult", {"age": 9})}

    def states(self) -> Sequence[ToyState]:
        return [ToyState(x / 4) for x in range(5)]

    def initial_state(self, persona: Persona, *, rng: np.random.Generator) -> ToyState:
        return ToyState(0.0)

    def step(self, state: ToyState, action: int, persona: Persona) -> Step:
        return Step(None, float(action), True)

    def state_features(self, state: ToyState) -> Mapping[str, float]:
        return {"level": state.level}

    def instructions(self, persona: Persona) -> str:
        return persona.text

    def situation(self, state: ToyState, persona: Persona) -> str:
        return f"Level {state.level}. Left or right?"


def reject_curve(experiment: Experiment, persona: str, intercept: float, slope: float,
                 offers: Sequence[float] | None = None) -> list[Target]:
    """Targets with P(reject | s) = sigmoid(intercept + slope * s) for ``persona``."""
    states = ([experiment.state_type(s) for s in offers] if offers is not None
              else list(experiment.states()))
    p = experiment.persona(persona)
    targets = []
    for state in states:
        reject = float(expit(intercept + slope * state.offer))
        targets.append(Target(p, state, np.array([1.0 - reject, reject])))
    return targets


def typical_targets(experiment: Experiment) -> list[Target]:
    """The issue's scripted demonstrator: P(reject | s) = sigmoid(1.59 - 10.42 s), "typical"."""
    return reject_curve(experiment, "typical", 1.59, -10.42)


def mixed_targets(experiment: Experiment) -> list[Target]:
    """State- and persona-dependent: fair sigmoid(3 - 12 s), selfish 0.02, typical as above."""
    selfish = experiment.persona("selfish")
    return (reject_curve(experiment, "fair", 3.0, -12.0)
            + [Target(selfish, s, np.array([0.98, 0.02])) for s in experiment.states()]
            + typical_targets(experiment))
