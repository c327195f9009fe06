"""Double-or-nothing gamble (DESIGN 3.3; risk attitudes, Coletta et al. 2024).

A game-show contestant starts with ``w0`` dollars (the persona). At each round she keeps the money
she has and leaves, or flips a coin: with probability ``p`` the money doubles, otherwise she loses
all of it and leaves with nothing. After ``max_flips`` won flips the game ends with ``w0 * 2**k``.
Round ``k`` is reached only by winning ``k`` flips in a row, so the money at round ``k`` is always
``w0 * 2**k`` and the state needs only the round and the win probability (and, from version 2,
the frame: the same choice told as gains or as losses; the words are in :mod:`.wording`).

The baselines are *myopic* ("narrow framing", Read, Loewenstein & Rabin 1999): each decision
compares keeping ``w`` with one flip and then stopping, which is how the choice is usually posed to
people (sure ``X`` vs ``2X``-or-nothing). Each model turns the one-flip gamble into a certainty
equivalent ``CE`` in dollars and chooses by logit on ``log(CE / w)``, so that the noise means the
same for every model and the choice does not depend on the stake (all three are scale-free):
``P(gamble) = r**s / (1 + r**s)`` with ``r = CE / w`` and sensitivity ``s``. In the loss
frame the risk-neutral and CRRA choosers (over final money) choose as in the gain frame; the CPT
chooser reflects (Tversky & Kahneman 1992): it compares the sure loss ``w`` with the loss
``2w`` at probability ``1 - p``, valued ``x**beta`` and weighted with ``delta``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

from ...experiments.core import Experiment, Persona, Step
from ...experiments.options import _listed, one_of, real_numbers, whole_number
from ...experiments.population import (
    TraitEncoding,
    check_axis,
    personas_of,
    population_option,
    profile,
)
from .wording import DISGUISED, STANDARD, STANDARD_V1

__all__ = ["DoubleOrNothing", "DoubleOrNothingV1", "DoubleState", "FramedState", "RiskNeutral",
           "CRRAGambler", "CPTGambler", "stake_persona", "cpt_weight", "cpt_certainty_equivalent",
           "cpt_indifference_win_prob", "cpt_loss_log_ratio", "GAIN", "LOSS"]

KEEP, GAMBLE = 0, 1
SENSITIVITY = 5.0
"""Default logit sensitivity of the baselines to ``log(CE / w)``: a CE 10 % above the sure amount
gives P(gamble) = 0.62, a CE half the sure amount gives 1/33."""

_STAKE_RANGE = (10.0, 10_000.0)  # the persona axis log_stake is scaled on log10 of this range
MAX_FLIPS = 30
"""At most 30 flips: $10,000 doubled 30 times is about $1e13, the longest episode."""
MAX_VALUES = 20
"""At most 20 stakes and 20 win probabilities (each multiplies the grid or the personas)."""
GAIN, LOSS = "gain", "loss"
FRAMINGS = ("standard", "disguised")


@dataclass(frozen=True)
class DoubleState:
    """A decision point: ``round`` flips won so far (0-based), ``win_prob`` of the next flip."""

    round: int
    win_prob: float


@dataclass(frozen=True)
class FramedState(DoubleState):
    """A version 2 decision point: also its ``frame``, ``"gain"`` or ``"loss"``.

    The frame changes only the words: "keep ``w``" or "keep, losing ``w`` of the ``2w`` you
    were handed"; the money at the end is the same.
    """

    frame: str = GAIN


def stake_persona(stake: float, *, wording: Any = STANDARD) -> Persona:
    """The contestant who started with ``stake`` dollars (name ``stake-<w0>``)."""
    return Persona(f"stake-{stake:g}", wording.contestant(stake), kind="contestant",
                   values={"stake": float(stake), "log_stake": math.log10(stake)})


def _population_persona(name: str, stake: float, traits: Mapping[str, Any], *,
                        wording: Any = STANDARD) -> Persona:
    """A population member as a contestant with ``stake`` (template version 1)."""
    base = stake_persona(stake, wording=wording)
    return Persona(name, f"{base.text} You are {profile(traits)}.", base.kind,
                   dict(base.values), traits)



class DoubleOrNothing(Experiment):
    """Keep the money or flip for double-or-nothing, up to ``max_flips`` times (version 2).

    Version 2 asks at four win probabilities (so curvature, probability weighting and noise are
    estimated jointly), asks in a loss frame too (Kahneman & Tversky 1979, problems 11 and 12),
    and no longer says "the money is real". Its default grid is 4 stakes x 25 states (5 rounds
    at 4 win probabilities in the gain frame, 5 at fair odds in the loss frame): 100 persona x
    state cells, 800 choice-probs calls with 4 wordings and 2 orders (version 1: 20 and 160).

    Args:
        stakes: Starting stakes ``w0`` in dollars, one persona each (within $10 to $10,000, the
            range the persona axis ``log_stake`` is scaled on); at most :data:`MAX_VALUES`.
        win_probs: Distinct win probabilities of a flip in the gain frame; each in (0, 1);
            at most :data:`MAX_VALUES`.
        loss_win_probs: Win probabilities at which the loss frame is asked too (every round);
            an empty list turns the loss frame off. Default fair odds only, where Kahneman and
            Tversky measured the reflection effect.
        max_flips: Most flips a contestant may take, from 1 to :data:`MAX_FLIPS`.
        framing: ``"standard"`` (the game show) or ``"disguised"`` (the same choices and
            payoffs as a courier's crossings, with no textbook cue; ``framing_version``).
        population: People (rows of :mod:`~subrational.experiments.population`) who replace
            the personas: one contestant per person with a ``stake``, else one per person and
            stake of ``stakes`` (named ``<id>/stake-W``).

    Population template (version 1): the default persona's sentence for the stake, then ``You
    are <profile>.`` with :func:`~subrational.experiments.population.profile` of the traits.
    """

    name = "double_or_nothing"
    version = 2  # v2: win-probability axis and loss frame by default, "money is real" dropped
    title = "Double-or-nothing gamble (risk)"
    actions = ("Keep", "Gamble")
    state_type: Any = FramedState
    persona_axes = {"log_stake": (1.0, 4.0)}
    sequential = True
    holdout_personas = ("stake-1000",)
    population_axis = "stake"
    population_template_version = 1
    population_builtin = "adults"
    framing_version = 1

    def __init__(self, *, stakes: Sequence[float] = (10, 100, 1000, 10000),
                 win_probs: Sequence[float] = (0.5, 0.6, 0.7, 0.8),
                 loss_win_probs: Sequence[float] = (0.5,), max_flips: int = 5,
                 framing: str = "standard",
                 population: Sequence[Mapping[str, Any]] | None = None) -> None:
        lo, hi = _STAKE_RANGE
        self.framing = one_of("double_or_nothing", "framing", framing, FRAMINGS)
        self.wording = self._wording()
        self.actions = self.wording.actions  # type: ignore[misc]
        self.stakes = real_numbers("double_or_nothing", "stakes", stakes, low=lo, high=hi,
                                   max_len=MAX_VALUES, unit="dollars, the log_stake axis range")
        self.win_probs = self._probs("win_probs", win_probs)
        listed = _listed(loss_win_probs)
        self.loss_win_probs = (() if listed is not None and len(listed) == 0
                               else self._probs("loss_win_probs", loss_win_probs))
        self.max_flips = whole_number("double_or_nothing", "max_flips", max_flips, low=1,
                                      high=MAX_FLIPS)
        self._personas = {p.name: p for p in (stake_persona(w, wording=self.wording)
                                              for w in self.stakes)}
        people = population_option("double_or_nothing", population)
        if people:
            check_axis(people, trait="stake", low=lo, high=hi, source="study option "
                       "double_or_nothing.population", study="double_or_nothing",
                       hint="give stakes from $10 to $10,000")
            self._personas = personas_of(
                people, axis="stake", defaults=[(f"stake-{w:g}", w) for w in self.stakes],
                build=partial(_population_persona, wording=self.wording))
            self.trait_encoding = TraitEncoding([p.traits for p in self._personas.values()])
            self.holdout_personas = ()  # type: ignore[misc,assignment]  # no held-out people
        frames = [(GAIN, p) for p in self.win_probs] + [(LOSS, p) for p in self.loss_win_probs]
        self._grid = tuple(self.decision(k, p, f) for f, p in frames for k in range(max_flips))

    def _wording(self) -> Any:
        return DISGUISED if self.framing == "disguised" else STANDARD

    @staticmethod
    def _probs(name: str, value: Any) -> tuple[float, ...]:
        return real_numbers("double_or_nothing", name, value, low=0.0, high=1.0,
                            low_open=True, high_open=True, max_len=MAX_VALUES, distinct=True)

    def decision(self, round: int, win_prob: float, frame: str = GAIN) -> Any:
        """The state of this version at ``round``, ``win_prob`` and ``frame``."""
        return FramedState(round, win_prob, frame)

    @property
    def frames(self) -> tuple[str, ...]:
        """The frames of the grid: ``("gain",)`` or ``("gain", "loss")``."""
        return (GAIN, LOSS) if self.loss_win_probs else (GAIN,)

    @property
    def personas(self) -> Mapping[str, Persona]:
        """``stake-10`` ... ``stake-10000``: contestants by starting stake."""
        return self._personas

    def states(self) -> Sequence[Any]:
        """Every round 0 .. max_flips - 1 at every win probability of each frame."""
        return self._grid

    def _starts(self) -> list[tuple[float, Any]]:
        """Round 0 at each win probability and frame, with its probability.

        The reference start (gain frame at fair odds, else at the first win probability),
        where the paper's findings and most human bands are stated, gets half of the episodes
        and the other starts share the rest: a design choice, so that sampled episodes
        (``--method sample`` plays episodes from :meth:`initial_state`) keep enough of them at
        the reference for its checks; uniform starts left a fifth there.
        """
        starts = [s for s in self._grid if s.round == 0]
        if len(starts) == 1:
            return [(1.0, starts[0])]
        ref = next((s for s in starts if s.frame == GAIN and math.isclose(s.win_prob, 0.5)),
                   starts[0])
        rest = 0.5 / (len(starts) - 1)
        return [(0.5 if s is ref else rest, s) for s in starts]

    def initial_state(self, persona: Persona, *, rng: np.random.Generator) -> Any:
        """Round 0; the win probability and frame drawn with :meth:`initial_states`' weights."""
        starts = self._starts()
        if len(starts) == 1:
            return starts[0][1]
        weights = np.array([w for w, _ in starts])
        return starts[int(rng.choice(len(starts), p=weights))][1]

    def initial_states(self, persona: Persona) -> Sequence[tuple[float, Any]]:
        """Round 0 at each win probability and frame: half at the reference start (see above)."""
        return self._starts()

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
            won = Step(replace(state, round=state.round + 1), 0.0, False)
        return [(state.win_prob, won), (1.0 - state.win_prob, Step(None, 0.0, True))]

    def state_features(self, state: Any) -> Mapping[str, float]:
        """Round as a fraction of the last round, the win probability, and the loss frame."""
        last = self.max_flips - 1
        return {"round": state.round / last if last else 0.0, "win_prob": state.win_prob,
                "loss_frame": 1.0 if getattr(state, "frame", GAIN) == LOSS else 0.0}

    def instructions(self, persona: Persona) -> str:
        """The story and the persona; no win chance or frame, which vary between states."""
        return self.paraphrases(persona)[0]

    def paraphrases(self, persona: Persona) -> Sequence[str]:
        """The instructions and three rewordings with the same facts (a designed factor)."""
        return self.wording.paraphrases(persona.text, self.max_flips)

    def situation(self, state: Any, persona: Persona) -> str:
        """Money now, flips so far and left, the win chance; keep or gamble, in its frame."""
        return self.wording.situation(
            w0=float(persona.values["stake"]), w=self.money(state, persona), k=state.round,
            left=self.max_flips - state.round, p=state.win_prob,
            frame=getattr(state, "frame", GAIN))

    def baselines(self) -> Mapping[str, Any]:
        """Myopic one-flip choosers: risk-neutral, CRRA (rho 0.5) and CPT (TK92 medians)."""
        return {"risk-neutral": RiskNeutral(), "crra": CRRAGambler(), "cpt": CPTGambler()}


class DoubleOrNothingV1(DoubleOrNothing):
    """Version 1: fair odds by default, gains only, "the money is real".

    Kept registered, its prompts unchanged, so that v1 policy files and runs load. Its states
    are :class:`DoubleState` (no frame) and it has no loss frame or disguise.
    """

    version = 1
    state_type = DoubleState

    def __init__(self, *, stakes: Sequence[float] = (10, 100, 1000, 10000),
                 win_probs: Sequence[float] = (0.5,), max_flips: int = 5,
                 population: Sequence[Mapping[str, Any]] | None = None) -> None:
        super().__init__(stakes=stakes, win_probs=win_probs, loss_win_probs=(),
                         max_flips=max_flips, population=population)

    def _wording(self) -> Any:
        return STANDARD_V1

    def initial_state(self, persona: Persona, *, rng: np.random.Generator) -> Any:
        """Round 0; the win probability drawn uniformly from ``win_probs`` when several."""
        if len(self.win_probs) == 1:
            return DoubleState(0, self.win_probs[0])
        return DoubleState(0, self.win_probs[int(rng.integers(len(self.win_probs)))])

    def initial_states(self, persona: Persona) -> Sequence[tuple[float, Any]]:
        """Round 0 at each win probability, each with probability 1 / (number of them)."""
        return [(1.0 / len(self.win_probs), DoubleState(0, p)) for p in self.win_probs]

    def decision(self, round: int, win_prob: float, frame: str = GAIN) -> Any:
        """Version 1 states have no frame."""
        return DoubleState(round, win_prob)

    def state_features(self, state: Any) -> Mapping[str, float]:
        """Round as a fraction of the last round, and the win probability."""
        last = self.max_flips - 1
        return {"round": state.round / last if last else 0.0, "win_prob": state.win_prob}


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


def cpt_loss_log_ratio(p: Any, beta: float = 0.88, delta: float = 0.69) -> Any:
    """CPT's ``log(sure loss / loss equivalent of the gamble)`` in the loss frame.

    Handed ``2w``: keep loses ``w`` for sure; a flip loses ``2w`` with probability ``1 - p``.
    The gamble's sure-loss equivalent is ``2w w-(1-p)**(1/beta)``, so the ratio is
    ``-log 2 - log(w-(1-p)) / beta`` (positive: the gamble is preferred). Loss aversion
    ``lambda`` multiplies both sides and cancels. With the TK92 medians at fair odds it is
    +0.20: CPT gambles in losses where it keeps in gains (the reflection effect).
    """
    q = 1.0 - np.asarray(p, dtype=float)
    return -math.log(2.0) - np.log(cpt_weight(q, delta)) / beta


@dataclass(frozen=True)
class CPTGambler:
    """Cumulative prospect theory (value ``x**alpha`` / ``x**beta``, weights ``w+`` / ``w-``).

    TK92 medians. Gain frame: ``CE / w = 2 w+(p)**(1/alpha)``: 0.748 at fair odds, 1 at ``p``
    ≈ 0.71. Loss frame: :func:`cpt_loss_log_ratio` (P(gamble) 0.74 at fair odds).
    """

    alpha: float = 0.88
    gamma: float = 0.61
    sensitivity: float = SENSITIVITY
    beta: float = 0.88
    delta: float = 0.69

    def action_probs(self, state: DoubleState, persona: Persona) -> np.ndarray:
        """Logit on ``log(CE / w)`` (gains) or on the loss frame's log ratio."""
        if getattr(state, "frame", GAIN) == LOSS:
            z = float(cpt_loss_log_ratio(state.win_prob, self.beta, self.delta))
            gamble = float(expit(self.sensitivity * z))
            return np.array([1.0 - gamble, gamble])
        ratio = cpt_certainty_equivalent(1.0, state.win_prob, self.alpha, self.gamma)
        return _logit(ratio, self.sensitivity)
