"""Academic procrastination: when does a student do the work for a report? (DESIGN 3.4).

A report needs ``sessions`` work sessions and is due at the end of day ``deadline``. Each day the
student works on it (one session at most) or postpones and does something more pleasant. The
episode ends with reward 1 when the last session is done, or with reward 0 when the deadline
passes first (a late report). The paper (Coletta et al. 2024) finds that LLM students with a
lower GPA finish closer to the deadline and that work piles up near it, as with present-biased
people (OULAD: 52 % of submissions in the last two days).

The baselines plan by backward induction over the game core with a per-session effort cost and a
completion value: an exponential discounter (time-consistent) and a naive quasi-hyperbolic
(beta-delta) agent, who discounts everything after today by ``beta`` but believes its future
selves will be exponential discounters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit

from ...errors import ConfigError
from ...experiments.core import Experiment, Persona, Step
from ...experiments.options import option_error, real_numbers, whole_number
from ...experiments.population import (
    TraitEncoding,
    check_axis,
    personas_of,
    population_option,
    profile,
)

__all__ = ["ProcrastinationV1", "ProcrastinationState", "BetaDeltaStudent", "WORK", "POSTPONE"]

WORK, POSTPONE = 0, 1
GPA_RANGE = (2.0, 4.0)
MAX_DEADLINE = 365
"""A year of days: the longest episode the game takes."""
MAX_SESSIONS = 60


@dataclass(frozen=True)
class ProcrastinationState:
    """A morning before deciding: ``day`` in 1..deadline, ``done`` sessions already worked."""

    day: int
    done: int


def _gpa(g: float) -> str:
    """``3.0``, ``3.2``; ``3.25`` keeps its second decimal."""
    return f"{g:.1f}" if round(g, 1) == g else f"{g:.2f}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class ProcrastinationV1(Experiment):
    """Version 1: work today or postpone, until the report is done or the deadline has passed.

    Finishing pays at once (on the day of the last session). Kept registered, its prompts
    unchanged, so that v1 policy files and runs load; version 2 (the reward at the deadline,
    evenly spaced deadlines) is
    :class:`~subrational.studies.procrastination.deadlines.Procrastination`.

    Args:
        deadline: The report is due at the end of this day, from ``max(2, sessions)`` to
            :data:`MAX_DEADLINE`.
        sessions: Work sessions the report needs, from 1 to :data:`MAX_SESSIONS`.
        gpas: GPAs of the student personas ``gpa-X.Y``, within the persona axis (2 to 4), that
            differ at one decimal.
        population: People (rows of :mod:`~subrational.experiments.population`) who replace
            the personas: one student per person with a ``gpa``, else one per person and GPA
            of ``gpas`` (named ``<id>/gpa-X.Y``).

    Population template (version 1): ``You are a college student with a GPA of X.Y. You are
    <profile>.``, the default persona's sentence followed by
    :func:`~subrational.experiments.population.profile` of the person's traits.
    """

    name = "procrastination"
    version = 1
    title = "Academic procrastination (present bias)"
    actions = ("Work", "Postpone")
    state_type = ProcrastinationState
    persona_axes = {"gpa": GPA_RANGE}
    sequential = True
    holdout_personas = ("gpa-3.0",)
    population_axis = "gpa"
    population_template_version = 1
    population_builtin = "adults"
    baseline_delta = 0.99
    """Daily discount factor of the baselines and of the structural fit."""

    def __init__(self, *, deadline: int = 7, sessions: int = 3,
                 gpas: Sequence[float] = (2.0, 2.5, 3.0, 3.5, 4.0),
                 population: Sequence[Mapping[str, Any]] | None = None) -> None:
        sessions = whole_number("procrastination", "sessions", sessions, low=1,
                                high=MAX_SESSIONS)
        deadline = whole_number("procrastination", "deadline", deadline,
                                low=max(2, sessions), high=MAX_DEADLINE,
                                unit=f"days; at least max(2, sessions={sessions})")
        lo, hi = GPA_RANGE
        gpas = real_numbers("procrastination", "gpas", gpas, low=lo, high=hi, max_len=21)
        if len({f"{g:.1f}" for g in gpas}) != len(gpas):
            raise option_error("procrastination", "gpas", list(gpas),
                               "GPAs that differ at one decimal (each names a persona gpa-X.Y)")
        self.deadline, self.sessions = deadline, sessions
        self._personas = {
            f"gpa-{g:.1f}": Persona(f"gpa-{g:.1f}", f"You are a college student with a GPA of "
                                                    f"{g:.1f}.", "student", {"gpa": float(g)})
            for g in gpas}
        people = population_option("procrastination", population)
        if people:
            check_axis(people, trait="gpa", low=lo, high=hi, source="study option "
                       "procrastination.population", study="procrastination",
                       hint="give GPAs from 2.0 to 4.0")
            self._personas = personas_of(
                people, axis="gpa", defaults=[(n, p.values["gpa"])
                                              for n, p in self._personas.items()],
                build=lambda name, g, traits: Persona(
                    name, f"You are a college student with a GPA of {_gpa(g)}. You are "
                    f"{profile(traits)}.", "student", {"gpa": float(g)}, traits))
            self.trait_encoding = TraitEncoding([p.traits for p in self._personas.values()])
            self.holdout_personas = ()  # type: ignore[misc,assignment]  # no held-out people
        self._grid = tuple(ProcrastinationState(day, done)
                           for day in range(1, deadline + 1) for done in range(sessions))

    @property
    def personas(self) -> Mapping[str, Persona]:
        """One student per GPA: ``gpa-2.0`` ... ``gpa-4.0``."""
        return self._personas

    def states(self) -> Sequence[ProcrastinationState]:
        """Every day x sessions done, including mornings when finishing on time is impossible."""
        return self._grid

    def initial_state(self, persona: Persona, *,
                      rng: np.random.Generator) -> ProcrastinationState:
        """Day 1, nothing done."""
        return ProcrastinationState(1, 0)

    def initial_states(self, persona: Persona) -> Sequence[tuple[float, ProcrastinationState]]:
        """Day 1 with nothing done, with certainty."""
        return [(1.0, ProcrastinationState(1, 0))]

    def step(self, state: ProcrastinationState, action: int, persona: Persona) -> Step:
        """Work adds a session; the last one pays 1. Passing the deadline unfinished pays 0."""
        done = state.done + (action == WORK)
        if done >= self.sessions:
            return Step(next_state=None, reward=1.0, terminated=True)
        if state.day + 1 > self.deadline:
            return Step(next_state=None, reward=0.0, terminated=True)
        return Step(next_state=ProcrastinationState(state.day + 1, done), reward=0.0,
                    terminated=False)

    def state_features(self, state: ProcrastinationState) -> Mapping[str, float]:
        """Day and sessions done, each scaled to [0, 1]."""
        return {"day": (state.day - 1) / (self.deadline - 1),
                "done": state.done / max(self.sessions - 1, 1)}

    def instructions(self, persona: Persona) -> str:
        """The story and the persona; identical for every day so the prefix can be reused."""
        return (f"{persona.text} You have to write a report for one of your classes. It takes "
                f"{_plural(self.sessions, 'work session')} to finish, and you can do at most "
                f"one session a day. The report is due at the end of day {self.deadline}; if it "
                f"is not finished by then, it is late. Every day you decide whether to work on "
                f"the report that day or to postpone it and do something more pleasant instead. "
                f"Answer as this student would.")

    def paraphrases(self, persona: Persona) -> Sequence[str]:
        """The instructions and three rewordings with the same facts (a designed factor)."""
        work, d = _plural(self.sessions, "work session"), self.deadline
        return (self.instructions(persona),
                f"{persona.text} One of your classes requires a report. Finishing it takes "
                f"{work}, and you cannot do more than one session per day. It must be handed in "
                f"by the end of day {d}; after that it counts as late. Each day you choose: "
                "spend a session on the report, or put it off and do something more enjoyable. "
                "Decide as this student would.",
                f"{persona.text} You have a class report to write. It needs {work} in total, "
                f"at most one per day, and the deadline is the end of day {d} (an unfinished "
                "report by then is late). On every day you either work on it or leave it for "
                "later and do something you like better. Reply the way this student would.",
                f"{persona.text} A report for a class is due at the end of day {d}. You need "
                f"{work} to complete it and can fit in only one session a day; if it is not "
                "done by the deadline, it will be late. Each day, you can work on the report or "
                "postpone it in favour of something more fun. Answer as this student.")

    def situation(self, state: ProcrastinationState, persona: Persona) -> str:
        """Which day it is, the days left, the sessions done and left, then the question."""
        days_left = self.deadline - state.day + 1
        left = self.sessions - state.done
        return (f"It is day {state.day} of {self.deadline}. Including today, you have "
                f"{_plural(days_left, 'day')} left until the report is due. You have done "
                f"{state.done} of the {_plural(self.sessions, 'work session')}, so "
                f"{_plural(left, 'session')} remain{'s' if left == 1 else ''}. "
                "Do you work on the report today or postpone it?")

    def baselines(self) -> Mapping[str, Any]:
        """Exponential and naive beta-delta students (parameters in :class:`BetaDeltaStudent`)."""
        return {"exponential": BetaDeltaStudent(self, beta=1.0, delta=self.baseline_delta),
                "naive-beta-delta": BetaDeltaStudent(self, beta=0.7, delta=self.baseline_delta)}



@dataclass(frozen=True)
class BetaDeltaStudent:
    """A quasi-hyperbolic student solved by backward induction, with logit choice noise.

    A work session costs ``effort_cost`` on the day it is done; finishing pays
    ``completion_value`` (times the game's reward of 1) on that day; a late report pays 0. The
    continuation value ``V`` is the exponential (``beta = 1``) discounter's optimal value, computed
    with :meth:`Experiment.transitions`. The student chooses by today's payoff plus
    ``beta * delta * V(tomorrow)``: with ``beta = 1`` that is the time-consistent exponential
    agent; with ``beta < 1`` it is the naive agent, who expects its future selves to be patient.
    P(action) is a logit over these values with inverse temperature ``precision``; planning
    assumes optimal future choices (noise only enters the choice).

    Defaults (``delta = 0.99``, cost 1, value 10, ``precision = 10``) put both agents close to
    indifference about the timing of an unforced session: an exponential agent gains only about
    0.07 by working a day earlier, so it works early with P about 0.67, whereas the naive agent
    (``beta = 0.7``) loses about 0.25 and works early with P about 0.08. With no noise the
    exponential agent works on days 1-3 of 7 and the naive agent on days 5-7.

    A game with a ``payoff_timing(state, action, step)`` method (version 2) splits each
    step's reward into what is paid today and what is paid at the deadline, ``delay`` days
    later: the latter is discounted by ``delta ** delay`` and, when ``delay > 0``, by ``beta``
    (the O'Donoghue-Rabin structure: the cost now, the reward at the deadline).

    Attributes:
        experiment: The :class:`Procrastination` game to plan over.
        beta: Present bias (1 = exponential).
        delta: Daily discount factor.
        effort_cost: Utility cost of one work session.
        completion_value: Utility of finishing the report on time.
        precision: Logit inverse temperature (larger = closer to the best action).
    """

    experiment: ProcrastinationV1
    beta: float = 1.0
    delta: float = 0.99
    effort_cost: float = 1.0
    completion_value: float = 10.0
    precision: float = 10.0
    _values: dict[ProcrastinationState, float] = field(init=False, repr=False, compare=False,
                                                       default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("beta", "delta"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 < value <= 1):
                raise ConfigError(f"BetaDeltaStudent.{name} must be in (0, 1]; got {value!r}")
        if not (isinstance(self.precision, (int, float)) and self.precision > 0):
            raise ConfigError(f"BetaDeltaStudent.precision must be > 0 (use math.inf for no "
                              f"noise); got {self.precision!r}")
        persona = next(iter(self.experiment.personas.values()))  # the game ignores the persona
        for state in sorted(self.experiment.states(), key=lambda s: -s.day):
            self._values[state] = max(self._q(state, persona, beta=1.0))

    def _q(self, state: ProcrastinationState, persona: Persona, *,
           beta: float) -> tuple[float, float]:
        q = []
        for action in (WORK, POSTPONE):
            today = -self.effort_cost if action == WORK else 0.0
            later = 0.0
            for prob, step in self.experiment.transitions(state, action, persona):
                now, deferred, delay = self._timing(state, action, step)
                today += prob * self.completion_value * now
                if deferred:
                    weight = self.delta ** delay * (beta if delay > 0 else 1.0)
                    today += prob * self.completion_value * deferred * weight
                if step.next_state is not None:
                    later += prob * self._values[step.next_state]
            q.append(today + beta * self.delta * later)
        return q[0], q[1]

    def _timing(self, state: Any, action: int, step: Step) -> tuple[float, float, int]:
        """(paid today, paid at the deadline, days until the deadline) of one outcome."""
        split = getattr(self.experiment, "payoff_timing", None)
        return (step.reward, 0.0, 0) if split is None else split(state, action, step)

    def q_values(self, state: ProcrastinationState,
                 persona: Persona | None = None) -> tuple[float, float]:
        """(Work, Postpone) values as this student sees them this morning."""
        persona = persona or next(iter(self.experiment.personas.values()))
        return self._q(state, persona, beta=self.beta)

    def action_probs(self, state: ProcrastinationState, persona: Persona) -> np.ndarray:
        """Logit choice between working and postponing."""
        work, postpone = self.q_values(state, persona)
        gap = work - postpone
        if math.isinf(self.precision):
            p_work = 1.0 if gap > 0 else 0.0 if gap < 0 else 0.5
        else:
            p_work = float(expit(self.precision * gap))
        return np.array([p_work, 1.0 - p_work])
