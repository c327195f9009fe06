"""Behaviour statistics come from every episode of each policy, or from rollouts of it.

Every source of behaviour (the LLM demonstrations as a lookup policy, the learned network, the
baselines) is played by the same game core, so a statistic means the same thing for all of them.
Where the game is small enough, :func:`episodes` lists every episode the policy can play with
its probability (:func:`~subrational.experiments.rollout.enumerate_episodes`, origin
:data:`EXACT`): the statistics are then exact, with no Monte Carlo error, no interval and no
episode count. Otherwise (more than ``EvalSettings.max_paths`` episodes, or a game that does not
give its :meth:`~subrational.experiments.core.Experiment.initial_states`) the policy is rolled
out ``EvalSettings.episodes`` times in the study's :class:`~subrational.experiments.GameEnv`
(origin :data:`ROLLOUTS`). Each (source, persona) pair gets its own generator derived from the
run seed, so rolled-out numbers do not depend on which sources are present or in which order
they are simulated, and a replay gives identical statistics. Policies are memoised per state:
the games have few states and an episode visits them many times.

The sample method of a sequential game is the exception: its episode statistics come from the
LLM's own sampled episodes (origin :data:`SAMPLED`), never from a lookup of them, and each share
carries a Wilson interval and the number of episodes behind it. An episode that reaches a state
a policy has no answer for gives no statistic (:func:`episodes` returns ``None``: unknown).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..experiments.core import Experiment, Persona, Policy
from ..experiments.env import GameEnv
from ..experiments.rollout import (
    MAX_PATHS,
    Trajectory,
    UnknownStateError,
    enumerate_episodes,
    rollout,
)
from ..seeding import derived_rng
from .records import LEARNED_SOURCES

__all__ = ["EvalSettings", "Episodes", "MemoPolicy", "episodes", "simulate", "source_rng",
           "common_origin", "episode_weights", "LEARNED_SOURCES", "SAMPLED", "ROLLOUTS", "EXACT"]

SAMPLED, ROLLOUTS, EXACT = "sampled episodes", "rollouts", "exact"
"""Where the episodes behind a statistic come from: the LLM's own sampled episodes, rollouts
of a policy, or every episode of a policy weighted by its probability (no sampling error)."""

@dataclass(frozen=True)
class EvalSettings:
    """How behaviour statistics are computed.

    Attributes:
        episodes: Rollouts per source and persona where exact enumeration is not possible (a
            game with more than ``max_paths`` episodes, or one that gives no
            ``initial_states``); the Monte Carlo error of a share is then at most
            ``0.5 / sqrt(episodes)``. Exact statistics do not use it.
        seed: Run seed; each (source, persona) derives its own rollout generator from it.
        max_paths: Most episodes an exact enumeration lists before it gives way to rollouts
            (see :func:`~subrational.experiments.rollout.enumerate_episodes`); 0 always rolls
            out.
    """

    episodes: int = 2000
    seed: int = 0
    max_paths: int = MAX_PATHS

    def __post_init__(self) -> None:
        if isinstance(self.episodes, bool) or not isinstance(self.episodes, int) \
                or self.episodes < 1:
            raise ConfigError(f"episodes must be an integer >= 1; got {self.episodes!r}")
        if isinstance(self.max_paths, bool) or not isinstance(self.max_paths, int) \
                or self.max_paths < 0:
            raise ConfigError(f"max_paths must be an integer >= 0; got {self.max_paths!r}")


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
    """Episodes behind a statistic, and where they come from.

    ``origin`` is ``SAMPLED`` (the LLM's own), ``ROLLOUTS`` (simulated, weight 1 each) or
    ``EXACT`` (every episode, its probability as its ``weight``).
    """

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
    ``keep`` when given, e.g. the odds they were played at). Any other policy gives every
    episode it can play from ``start_state`` (else the game's initial states), each weighted by
    its probability (``EXACT``); where there are more than ``settings.max_paths`` of them, or
    the game does not give its initial states, it is rolled out ``settings.episodes`` times
    instead. ``None`` when an episode reaches a state the policy has no answer for: the
    statistic is unknown.
    """
    sampled = _sampled(policy)
    if sampled is not None:
        trajs = [t for t in sampled.episodes(persona)
                 if t.states and (keep is None or keep(t.states[0]))]
        return Episodes(trajs, SAMPLED, int(sampled.abandoned(persona)))
    memo = policy if isinstance(policy, MemoPolicy) else MemoPolicy(policy)
    try:
        if settings.max_paths > 0:
            exact = enumerate_episodes(experiment, memo, persona, start_state=start_state,
                                       max_paths=settings.max_paths)
            if exact is not None:
                return Episodes(exact, EXACT)
        return Episodes(simulate(experiment, memo, persona, source=source, settings=settings,
                                 start_state=start_state), ROLLOUTS)
    except UnknownStateError:
        return None


def common_origin(origins: Iterable[str]) -> str:
    """The origin of statistics pooled from several: ``EXACT`` only when every one is exact.

    Any sampled part makes the pool ``SAMPLED``; else any rolled-out part makes it
    ``ROLLOUTS``. Unknown parts (``""``) are left out; ``""`` when every part is unknown.
    """
    known = {o for o in origins if o}
    if not known:
        return ""
    if known == {EXACT}:
        return EXACT
    return SAMPLED if SAMPLED in known else ROLLOUTS


def episode_weights(trajectories: Sequence[Trajectory], origin: str) -> np.ndarray | None:
    """Probabilities of ``EXACT`` episodes (normalised to sum 1); ``None`` for sampled ones.

    A statistic of sampled episodes (rollouts, the LLM's) counts each once and keeps today's
    arithmetic, so it is bit-identical to an unweighted one; exact episodes are weighted.
    Raises ``ValueError`` when episodes that are not ``EXACT`` carry a weight other than 1.
    """
    weights = np.fromiter((t.weight for t in trajectories), dtype=float, count=len(trajectories))
    if origin == EXACT:
        return weights / weights.sum()
    if np.any(weights != 1.0):
        raise ValueError(f"episodes from {origin or 'an unknown origin'} carry probabilities "
                         f"as weights: only exact episodes (origin {EXACT!r}) are weighted")
    return None
