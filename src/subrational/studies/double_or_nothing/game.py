"""Double-or-nothing gamble (DESIGN 3.3; risk attitudes, Coletta et al. 2024).

A game-show contestant starts with ``w0`` dollars (the persona). At each round she keeps the money
she has and leaves, or flips a coin: with probability ``p`` the money doubles, otherwise she loses
all of it and leaves with nothing. After ``max_flips`` won flips the game ends with ``w0 * 2**k``.
Round ``k`` is reached only by winning ``k`` flips in a row, so the money at round ``k`` is always
``w0 * 2**k`` and the state needs only the round and the win probability.

The baselines are *myopic* ("narrow framing", Read, Loewenstein & Rabin 1999): each decision
compares keeping ``w`` with one flip and then stopping, which is how the choice is usually posed to
people (sure ``X`` vs ``2X``-or-nothing). Each model turns the one-flip gamble into a certainty
equivalent ``CE`` in dollars and chooses by logit on ``log(CE / w)``, so that the noise means the
same for every model and the choice does not depend on the stake (all three are scale-free):
``P(gamble) = r**s / (1 + r**s)`` with ``r = CE / w`` and sensitivity ``s``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

from ...experiments.core import Experiment, Persona, Step
from ...experiments.options import real_numbers, whole_number
from ...experiments.population import (
    TraitEncoding,
    check_axis,
    personas_of,
    population_option,
    profile,
)

__all__ = ["DoubleOrNothing", "DoubleState", "RiskNeutral", "CRRAGambler", "CPTGambler",
           "stake_persona", "cpt_weight", "cpt_certainty_equivalent", "cpt_indifference_win_prob"]

KEEP, GAMBLE = 0, 1
SENSITIVITY = 5.0
"""Default logit sensitivity of the baselines to ``log(CE / w)``: a CE 10 % above the sure amount
gives P(gamble) = 0.62, a CE half the sure amount gives 1/33."""

_STAKE_RANGE = (10.0, 10_000.0)  # the persona axis log_stake is scaled on log10 of this range
MAX_FLIPS = 30
"""At most 30 flips: $10,000 doubled 30 times is about $1e13, the longest episode."""
MAX_VALUES = 20
"""At most 20 stakes and 20 win probabilities (each multiplies the grid or the personas)."""


@dataclass(frozen=True)
class DoubleState:
    """A decision point: ``round`` flips won so far (0-based), ``win_prob`` of the next flip."""

    round: int
    win_prob: float


def stake_persona(stake: float) -> Persona:
    """The contestant who started with ``stake`` dollars (name ``stake-<w0>``)."""
    return Persona(f"stake-{stake:g}",
                   f"You are a contestant on a TV game show, and you have just won "
                   f"{_money(stake)} in the first part of the show.",
                   kind="contestant",
                   values={"stake": float(stake), "log_stake": math.log10(stake)})


def _population_persona(name: str, stake: float, traits: Mapping[str, Any]) -> Persona:
    """A population member as a contestant with ``stake`` (template version 1)."""
    base = stake_persona(stake)
    return Persona(name, f"{base.text} You are {profile(traits)}.", base.kind,
                   dict(base.values), traits)


def _money(amount: float) -> str:
    return f"${amount:,.0f}"


def _times(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _odds(p: float) -> str:
    if math.isclose(p, 0.5):
        return "50% (even odds, a fair coin)"
    return f"{100 * p:g}% ({'better' if p > 0.5 else 'worse'} than even odds)"


class DoubleOrNothing(Experiment):
    """Keep the money or flip for double-or-nothing, up to ``max_flips`` times.

    Args:
        stakes: Starting stakes ``w0`` in dollars, one persona each (within $10 to $10,000, the
            range the persona axis ``log_stake`` is scaled on); at most :data:`MAX_VALUES`.
        win_probs: Distinct win probabilities of a flip (the optional axis); each in (0, 1);
            at most :data:`MAX_VALUES`.
        max_flips: Most flips a contestant may take, from 1 to :data:`MAX_FLIPS`.
        population: People (rows of :mod:`~subrational.experiments.population`) who replace
            the personas: one contestant per person with a ``stake``, else one per person and
            stake of ``stakes`` (named ``<id>/stake-W``).

    Population template (version 1): the default persona's sentence for the stake, then ``You
    are <profile>.`` with :func:`~subrational.experiments.population.profile` of the traits.
    """

    name = "double_or_nothing"
    version = 1
    title = "Double-or-nothing gamble (risk)"
    actions = ("Keep", "Gamble")
    state_type = DoubleState
    persona_axes = {"log_stake": (1.0, 4.0)}
    sequential = True
    holdout_personas = ("stake-1000",)
    population_axis = "stake"
    population_template_version = 1

    def __init__(self, *, stakes: Sequence[float] = (10, 100, 1000, 10000),
                 win_probs: Sequence[float] = (0.5,), max_flips: int = 5,
                 population: Sequence[Mapping[str, Any]] | None = None) -> None:
        lo, hi = _STAKE_RANGE
        self.stakes = real_numbers("double_or_nothing", "stakes", stakes, low=lo, high=hi,
                                   max_len=MAX_VALUES, unit="dollars, the log_stake axis range")
        self.win_probs = real_numbers("double_or_nothing", "win_probs", win_probs, low=0.0,
                                      high=1.0, low_open=True, high_open=True,
                                      max_len=MAX_VALUES, distinct=True)
        self.max_flips = whole_number("double_or_nothing", "max_flips", max_flips, low=1,
                                      high=MAX_FLIPS)
        self._personas = {p.name: p for p in map(stake_persona, self.stakes)}
        people = population_option("double_or_nothing", population)
        if people:
            check_axis(people, trait="stake", low=lo, high=hi, source="study option "
                       "double_or_nothing.population", study="double_or_nothing",
                       hint="give stakes from $10 to $10,000")
            self._personas = personas_of(
                people, axis="stake", defaults=[(f"stake-{w:g}", w) for w in self.stakes],
                build=_population_persona)
            self.trait_encoding = TraitEncoding([p.traits for p in self._personas.values()])
            self.holdout_personas = ()  # type: ignore[misc,assignment]  # no held-out people
        self._grid = tuple(DoubleState(k, p) for p in self.win_probs for k in range(max_flips))

    @property
    def personas(self) -> Mapping[str, Persona]:
        """``stake-10`` ... ``stake-10000``: contestants by starting stake."""
        return self._personas

    def states(self) -> Sequence[DoubleState]:
        """Every round 0 .. max_flips - 1 at every win probability."""
        return self._grid

    def initial_state(self, persona: Persona, *, rng: np.random.Generator) -> DoubleState:
        """Round 0; the win probability is drawn uniformly from ``win_probs`` when several."""
        if len(self.win_probs) == 1:
            return DoubleState(0, self.win_probs[0])
        return DoubleState(0, self.win_probs[int(rng.integers(len(self.win_probs)))])

    def initial_states(self, persona: Persona) -> Sequence[tuple[float, DoubleState]]:
        """Round 0 at each win probability, each with probability 1 / (number of them)."""
        return [(1.0 / len(self.win_probs), DoubleState(0, p)) for p in self.win_probs]

    def money(self, state: DoubleState, persona: Persona) -> float:
        """Money at stake in ``state``: ``w0 * 2**round``."""
        return float(persona.values["stake"]) * 2.0 ** state.round

    def transitions(self, state: DoubleState, action: int,
                    persona: Persona) -> Sequence[tuple[float, Step]]:
        """Keep pays the money and ends; a flip doubles it with ``win_prob``, else pays 0."""
        w = self.money(state, persona)
        if action == KEEP:
            return [(1.0, Step(None, w, True))]
        if state.round + 1 >= self.max_flips:
            won = Step(None, 2.0 * w, True)
        else:
            won = Step(DoubleState(state.round + 1, state.win_prob), 0.0, False)
        return [(state.win_prob, won), (1.0 - state.win_prob, Step(None, 0.0, True))]

    def state_features(self, state: DoubleState) -> Mapping[str, float]:
        """Round as a fraction of the last round, and the win probability."""
        last = self.max_flips - 1
        return {"round": state.round / last if last else 0.0, "win_prob": state.win_prob}

    def instructions(self, persona: Persona) -> str:
        """The story and the persona; no win chance, which may vary between states."""
        return (f"{persona.text} The host now offers you a double-or-nothing game. Each time, "
                "you can either keep the money you have and leave the show with it, or flip a "
                "coin: if you win the flip, your money doubles; if you lose, you lose all of it "
                f"and leave with nothing. You may flip at most {self.max_flips} times. The money "
                "is real and you keep whatever you leave with. Answer as you would.")

    def paraphrases(self, persona: Persona) -> Sequence[str]:
        """The instructions and three rewordings with the same facts (a designed factor)."""
        n = self.max_flips
        return (self.instructions(persona),
                f"{persona.text} The host proposes a game of double or nothing. Each round you "
                "choose: walk away now with the money you have, or toss a coin. Win the toss and "
                "your money is doubled; lose it and you go home with nothing at all. There are "
                f"at most {n} tosses. The money is real and yours to keep. Decide as you would.",
                f"{persona.text} Now the host offers a double-or-nothing gamble. At each step you "
                "may stop and take the money you have won so far, or bet all of it on a coin "
                "flip that doubles it if you win and leaves you with zero if you lose. You can "
                f"flip up to {n} times. Whatever you leave with is really paid to you. Reply as "
                "you would.",
                f"{persona.text} Next, the host gives you the chance to play double or nothing, "
                f"up to {n} times. Every time, you either keep your winnings and leave, or flip "
                "a coin: a win doubles everything you have, a loss wipes it all out. This is real "
                "money that you take home. Answer as you would.")

    def situation(self, state: DoubleState, persona: Persona) -> str:
        """Money now, flips so far and left, the win chance; asks keep or gamble."""
        w0, w = float(persona.values["stake"]), self.money(state, persona)
        left = self.max_flips - state.round
        flips = {0: "not flipped the coin yet", 1: "won your first flip"}.get(
            state.round, f"won all {state.round} flips so far")
        last = " This is your last possible flip." if left == 1 else ""
        return (f"You started with {_money(w0)} and have {flips}, so you now have "
                f"{_money(w)}. Your chance of winning a flip is {_odds(state.win_prob)}. You "
                f"have {_times(left, 'flip')} left.{last} If you flip and win, you will have "
                f"{_money(2 * w)}; if you flip and lose, you leave with nothing. Do you keep "
                f"the {_money(w)} or gamble it on a flip?")

    def baselines(self) -> Mapping[str, Any]:
        """Myopic one-flip choosers: risk-neutral, CRRA (rho 0.5) and CPT (TK92 medians)."""
        return {"risk-neutral": RiskNeutral(), "crra": CRRAGambler(), "cpt": CPTGambler()}



# -- baselines ---------------------------------------------------------------------------------
def cpt_weight(p: Any, gamma: float = 0.61) -> Any:
    """Tversky-Kahneman (1992) probability weight for gains, ``p^g / (p^g + (1-p)^g)^(1/g)``.

    A float for a float; elementwise for an array (the structural fit weighs many states).
    """
    p_arr = np.asarray(p, dtype=float)
    num = p_arr ** gamma
    weight = num / (num + (1.0 - p_arr) ** gamma) ** (1.0 / gamma)
    return float(weight) if weight.ndim == 0 else weight


def cpt_certainty_equivalent(w: float, p: float, alpha: float = 0.88,
                             gamma: float = 0.61) -> float:
    """CPT certainty equivalent of "``2w`` with probability ``p``, else 0" (gains only).

    Value ``x**alpha``, so ``CE = (w+(p) * (2w)**alpha)**(1/alpha) = 2w * w+(p)**(1/alpha)``.
    At ``p = 0.5`` with the TK92 medians it is about 0.75 of the expected value ``w``.
    """
    return 2.0 * w * cpt_weight(p, gamma) ** (1.0 / alpha)


def cpt_indifference_win_prob(alpha: float = 0.88, gamma: float = 0.61) -> float:
    """Win probability at which CPT is indifferent between ``w`` and double-or-nothing (≈ 0.71)."""
    return float(brentq(lambda p: cpt_certainty_equivalent(1.0, p, alpha, gamma) - 1.0,
                        1e-9, 1.0 - 1e-9))


def _logit(ce_ratio: float, sensitivity: float) -> np.ndarray:
    gamble = float(expit(sensitivity * math.log(ce_ratio)))
    return np.array([1.0 - gamble, gamble])


@dataclass(frozen=True)
class RiskNeutral:
    """Expected-value chooser: ``CE / w = 2p``, so exactly indifferent (0.5) at fair odds."""

    sensitivity: float = SENSITIVITY

    def action_probs(self, state: DoubleState, persona: Persona) -> np.ndarray:
        """Logit on ``log(2p)``."""
        return _logit(2.0 * state.win_prob, self.sensitivity)


@dataclass(frozen=True)
class CRRAGambler:
    """Expected utility ``u(x) = x**(1 - rho)`` over winnings: ``CE / w = 2 p**(1/(1-rho))``.

    With ``rho = 0.5`` and fair odds ``CE / w = 0.5``, so ``P(gamble) = 1 / (1 + 2**s)``.
    """

    rho: float = 0.5
    sensitivity: float = SENSITIVITY

    def action_probs(self, state: DoubleState, persona: Persona) -> np.ndarray:
        """Logit on ``log(CE / w)``."""
        return _logit(2.0 * state.win_prob ** (1.0 / (1.0 - self.rho)), self.sensitivity)


@dataclass(frozen=True)
class CPTGambler:
    """Cumulative prospect theory over gains (value ``x**alpha``, weight ``w+``; TK92 medians).

    ``CE / w = 2 w+(p)**(1/alpha)``: 0.748 at fair odds, 1 at ``p`` ≈ 0.71.
    """

    alpha: float = 0.88
    gamma: float = 0.61
    sensitivity: float = SENSITIVITY

    def action_probs(self, state: DoubleState, persona: Persona) -> np.ndarray:
        """Logit on ``log(CE / w)``."""
        ratio = cpt_certainty_equivalent(1.0, state.win_prob, self.alpha, self.gamma)
        return _logit(ratio, self.sensitivity)
