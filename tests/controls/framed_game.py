"""A small game of one's own with a ``framing`` option, and scripted models that know it.

``split-test``: accept or reject a share of a pie. The standard framing names the ultimatum
game (the textbook cue); the disguised one tells the same payoffs as a clerk dividing 13.7
crates of figs. Personas differ on a numeric ``level`` axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from subrational.errors import ConfigError
from subrational.evaluation.records import Analysis, Finding
from subrational.experiments import Experiment, Persona, Step, register

CUE = "ultimatum game"


@dataclass(frozen=True)
class Share:
    offer: float


class SplitGame(Experiment):
    """Accept or reject an offered share, in a standard or a disguised framing."""

    name = "split-test"
    version = 1
    title = "Split (test game with a framing option)"
    actions = ("Accept", "Reject")
    state_type = Share
    persona_axes = {"level": (1.0, 3.0)}
    framing_version = 1

    def __init__(self, *, framing: str = "standard") -> None:
        if framing not in ("standard", "disguised"):
            raise ConfigError(f"split-test framing {framing!r}: use standard or disguised")
        self.framing = framing

    @property
    def personas(self) -> Mapping[str, Persona]:
        return {f"level-{k}": Persona(f"level-{k}", f"You are a person of level {k}.", "person",
                                      {"level": float(k)}) for k in (1, 2, 3)}

    def states(self) -> Sequence[Share]:
        return [Share(x) for x in (0.0, 0.25, 0.5, 0.75, 1.0)]

    def initial_state(self, persona: Persona, *, rng) -> Share:
        return self.states()[int(rng.integers(5))]

    def initial_states(self, persona: Persona) -> Sequence[tuple[float, Share]]:
        return [(0.2, s) for s in self.states()]  # exactly what initial_state draws

    def step(self, state: Share, action: int, persona: Persona) -> Step:
        return Step(None, state.offer * 10 if action == 0 else 0.0, True)

    def state_features(self, state: Share) -> Mapping[str, float]:
        return {"offer": state.offer}

    def instructions(self, persona: Persona) -> str:
        if self.framing == "disguised":
            return (f"{persona.text} A shipping clerk divides 13.7 crates of figs and offers "
                    "you some; if you refuse, the figs are burnt.")
        return f"{persona.text} This is the {CUE}: a proposer splits $10 with you."

    def situation(self, state: Share, persona: Persona) -> str:
        if self.framing == "disguised":
            return f"You are offered {state.offer * 13.7:.2f} crates. Accept or reject?"
        return f"You are offered {state.offer:.0%} of the pie. Accept or reject?"


def analyse(experiment, policies, personas, *, settings, human) -> Analysis:
    """One claim of the game: a 75 % offer is accepted more often than not."""
    findings = []
    for source in [s for s in ("demonstrations", "policy") if s in policies]:
        stat = float(np.mean([policies[source].action_probs(Share(0.75), p)[0]
                              for p in personas]))
        findings.append(Finding("a 75 % offer is accepted more often than not", source, stat,
                                "> 0.5", stat > 0.5, "claim"))
    return Analysis(findings=findings)


register(SplitGame, analysis=analyse, replace=True)


def _level(persona: Persona) -> float:
    return float(persona.values.get("level", 2.0))


def simulator(persona, state, experiment) -> list[float]:
    """The same behaviour under both framings: accepts more with the offer and the level."""
    p = float(np.clip(0.2 + 0.6 * state.offer + 0.05 * (_level(persona) - 2), 0.01, 0.99))
    return [p, 1 - p]


def reciter(persona, state, experiment) -> list[float]:
    """The textbook answer when the prompt names the game; a coin flip under the disguise."""
    if CUE not in experiment.instructions(persona):
        return [0.5, 0.5]
    p = 0.05 if state.offer < 0.2 else 0.95
    return [p, 1 - p]


def stereotyper(persona, state, experiment) -> list[float]:
    """The simulator, but a shoe size of 45 makes it accept much more (a placebo effect)."""
    p = simulator(persona, state, experiment)[0]
    if "shoe size is 45" in persona.text:
        p = min(0.99, p + 0.3)
    return [p, 1 - p]
