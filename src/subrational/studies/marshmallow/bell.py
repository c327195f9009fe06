"""Marshmallow test version 2: Mischel's procedure with Kidd et al.'s (2013) manipulation.

What changed from version 1 (issue 12, item 3):

* The child is not told how long the wait is and nothing counts it down: in the classic
  procedure she does not know. She does feel time passing, so the situation says how long
  she has waited in coarse words ("a little while", "a long time"; see
  :func:`~subrational.studies.marshmallow.wording.elapsed`), never in minutes.
* She may ring a bell to call the adult back, which ends the wait with one marshmallow
  (Mischel's procedure): the actions are ``Ring`` and ``Wait``. Ringing pays what eating paid
  in version 1, so the game, the analysis and the baselines are unchanged in kind.
* Kidd, Palmeri & Aslin (2013) is a designed axis, on by default: every state says whether the
  same adult earlier kept or broke a promise (``reliable``), and an episode starts in either
  condition with probability 1/2. Humans: mean wait 12.0 vs 3.0 minutes of 15.
* The adult comes back after ``horizon`` = 10 minutes (Lamm et al. 2018's cap); the analysis
  reads survival at 7 minutes (the cap of the NICHD study of Watts, Duncan & Quan 2018) and at
  10, not at 15.
* ``framing="disguised"`` tells the same game as beads and a chime with a neighbour
  (:mod:`~subrational.studies.marshmallow.wording`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import ConfigError
from ...experiments.core import Persona, Step
from ...experiments.options import one_of, whole_number
from . import wording
from .game import EAT, ExponentialDiscounter, HyperbolicDiscounter, MarshmallowV1

__all__ = ["ADULTS", "MAX_HORIZON", "RING", "Marshmallow", "WaitState"]

RING = EAT
"""Ring the bell: the adult comes back and the child has one marshmallow (index 0)."""
ADULTS = ("reliable", "unreliable")
MAX_HORIZON = 30
"""Longest wait of version 2: the human studies cap it at 7 to 15 minutes."""


@dataclass(frozen=True)
class WaitState:
    """Minutes already waited, and whether this adult kept an earlier promise."""

    minute: int
    reliable: bool = True


class Marshmallow(MarshmallowV1):
    """Ring the bell (one marshmallow now) or keep waiting for two; the wait's length unknown.

    Args:
        horizon: Minutes until the adult comes back on her own (10: Lamm et al. 2018's cap),
            from 2 to :data:`MAX_HORIZON` (30: the felt time is words, not minutes).
        ages: Ages of the personas ``age-Y`` (2 to 8).
        population: Children who replace the personas, as in version 1.
        adults: Conditions of the Kidd et al. (2013) axis present, a non-empty subset of
            ``("reliable", "unreliable")`` (both by default; ``("reliable",)`` turns it off).
        framing: ``"standard"`` (the classic story) or ``"disguised"`` (the same game as
            beads and a chime, no textbook cue; version :attr:`framing_version`).
    """

    version = 2
    framing_version = wording.FRAMING_VERSION
    actions = ("Ring", "Wait")
    state_type = WaitState

    def __init__(self, *, horizon: int = 10, ages: Sequence[int] = tuple(range(2, 9)),
                 population: Sequence[Mapping[str, Any]] | None = None,
                 adults: Sequence[str] = ADULTS, framing: str = "standard") -> None:
        horizon = whole_number("marshmallow", "horizon", horizon, low=2, high=MAX_HORIZON,
                               unit="minutes")
        super().__init__(horizon=horizon, ages=ages, population=population)
        self.framing = one_of("marshmallow", "framing", framing, wording.FRAMINGS)
        if isinstance(adults, str):  # --option marshmallow.adults=X gives one string
            adults = (adults,)
        if not adults:
            raise ConfigError(f"marshmallow: adults must be a non-empty list of "
                              f"{', '.join(ADULTS)}; got {adults!r}")
        picked = {one_of("marshmallow", "adults", a, ADULTS) for a in adults}
        self.adults = tuple(a for a in ADULTS if a in picked)
        self._grid = tuple(WaitState(t, a == "reliable") for a in self.adults
                           for t in range(self.horizon))

    def states(self) -> Sequence[WaitState]:
        """Minutes 0 .. horizon - 1 already waited, in each adult condition present."""
        return self._grid

    def initial_state(self, persona: Persona, *, rng: np.random.Generator) -> WaitState:
        """Minute 0; the adult's condition drawn uniformly from ``adults``."""
        if len(self.adults) == 1:
            return WaitState(0, self.adults[0] == "reliable")
        return WaitState(0, self.adults[int(rng.integers(len(self.adults)))] == "reliable")

    def initial_states(self, persona: Persona) -> Sequence[tuple[float, WaitState]]:
        """Minute 0 in each adult condition, each with probability 1 / (number of them)."""
        return [(1.0 / len(self.adults), WaitState(0, a == "reliable")) for a in self.adults]

    def step(self, state: WaitState, action: int, persona: Persona) -> Step:
        """Ringing pays one marshmallow and ends; waiting to the horizon pays two and ends."""
        if action == RING:
            return Step(next_state=None, reward=1.0, terminated=True)
        minute = state.minute + 1
        if minute >= self.horizon:
            return Step(next_state=None, reward=2.0, terminated=True)
        return Step(next_state=WaitState(minute, state.reliable), reward=0.0, terminated=False)

    def state_features(self, state: WaitState) -> Mapping[str, float]:
        """Minutes waited as a share of the last decision minute, and 1 for a reliable adult."""
        return {"minute": state.minute / (self.horizon - 1),
                "reliable": 1.0 if state.reliable else 0.0}

    def instructions(self, persona: Persona) -> str:
        """The story of the framing and the persona; the same in every state."""
        return wording.instructions(self.framing, persona.text)[0]

    def paraphrases(self, persona: Persona) -> Sequence[str]:
        """The instructions and three rewordings with the same facts (a designed factor)."""
        return wording.instructions(self.framing, persona.text)

    def situation(self, state: WaitState, persona: Persona) -> str:
        """The adult's earlier promise, how long the wait has felt, then the question."""
        return wording.situation(self.framing, minute=state.minute, reliable=state.reliable)

    def baselines(self) -> Mapping[str, Any]:
        """Exponential and hyperbolic discounters who trust an unreliable adult half as much."""
        return {"exponential": ExponentialDiscounter(horizon=self.horizon),
                "hyperbolic": HyperbolicDiscounter(horizon=self.horizon)}
