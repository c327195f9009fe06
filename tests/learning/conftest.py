"""Fixtures for the learning tests: the ultimatum experiment and a tiny registered toy game."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pytest
from scipy.special import expit

import subrational.experiments  # noqa: F401  (registers the built-ins)
from subrational.experiments.core import Experiment, Persona, Step
from subrational.experiments.registry import make, names, register
from subrational.experiments.ultimatum import Ultimatum
from subrational.learning import Target

ULTIMATUM = "ultimatum-v1"


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


def ensure_ultimatum_registered() -> None:
    """Register the ultimatum game if :mod:`subrational.experiments` does not yet do it."""
    if ULTIMATUM not in names():
        register(Ultimatum)


@pytest.fixture
def ultimatum() -> Experiment:
    ensure_ultimatum_registered()
    return make(ULTIMATUM)


@pytest.fixture
def toy() -> Experiment:
    register(Toy, replace=True)
    return Toy()


def _reject_curve(experiment: Experiment, persona: str, intercept: float, slope: float,
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


@pytest.fixture
def reject_curve():
    """``reject_curve(experiment, persona, intercept, slope, offers=None) -> list[Target]``."""
    return _reject_curve


@pytest.fixture
def typical_targets(ultimatum: Experiment) -> list[Target]:
    """The issue's scripted demonstrator: P(reject | s) = sigmoid(1.59 - 10.42 s), "typical"."""
    return _reject_curve(ultimatum, "typical", 1.59, -10.42)


@pytest.fixture
def mixed_targets(ultimatum: Experiment) -> list[Target]:
    """State- and persona-dependent: fair sigmoid(3 - 12 s), selfish 0.02, typical as above."""
    selfish = ultimatum.persona("selfish")
    return (_reject_curve(ultimatum, "fair", 3.0, -12.0)
            + [Target(selfish, s, np.array([0.98, 0.02])) for s in ultimatum.states()]
            + _reject_curve(ultimatum, "typical", 1.59, -10.42))
