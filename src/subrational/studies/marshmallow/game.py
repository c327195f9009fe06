"""Marshmallow test, delay of gratification (DESIGN 3.2; paper: Coletta et al. 2024).

Janice, a child of a given age, is left alone with one marshmallow. If it is still there when the
adult comes back after ``horizon`` minutes she gets two; she may eat it at any minute before. A
decision state is the number of minutes already waited, ``t`` in ``0 .. horizon - 1``: eating
ends the episode with one marshmallow, waiting moves to ``t + 1``, and waiting at the last minute
brings the adult back with the second marshmallow.

Baselines compare eating now (one marshmallow) with the discounted value of two marshmallows at
the end. Eating at a later minute is never better than eating now (the same single treat, only
later), so "wait to the end" is the only alternative worth comparing. The exponential
discounter is time-consistent: the plan it makes at minute 0 is the one it carries out. The
hyperbolic discounter is not: it eats early but would wait once the end is near.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit

from ...experiments.core import Experiment, Persona, Step
from ...experiments.options import whole_number, whole_numbers
from ...experiments.population import (
    TraitEncoding,
    check_axis,
    child_profile,
    personas_of,
    population_option,
)

__all__ = ["MarshmallowV1", "MarshmallowState", "ExponentialDiscounter", "HyperbolicDiscounter",
           "EAT", "WAIT"]

EAT, WAIT = 0, 1
AGE_RANGE = (2, 8)
CHILDREN_HINT = ("the marshmallow test takes children aged 2 to 8 (e.g. --population "
                 "builtin:children); run the other studies with an adult population")
MAX_HORIZON = 240
"""Four hours: the longest wait (and episode) the game takes."""


@dataclass(frozen=True)
class MarshmallowState:
    """Minutes Janice has already waited with the marshmallow in front of her."""

    minute: int


def _persona(age: int) -> Persona:
    return Persona(f"age-{age}", f"You are Janice, a {age}-year-old child.", kind="child",
                   values={"age": age})


class MarshmallowV1(Experiment):
    """Version 1: eat the one marshmallow now or keep waiting for two, minute by minute.

    The prompt tells the child how long the wait is and counts the minutes down. Kept
    registered, its prompts unchanged, so that v1 policy files and runs load; version 2 is
    :class:`~subrational.studies.marshmallow.bell.Marshmallow`.

    Args:
        horizon: Minutes until the adult comes back (15 in the paper and in Mischel's studies),
            from 2 to :data:`MAX_HORIZON`.
        ages: Ages of the personas ``age-Y``, each within :attr:`persona_axes` (2 to 8).
        population: Children (rows of :mod:`~subrational.experiments.population`) who replace
            the personas: one per child with an ``age`` (2 to 8, the axis), else one per child
            and age of ``ages`` (named ``<id>/age-Y``).

    Population template (version 1): ``You are Janice, <child profile>.``, with
    :func:`~subrational.experiments.population.child_profile` (``a 5-year-old girl from
    Germany``); a child with no other trait reads exactly as the default persona of its age.
    """

    name = "marshmallow"
    version = 1
    title = "Marshmallow test (delay of gratification)"
    actions = ("Eat", "Wait")
    state_type = MarshmallowState
    persona_axes = {"age": AGE_RANGE}
    sequential = True
    holdout_personas = ("age-6",)
    population_axis = "age"
    population_template_version = 1
    population_builtin = "children"

    def __init__(self, *, horizon: int = 15, ages: Sequence[int] = tuple(range(2, 9)),
                 population: Sequence[Mapping[str, Any]] | None = None) -> None:
        horizon = whole_number("marshmallow", "horizon", horizon, low=2, high=MAX_HORIZON,
                               unit="minutes")
        ages = whole_numbers("marshmallow", "ages", ages, low=AGE_RANGE[0], high=AGE_RANGE[1],
                             max_len=100, unit="years, the persona axis range")
        self.horizon = horizon
        self.ages = tuple(sorted(set(ages)))
        self._personas = {f"age-{a}": _persona(a) for a in self.ages}
        people = population_option("marshmallow", population)
        if people:
            check_axis(people, trait="age", low=AGE_RANGE[0], high=AGE_RANGE[1],
                       source="study option marshmallow.population", study="marshmallow",
                       hint=CHILDREN_HINT)
            self._personas = personas_of(
                people, axis="age", defaults=[(f"age-{a}", a) for a in self.ages],
                build=lambda name, age, traits: Persona(
                    name, f"You are Janice, {child_profile(int(age), traits)}.", "child",
                    {"age": int(age)}, traits))
            self.trait_encoding = TraitEncoding([p.traits for p in self._personas.values()])
            self.holdout_personas = ()  # type: ignore[misc,assignment]  # no held-out people
        self._grid = tuple(MarshmallowState(t) for t in range(horizon))

    @property
    def personas(self) -> Mapping[str, Persona]:
        """``age-2`` ... ``age-8``: one child persona per age."""
        return self._personas

    def states(self) -> Sequence[MarshmallowState]:
        """Minutes 0 .. horizon - 1 already waited."""
        return self._grid

    def initial_state(self, persona: Persona, *, rng: np.random.Generator) -> MarshmallowState:
        """The adult has just left: minute 0."""
        return self._grid[0]

    def initial_states(self, persona: Persona) -> Sequence[tuple[float, MarshmallowState]]:
        """Minute 0, with certainty."""
        return [(1.0, self._grid[0])]

    def step(self, state: MarshmallowState, action: int, persona: Persona) -> Step:
        """Eat pays one marshmallow and ends; waiting to the horizon pays two and ends."""
        if action == EAT:
            return Step(next_state=None, reward=1.0, terminated=True)
        minute = state.minute + 1
        if minute >= self.horizon:
            return Step(next_state=None, reward=2.0, terminated=True)
        return Step(next_state=MarshmallowState(minute), reward=0.0, terminated=False)

    def state_features(self, state: MarshmallowState) -> Mapping[str, float]:
        """Minutes waited as a share of the last decision minute (0 at the start, 1 at the end)."""
        return {"minute": state.minute / (self.horizon - 1)}

    def instructions(self, persona: Persona) -> str:
        """The story and the persona; identical for every minute so the prefix can be reused."""
        return (f"{persona.text} An adult puts one marshmallow on the table in front of you "
                "and says: \"I have to leave the room for a while. If the marshmallow is still "
                f"here when I come back in {self.horizon} minutes, you will get two "
                "marshmallows. You can eat this one whenever you want, but then you will not "
                "get a second one.\" Then the adult leaves and you are alone with the "
                "marshmallow. Answer as Janice would.")

    def paraphrases(self, persona: Persona) -> Sequence[str]:
        """The instructions and three rewordings with the same facts (a designed factor)."""
        h = self.horizon
        return (self.instructions(persona),
                f"{persona.text} A grown-up gives you one marshmallow and tells you: \"I am "
                f"going out for {h} minutes. If you don't eat the marshmallow before I'm back, "
                "you can have two. If you eat it, that's fine, but there won't be a second "
                "one.\" The grown-up goes out, and you sit alone with the marshmallow. Answer "
                "as Janice would.",
                f"{persona.text} You are in a room with a grown-up who places a marshmallow in "
                f"front of you. The grown-up explains that they must step out for {h} minutes: "
                "wait until they return without eating it and you will receive two "
                "marshmallows, or eat it any time you like and get only this one. Now you are "
                "by yourself with the marshmallow. Reply the way Janice would.",
                f"{persona.text} There is one marshmallow on the table. The adult with you says "
                f"you may eat it whenever you want, but if you leave it alone until they come "
                f"back in {h} minutes, you will be given a second marshmallow as well. Then the "
                "adult walks out. Answer as Janice.")

    def situation(self, state: MarshmallowState, persona: Persona) -> str:
        """Minutes already waited and minutes left, then the question."""
        left = self.horizon - state.minute
        so_far = ("The adult has just left the room" if state.minute == 0
                  else f"You have been waiting for {_minutes(state.minute)}")
        return (f"{so_far}; the adult will be back in {_minutes(left)}. The marshmallow is "
                "still in front of you. Do you eat the marshmallow now or wait?")

    def baselines(self) -> Mapping[str, Any]:
        """Exponential (time-consistent) and hyperbolic (present-biased) discounters."""
        return {"exponential": ExponentialDiscounter(horizon=self.horizon),
                "hyperbolic": HyperbolicDiscounter(horizon=self.horizon)}



def _minutes(n: int) -> str:
    return f"{n} minute" if n == 1 else f"{n} minutes"


def _trust(state: Any, unreliable_trust: float) -> float:
    """1 for a reliable adult (and for v1 states, which have none), else ``unreliable_trust``."""
    return 1.0 if getattr(state, "reliable", True) else unreliable_trust


def _logit_eat(noise: float, value_of_waiting: float) -> np.ndarray:
    p_eat = float(expit(noise * (1.0 - value_of_waiting)))
    return np.array([p_eat, 1.0 - p_eat])


@dataclass(frozen=True)
class ExponentialDiscounter:
    """Discounts two marshmallows at the end by ``delta`` per minute; logit choice noise.

    At minute t, waiting is worth ``2 * delta ** (horizon - t)`` against 1 for eating now, and
    P(eat) = sigmoid(noise * (1 - value of waiting)). With ``delta = 0.98`` per minute the value
    of waiting is 1.48 at minute 0 and rises to 1.96 at minute 14, so the agent waits at every
    minute: its plan never changes (time consistency). A ``delta`` below 0.5 ** (1 / horizon)
    (0.955 at 15 minutes) makes it eat at minute 0 instead. ``noise`` is the logit precision, as
    in the ultimatum's Fehr-Schmidt responder: at 10, a utility gap of 0.1 marshmallow moves
    P(eat) from 0.5 to 0.73, and the 0.48 gap at minute 0 leaves P(eat) = 0.008.

    With an unreliable adult (version 2 states with ``reliable`` false) the second
    marshmallow is believed to come only with probability ``unreliable_trust``: the rational
    account of Kidd, Palmeri & Aslin (2013). 0.5 is a design choice.

    Attributes:
        delta: Discount factor per minute, in (0, 1].
        noise: Logit precision (larger = less noisy).
        horizon: Minutes until the adult comes back.
        unreliable_trust: Believed probability that an unreliable adult keeps the promise.
    """

    delta: float = 0.98
    noise: float = 10.0
    horizon: int = 15
    unreliable_trust: float = 0.5

    def value_of_waiting(self, minute: int) -> float:
        """Discounted value, at ``minute``, of two marshmallows when the adult returns."""
        return 2.0 * self.delta ** (self.horizon - minute)

    def action_probs(self, state: MarshmallowState, persona: Persona) -> np.ndarray:
        """Logit choice between eating (1) and the discounted two marshmallows."""
        trust = _trust(state, self.unreliable_trust)
        return _logit_eat(self.noise, trust * self.value_of_waiting(state.minute))


@dataclass(frozen=True)
class HyperbolicDiscounter:
    """Discounts two marshmallows at the end hyperbolically, ``1 / (1 + k * delay)``.

    At minute t, waiting is worth ``2 / (1 + k * (horizon - t))`` against 1 for eating now. With
    ``k = 0.1`` per minute it is worth 0.8 at minute 0, exactly 1 at minute 5 (ten minutes left)
    and more afterwards: the agent would wait near the end, but at the start it prefers to eat,
    and with ``noise = 10`` it eats at minute 0 with P = sigmoid(2) = 0.88. This is the
    present-biased child the paper's younger personas resemble; ``noise`` as in
    :class:`ExponentialDiscounter`.

    ``unreliable_trust`` as in :class:`ExponentialDiscounter`.

    Attributes:
        k: Hyperbolic discount rate per minute, >= 0.
        noise: Logit precision (larger = less noisy).
        horizon: Minutes until the adult comes back.
        unreliable_trust: Believed probability that an unreliable adult keeps the promise.
    """

    k: float = 0.1
    noise: float = 10.0
    horizon: int = 15
    unreliable_trust: float = 0.5

    def value_of_waiting(self, minute: Any) -> Any:
        """Hyperbolically discounted value, at ``minute``, of two marshmallows at the end.

        Elementwise on an array of minutes (the structural fit evaluates many states at once).
        """
        return 2.0 / (1.0 + self.k * (self.horizon - minute))

    def action_probs(self, state: MarshmallowState, persona: Persona) -> np.ndarray:
        """Logit choice between eating (1) and the discounted two marshmallows."""
        trust = _trust(state, self.unreliable_trust)
        return _logit_eat(self.noise, trust * self.value_of_waiting(state.minute))
