"""Ultimatum game, responder side (DESIGN 3.1; paper: Coletta et al. 2024, section on fairness).

John has a pie of ``pie`` dollars and offers Jerry a share ``s``. Jerry accepts (both get the
split) or rejects (both get nothing). One decision per episode. The money-maximiser accepts every
positive offer; people reject low offers (Heffner & FeldmanHall 2022: 50 % point near s = 0.15).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit

from ...errors import ConfigError
from ...experiments.core import Experiment, Persona, Step
from ...experiments.options import one_of, real_number
from ...experiments.population import TraitEncoding, personas_of, population_option, profile
from . import disguise

__all__ = ["Ultimatum", "UltimatumV1", "UltimatumState", "MoneyMaximiser",
           "FehrSchmidtResponder"]

ACCEPT, REJECT = 0, 1
MAX_PIE = 1_000_000.0
FRAMINGS = ("standard", "disguised")
MIN_STEP = 0.001
"""The finest grid: 1001 offers (each one is a model call per persona and wording)."""


@dataclass(frozen=True)
class UltimatumState:
    """An offer on the table: ``offer`` is Jerry's share of the pie, in [0, 1]."""

    offer: float


_PERSONAS = {
    "fair": Persona("fair", "You are Jerry, a person who cares a lot about fairness."),
    "typical": Persona("typical", "You are Jerry, an ordinary adult taking part in an "
                                  "economics experiment."),
    "selfish": Persona("selfish", "You are Jerry, a person who cares only about how much "
                                  "money you get."),
}


class Ultimatum(Experiment):
    """The responder's accept/reject decision over a grid of offered shares.

    Args:
        pie: Dollars John splits, from 1 to :data:`MAX_PIE` (default $10; in the disguise,
            crowns of the salvage fee, default 37).
        step: Spacing of the offered shares, from :data:`MIN_STEP` to 0.5; the grid is
            0, step, 2 step, ... up to 1 (offers must differ by at least a cent).
        population: People (rows of :mod:`~subrational.experiments.population`) who replace
            the three personas: one persona of kind ``person`` each, named by its id.
        framing: ``"standard"`` (John and Jerry; the prompts of version 2) or ``"disguised"``
            (:mod:`.disguise`: a harbour pilot told her share of a salvage fee, the same
            states, answers and payoffs, no textbook cue; ``framing_version``).

    Population template (version 1): ``You are Jerry, <profile>.``, where ``<profile>`` is
    :func:`~subrational.experiments.population.profile` of the person's traits (``a 34-year-old
    woman from the United States (education: ...)``). The game has no persona axis.
    """

    name = "ultimatum"
    version = 2  # v2: three paraphrases of the instructions added
    title = "Ultimatum game (responder)"
    actions = ("Accept", "Reject")
    state_type = UltimatumState
    population_template_version = 1
    population_builtin = "adults"
    framing_version = 1

    def __init__(self, *, pie: float | None = None, step: float = 0.05,
                 framing: str = "standard",
                 population: Sequence[Mapping[str, Any]] | None = None) -> None:
        self.framing = one_of("ultimatum", "framing", framing, FRAMINGS)
        if pie is None:
            pie = disguise.DISGUISED_PIE if framing == "disguised" else 10.0
        self.pie = real_number("ultimatum", "pie", pie, low=1.0, high=MAX_PIE, unit="dollars")
        step = real_number("ultimatum", "step", step, low=MIN_STEP, high=0.5,
                           unit="a share of the pie")
        if self.pie * step < 0.01:
            raise ConfigError(f"study options ultimatum.step={step:g} and pie={self.pie:g} make "
                              "offers less than a cent apart; use a larger step or pie")
        n = math.floor(1 / step + 1e-9)  # the last offer is at most the whole pie
        self._grid = tuple(UltimatumState(round(i * step, 4)) for i in range(n + 1))
        self._personas = _PERSONAS
        people = population_option("ultimatum", population)
        if people:
            self._personas = personas_of(people, axis=None, defaults=(), build=lambda name, _,
                                         traits: Persona(name, f"You are Jerry, "
                                                         f"{profile(traits)}.", "person",
                                                         traits=traits))
            self.trait_encoding = TraitEncoding([p.traits for p in self._personas.values()])

    @property
    def personas(self) -> Mapping[str, Persona]:
        """``fair`` (the paper's), ``typical`` and ``selfish``; or the population's people."""
        return self._personas

    def states(self) -> Sequence[UltimatumState]:
        """Offers 0 %, 5 %, ..., 100 % of the pie."""
        return self._grid

    def initial_state(self, persona: Persona, *, rng: np.random.Generator) -> UltimatumState:
        """An offer drawn uniformly from the grid."""
        return self._grid[int(rng.integers(len(self._grid)))]

    def initial_states(self, persona: Persona) -> Sequence[tuple[float, UltimatumState]]:
        """Every offer of the grid, each with probability 1 / (number of offers)."""
        return [(1.0 / len(self._grid), s) for s in self._grid]

    def step(self, state: UltimatumState, action: int, persona: Persona) -> Step:
        """Accept pays the offer, reject pays nothing; the game ends either way."""
        reward = state.offer * self.pie if action == ACCEPT else 0.0
        return Step(next_state=None, reward=reward, terminated=True)

    def state_features(self, state: UltimatumState) -> Mapping[str, float]:
        """The offered share (already in [0, 1])."""
        return {"offer": state.offer}

    def instructions(self, persona: Persona) -> str:
        """The story and the persona; identical for every offer so the prefix can be reused."""
        if self.framing == "disguised":
            return disguise.paraphrases(persona.text, self.pie)[0]
        return (f"{persona.text} You are taking part in a one-shot decision. Another person, "
                f"John, has received ${self.pie:.0f} and proposes how to split it between the two "
                "of you. If you accept, you get the amount John offers you and John keeps the "
                "rest. If you reject, neither of you gets anything. You will never meet John "
                "again. Answer as Jerry would.")

    def paraphrases(self, persona: Persona) -> Sequence[str]:
        """The instructions and three rewordings with the same facts (a designed factor)."""
        if self.framing == "disguised":
            return disguise.paraphrases(persona.text, self.pie)
        pie = f"${self.pie:.0f}"
        return (self.instructions(persona),
                f"{persona.text} Someone called John has been given {pie}. He must offer you a "
                "part of it. Accept, and the money is split the way he proposed; reject, and "
                "both of you go home with nothing. This happens only once, and you will not "
                "meet John again. Decide as Jerry would.",
                f"{persona.text} In this study, John splits {pie} between himself and you. You "
                "can take his offer, in which case you receive what he offers and he keeps the "
                "remainder, or turn it down, in which case neither of you receives any money. "
                "It is a single, anonymous decision. Reply the way Jerry would.",
                f"{persona.text} Here is the situation: John was handed {pie} and proposes a "
                "division with you. If you say yes, each of you gets the proposed amount. If "
                "you say no, the money is lost for both of you. There is only this one round, "
                "and you will never see John again. Respond as Jerry.")

    def situation(self, state: UltimatumState, persona: Persona) -> str:
        """The offer in dollars."""
        if self.framing == "disguised":
            return disguise.situation(state.offer, self.pie)
        offer = state.offer * self.pie
        return (f"John offers you ${offer:.2f} and keeps ${self.pie - offer:.2f} for himself. "
                "Do you accept or reject this offer?")

    def baselines(self) -> Mapping[str, Any]:
        """Money-maximiser and a Fehr-Schmidt inequity-averse responder with logit noise."""
        return {"money-maximiser": MoneyMaximiser(),
                "fehr-schmidt": FehrSchmidtResponder(alpha=0.5, noise=20.0)}



class UltimatumV1(Ultimatum):
    """Version 1: one wording only. Kept registered so that v1 policy files and runs load."""

    version = 1

    def paraphrases(self, persona: Persona) -> Sequence[str]:
        """Only the instructions."""
        return (self.instructions(persona),)

    def __init__(self, *, pie: float = 10.0, step: float = 0.05,
                 population: Sequence[Mapping[str, Any]] | None = None) -> None:
        super().__init__(pie=pie, step=step, population=population)


class MoneyMaximiser:
    """Accepts every positive offer; indifferent (50/50) at a zero offer."""

    def action_probs(self, state: UltimatumState, persona: Persona) -> np.ndarray:
        """P(accept) = 1 for s > 0."""
        p_accept = 1.0 if state.offer > 0 else 0.5
        return np.array([p_accept, 1.0 - p_accept])


@dataclass(frozen=True)
class FehrSchmidtResponder:
    """Inequity-averse responder (Fehr & Schmidt 1999) with logit choice noise.

    Utility of accepting a share s of a unit pie: ``s - alpha * max(1 - 2s, 0)`` (disadvantageous
    inequity only; advantageous inequity cannot arise for the responder's own offers below 1/2,
    and ``beta`` < 1 never makes rejecting a generous offer better). Rejecting gives 0.
    P(accept) = sigmoid(noise * U). The 50 % point is at s = alpha / (1 + 2 alpha).
    """

    alpha: float = 0.5
    noise: float = 20.0

    def action_probs(self, state: UltimatumState, persona: Persona) -> np.ndarray:
        """Logit choice between accepting (utility U) and rejecting (utility 0)."""
        s = state.offer
        utility = s - self.alpha * max(1.0 - 2.0 * s, 0.0)
        p_accept = float(expit(self.noise * utility))
        return np.array([p_accept, 1.0 - p_accept])
