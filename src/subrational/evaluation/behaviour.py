"""Behaviour statistics come from rollouts of each policy in the study's Gymnasium environment.

Every source of behaviour (the LLM demonstrations as a lookup policy, the learned network, the
baselines) is run through the same :class:`~subrational.experiments.GameEnv` with
:func:`~subrational.experiments.rollout`, so a statistic means the same thing for all of them.
Each (source, persona) pair gets its own generator derived from the run seed, so the numbers do
not depend on which sources are present or in which order they are simulated, and a replay gives
identical statistics. Policies are memoised per state: the games have few states and a rollout
visits them many times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..experiments.core import Experiment, Persona, Policy
from ..experiments.env import GameEnv
from ..experiments.rollout import Trajectory, rollout
from ..seeding import derived_rng
from .records import LEARNED_SOURCES

__all__ = ["EvalSettings", "MemoPolicy", "simulate", "source_rng", "LEARNED_SOURCES"]



@dataclass(frozen=True)
class EvalSettings:
    """How behaviour statistics are simulated.

    Attributes:
        episodes: Rollouts per source and persona (Monte Carlo error of a share is at most
            ``0.5 / sqrt(episodes)``).
        seed: Run seed; each (source, persona) derives its own generator from it.
    """

    episodes: int = 2000
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.episodes, bool) or not isinstance(self.episodes, int) \
                or self.episodes < 1:
            raise ConfigError(f"episodes must be an integer >= 1; got {self.episodes!r}")


class MemoPolicy:
    """Wraps a policy and remembers its answer per (persona, state).

    Other attributes (``observed``, ``rows`` of the demonstrations) pass through to the policy.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._memo: dict[tuple[str, Any], np.ndarray] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "policy":  # not yet set (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self.policy, name)

    def action_probs(self, state: Any, persona: Persona) -> np.ndarray:
        """The wrapped policy's distribution, computed once per persona and state."""
        key = (persona.name, state)
        if key not in self._memo:
            self._memo[key] = np.asarray(self.policy.action_probs(state, persona), dtype=float)
        return self._memo[key]


def source_rng(settings: EvalSettings, source: str, persona: Persona) -> np.random.Generator:
    """A generator for one source and persona, independent of every other pair."""
    return derived_rng(settings.seed, source, persona.name)


def simulate(experiment: Experiment, policy: Policy, persona: Persona, *, source: str,
             settings: EvalSettings, start_state: Any = None) -> list[Trajectory]:
    """``settings.episodes`` rollouts of ``policy`` for ``persona`` in the game's environment."""
    env = GameEnv(experiment, persona)
    return rollout(env, policy if isinstance(policy, MemoPolicy) else MemoPolicy(policy),
                   episodes=settings.episodes, rng=source_rng(settings, source, persona),
                   start_state=start_state)
