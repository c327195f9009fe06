"""Episodes of a finished run, rolled out from its demonstrations and from its policy.

Each episode is played by the one :func:`~subrational.experiments.rollout.rollout` through the
study's :class:`~subrational.experiments.env.GameEnv`, with the env and the policy wrapped so
that they record what the exported datasets need and a plain ``Trajectory`` lacks: every
observation (the one after the last action included), the episode's reset seed and the exact
action distribution the acting policy gave at each step.

The demonstrations act as their lookup table (:class:`~subrational.demonstrations.TablePolicy`):
where the LLM never answered (a state sampled episodes never reached) it has no distribution,
so an episode that reaches such a state is dropped and counted, never completed with a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..experiments.core import Experiment, Persona, Policy, state_key
from ..experiments.env import GameEnv
from ..experiments.rollout import UnknownStateError, rollout

__all__ = ["Episode", "EpisodeSet", "play"]


@dataclass(frozen=True)
class Episode:
    """One recorded episode of ``T`` decisions.

    Attributes:
        source: Who acted: ``demonstrations`` (the LLM's answers) or ``policy`` (the network).
        persona: The persona's name.
        seed: The seed the env was reset with.
        observations: ``(T + 1, n_features)`` float32, the env's observations (state features
            then persona features), the last one after the last action.
        states: ``T + 1`` game states as canonical JSON, aligned with ``observations``.
        actions: ``(T,)`` int64 action indices.
        rewards: ``(T,)`` float64.
        terminations: ``(T,)`` bool, true at the step the game ended.
        truncations: ``(T,)`` bool, true where the env cut off an episode that had not ended.
        probs: ``(T, n_actions)`` float64, the distribution the action was drawn from.
    """

    source: str
    persona: str
    seed: int
    observations: np.ndarray
    states: tuple[str, ...]
    actions: np.ndarray
    rewards: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray
    probs: np.ndarray

    def __post_init__(self) -> None:
        steps = len(self.actions)
        if len(self.observations) != steps + 1 or len(self.states) != steps + 1:
            raise ValueError(f"an episode of {steps} actions needs {steps + 1} observations "
                             f"and states; got {len(self.observations)} and {len(self.states)}")
        if not (len(self.rewards) == len(self.terminations) == len(self.truncations)
                == len(self.probs) == steps):
            raise ValueError(f"an episode of {steps} actions needs {steps} rewards, "
                             "terminations, truncations and distributions")

    def step_info(self, t: int) -> dict[str, Any]:
        """JSON-safe info of decision ``t``: persona, source, state and the distribution."""
        return {"persona": self.persona, "source": self.source, "state": json.loads(
            self.states[t]), "probs": [float(p) for p in self.probs[t]]}


@dataclass(frozen=True)
class EpisodeSet:
    """The episodes of one source, and those dropped at a state with no answer.

    Attributes:
        source: ``demonstrations`` or ``policy``.
        episodes: The recorded episodes, persona by persona.
        dropped: Episodes that reached a state the source has no distribution for.
    """

    source: str
    episodes: tuple[Episode, ...]
    dropped: int


class _RecordingEnv(GameEnv):
    """A :class:`GameEnv` that keeps the observations, states and step results of an episode."""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Reset and start a new record."""
        obs, info = super().reset(seed=seed, options=options)
        self.seed_used = int(seed) if seed is not None else 0
        self.record: dict[str, list[Any]] = {"obs": [obs.copy()], "states": [
            state_key(self.state)], "rewards": [], "term": [], "trunc": []}
        return obs, info

    def step(self, action):
        """Step and record."""
        obs, reward, terminated, truncated, info = super().step(action)
        for name, value in (("obs", obs.copy()), ("states", state_key(self.state)),
                            ("rewards", reward), ("term", terminated), ("trunc", truncated)):
            self.record[name].append(value)
        return obs, reward, terminated, truncated, info


class _RecordingPolicy:
    """Passes ``policy``'s distributions through and keeps them."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.probs: list[np.ndarray] = []

    def action_probs(self, state: Any, persona: Persona) -> np.ndarray:
        probs = np.asarray(self.policy.action_probs(state, persona), dtype=float)
        self.probs.append(probs)
        return probs


def _episode(env: _RecordingEnv, policy: _RecordingPolicy, actions: list[int],
             source: str) -> Episode:
    record = env.record
    return Episode(source, env.persona.name, env.seed_used,
                   np.asarray(record["obs"], dtype=np.float32), tuple(record["states"]),
                   np.asarray(actions, dtype=np.int64),
                   np.asarray(record["rewards"], dtype=np.float64),
                   np.asarray(record["term"], dtype=bool), np.asarray(record["trunc"], dtype=bool),
                   np.asarray(policy.probs, dtype=np.float64).reshape(len(actions), -1))


def play(experiment: Experiment, policy: Policy, personas: list[Persona], *, source: str,
         episodes: int, rng: np.random.Generator) -> EpisodeSet:
    """``episodes`` recorded episodes of ``policy`` per persona (module docstring)."""
    kept: list[Episode] = []
    dropped = 0
    for persona in personas:
        env = _RecordingEnv(experiment, persona)
        for _ in range(episodes):
            recorder = _RecordingPolicy(policy)
            try:
                (trajectory,) = rollout(env, recorder, episodes=1, rng=rng)
            except UnknownStateError:
                dropped += 1
                continue
            kept.append(_episode(env, recorder, list(trajectory.actions), source))
    return EpisodeSet(source, tuple(kept), dropped)
