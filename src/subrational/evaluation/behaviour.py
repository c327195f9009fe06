"""Behaviour statistics come from rollouts of each policy in the study's Gymnasium environment.

Every source of behaviour (the LLM demonstrations as a lookup policy, the learned network, the
baselines) is run through the same :class:`~subrational.experiments.GameEnv` with
:func:`~subrational.experiments.rollout`, so a statistic means the same thing for all of them.
Each (source, persona) pair gets its own generator derived from the run seed, so the numbers do
not depend on which sources are present or in which order they are simulated, and a replay gives
identical statistics. Policies are memoised per state: the games have few states and a rollout
visits them many times.

The sample method of a sequential game is the exception: its episode statistics come from the
LLM's own sampled episodes (:func:`episodes`), never from rollouts of a lookup of them, and each
share carries a Wilson interval and the number of episodes behind it. A rollout that reaches a
state a policy has no answer for gives no statistic (:func:`episodes` returns ``None``: unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..experiments.core import Experiment, Persona, Policy
from ..experiments.env import GameEnv
from ..experiments.rollout import Trajectory, UnknownStateError, rollout
from ..seeding import derived_rng
from .records import LEARNED_SOURCES

__all__ = ["EvalSettings", "Episodes", "MemoPolicy", "episodes", "simulate", "source_rng",
           "LEARNED_SOURCES", "SAMPLED", "ROLLOUTS"]

SAMPLED, ROLLOUTS = "sampled episodes", "rollouts"



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


@dataclass(frozen=True)
class Episodes:
    """Episodes behind a statistic: the LLM's own (``SAMPLED``) or simulated (``ROLLOUTS``)."""

    trajectories: list[Trajectory]
    origin: str
    abandoned: int = 0


def _sampled(policy: Any) -> Any:
    inner = policy.policy if isinstance(policy, MemoPolicy) else policy
    return inner if getattr(inner, "has_episodes", False) else None


def episodes(experiment: Experiment, policy: Policy, persona: Persona, *, source: str,
             settings: EvalSettings, start_state: Any = None,
             keep: Any = None) -> Episodes | None:
    """The episodes a behaviour statistic of ``policy`` for ``persona`` is computed from.

    Sampled demonstrations give the LLM's own episodes (those whose first state passes
    ``keep`` when given, e.g. the odds they were played at); any other policy is rolled out
    ``settings.episodes`` times from ``start_state``. ``None`` when the rollouts reach a state
    the policy has no answer for: the statistic is unknown.
    """
    sampled = _sampled(policy)
    if sampled is not None:
        trajs = [t for t in sampled.episodes(persona)
                 if t.states and (keep is None or keep(t.states[0]))]
        return Episodes(trajs, SAMPLED, int(sampled.abandoned(persona)))
    try:
        return Episodes(simulate(experiment, policy, persona, source=source, settings=settings,
                                 start_state=start_state), ROLLOUTS)
    except UnknownStateError:
        return None
