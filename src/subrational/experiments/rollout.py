"""One ``rollout()`` for every kind of policy: LLM demonstrations, learned networks, baselines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .core import Policy
from .env import GameEnv

__all__ = ["Trajectory", "UnknownStateError", "rollout"]


class UnknownStateError(ValueError):
    """A rollout reached a state where the policy has no distribution (NaN): unknown."""

    def __init__(self, state: Any, persona: str) -> None:
        super().__init__(f"the policy has no answer for {persona} in state {state!r} (the LLM "
                         "never answered there): a statistic that needs it is unknown")
        self.state, self.persona = state, persona


@dataclass(frozen=True)
class Trajectory:
    """One episode: the game states visited, the actions taken and their rewards."""

    persona: str
    states: list[Any] = field(default_factory=list)
    actions: list[int] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)

    @property
    def total_reward(self) -> float:
        """Sum of rewards."""
        return float(sum(self.rewards))


def rollout(env: GameEnv, policy: Policy, *, episodes: int, rng: np.random.Generator,
            start_state: Any = None) -> list[Trajectory]:
    """Run ``episodes`` episodes of ``policy`` in ``env``, sampling actions with ``rng``.

    Raises :class:`UnknownStateError` when the policy answers NaN in a state it reaches.
    """
    trajectories = []
    for _ in range(episodes):
        options = {"state": start_state} if start_state is not None else None
        _, info = env.reset(seed=int(rng.integers(2**31)), options=options)
        traj = Trajectory(persona=env.persona.name)
        done = False
        while not done:
            state = info["state"]
            probs = np.asarray(policy.action_probs(state, env.persona), dtype=float)
            if not np.isfinite(probs).all():
                raise UnknownStateError(state, env.persona.name)
            cumulative = np.cumsum(probs)  # inverse-CDF draw: a fraction of rng.choice's cost
            action = min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1],
                                             side="right")), len(probs) - 1)
            _, reward, terminated, truncated, info = env.step(action)
            traj.states.append(state)
            traj.actions.append(action)
            traj.rewards.append(reward)
            done = terminated or truncated
        trajectories.append(traj)
    return trajectories
