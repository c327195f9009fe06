"""Academic procrastination version 2: O'Donoghue-Rabin timing and evenly spaced deadlines.

What changed from version 1 (issue 12, item 3):

* The O'Donoghue & Rabin (1999) structure: each work session costs effort on the day it is
  done, and the report's credit comes at the deadline whichever day it was finished. The game's
  reward is unchanged (1 for a finished report), but :meth:`Procrastination.payoff_timing`
  tells the baselines it is paid at the end of the last day, and they discount by
  ``delta = 1`` per day (:attr:`Procrastination.baseline_delta`). An exponential student is then
  indifferent about when to work; a present-biased one (beta < 1) puts it off to the end.
* Ariely & Wertenbroch (2002) is a designed axis, on by default: under ``spaced`` deadlines
  session k of n must be done by the end of day ``round(k * deadline / n)`` (days 5 and 9 of
  14 for 3 sessions), and each one missed costs a tenth of the report's value
  (``interim_penalty``, a design choice: their penalty was 1 % of the grade per day late);
  under ``final`` there is only the last deadline. An episode starts under either with
  probability 1/2.
* The window is 14 days by default: OULAD's windows are several weeks long, and two weeks is
  the shortest (a design choice; the comparison with OULAD is approximate, see the analysis).
* ``framing="disguised"`` tells the same game as a carving order for a neighbour
  (:mod:`~subrational.studies.procrastination.wording`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import ConfigError
from ...experiments.core import Persona, Step
from ...experiments.options import one_of, real_number
from . import wording
from .game import WORK, BetaDeltaStudent, ProcrastinationV1

__all__ = ["DeadlineState", "Procrastination", "SCHEDULES"]

SCHEDULES = ("final", "spaced")


@dataclass(frozen=True)
class DeadlineState:
    """A morning: ``day`` in 1..deadline, ``done`` sessions worked, ``spaced`` deadlines or not."""

    day: int
    done: int
    spaced: bool = False


class Procrastination(ProcrastinationV1):
    """Work today or postpone; the credit comes at the deadline, the effort today.

    Args:
        deadline: The report is due at the end of this day (14 by default), from
            ``max(2, sessions)`` to 365.
        sessions: Work sessions the report needs, from 1 to 60.
        gpas: GPAs of the student personas ``gpa-X.Y`` (2 to 4).
        population: People who replace the personas, as in version 1.
        schedules: Conditions of the Ariely & Wertenbroch (2002) axis present, a non-empty
            subset of ``("final", "spaced")`` (both by default; ``("final",)`` turns it off).
        framing: ``"standard"`` (a class report) or ``"disguised"`` (a carving order, no
            textbook cue; version :attr:`framing_version`).
        interim_penalty: Share of the report's value lost per missed spaced deadline, in
            [0, 1] (0.1, a design choice).
    """

    version = 2
    framing_version = wording.FRAMING_VERSION
    state_type = DeadlineState
    baseline_delta = 1.0

    def __init__(self, *, deadline: int = 14, sessions: int = 3,
                 gpas: Sequence[float] = (2.0, 2.5, 3.0, 3.5, 4.0),
                 population: Sequence[Mapping[str, Any]] | None = None,
                 schedules: Sequence[str] = SCHEDULES, framing: str = "standard",
                 interim_penalty: float = 0.1) -> None:
        super().__init__(deadline=deadline, sessions=sessions, gpas=gpas, population=population)
        self.framing = one_of("procrastination", "framing", framing, wording.FRAMINGS)
        if isinstance(schedules, str):  # --option procrastination.schedules=X gives one string
            schedules = (schedules,)
        if not schedules:
            raise ConfigError(f"procrastination: schedules must be a non-empty list of "
                              f"{', '.join(SCHEDULES)}; got {schedules!r}")
        picked = {one_of("procrastination", "schedules", s, SCHEDULES) for s in schedules}
        self.schedules = tuple(s for s in SCHEDULES if s in picked)
        self.interim_penalty = real_number("procrastination", "interim_penalty",
                                           interim_penalty, low=0.0, high=1.0)
        n, d = self.sessions, self.deadline
        self.interim = tuple(round(k * d / n) for k in range(1, n))
        """Day by whose end session k (1-based) must be done under spaced deadlines."""
        self._grid = tuple(DeadlineState(day, done, s == "spaced") for s in self.schedules
                           for day in range(1, d + 1) for done in range(n))

    def _start(self, schedule: str) -> DeadlineState:
        return DeadlineState(1, 0, schedule == "spaced")

    def initial_state(self, persona: Persona, *, rng: np.random.Generator) -> DeadlineState:
        """Day 1, nothing done; the schedule drawn uniformly from ``schedules``."""
        if len(self.schedules) == 1:
            return self._start(self.schedules[0])
        return self._start(self.schedules[int(rng.integers(len(self.schedules)))])

    def initial_states(self, persona: Persona) -> Sequence[tuple[float, DeadlineState]]:
        """Day 1 with nothing done under each schedule, each with probability 1 / (their number)."""
        return [(1.0 / len(self.schedules), self._start(s)) for s in self.schedules]

    def missed(self, state: DeadlineState, done: int) -> bool:
        """Whether ending ``state``'s day with ``done`` sessions misses a spaced deadline."""
        if not state.spaced or state.day not in self.interim:
            return False
        return done < self.interim.index(state.day) + 1

    def step(self, state: DeadlineState, action: int, persona: Persona) -> Step:
        """Work adds a session; the last pays 1; a missed spaced deadline costs the penalty."""
        done = state.done + (action == WORK)
        if done >= self.sessions:
            return Step(next_state=None, reward=1.0, terminated=True)
        penalty = -self.interim_penalty if self.missed(state, done) else 0.0
        if state.day + 1 > self.deadline:
            return Step(next_state=None, reward=penalty, terminated=True)
        return Step(next_state=DeadlineState(state.day + 1, done, state.spaced), reward=penalty,
                    terminated=False)

    def payoff_timing(self, state: DeadlineState, action: int,
                      step: Step) -> tuple[float, float, int]:
        """(paid today, paid at the deadline, days until it): the credit waits for the deadline."""
        finished = step.terminated and state.done + (action == WORK) >= self.sessions
        if not finished:
            return step.reward, 0.0, 0
        return 0.0, step.reward, self.deadline - state.day

    def state_features(self, state: DeadlineState) -> Mapping[str, float]:
        """Day and sessions done, each scaled to [0, 1], and 1 under spaced deadlines."""
        return {**super().state_features(state), "spaced": 1.0 if state.spaced else 0.0}

    def instructions(self, persona: Persona) -> str:
        """The story of the framing and the persona; the same in every state."""
        return self.paraphrases(persona)[0]

    def paraphrases(self, persona: Persona) -> Sequence[str]:
        """The instructions and three rewordings with the same facts (a designed factor)."""
        return wording.instructions(self.framing, persona.text, sessions=self.sessions,
                                    deadline=self.deadline)

    def situation(self, state: DeadlineState, persona: Persona) -> str:
        """The schedule, the day, the days and sessions left, then the question."""
        return wording.situation(self.framing, day=state.day, done=state.done,
                                 sessions=self.sessions, deadline=self.deadline,
                                 interim=self.interim, spaced=state.spaced)

    def baselines(self) -> Mapping[str, Any]:
        """Exponential and naive beta-delta (0.7) students with delta = 1 per day."""
        return {"exponential": BetaDeltaStudent(self, beta=1.0, delta=self.baseline_delta),
                "naive-beta-delta": BetaDeltaStudent(self, beta=0.7, delta=self.baseline_delta)}
