"""A Gymnasium face for any game core.

Observations are the policy features (state features then persona features), so a learned policy,
an LLM persona or a baseline all act through the same environment. The persona is fixed per env.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from .core import Experiment, Persona

__all__ = ["GameEnv", "MAX_STEPS", "make_env"]

MAX_STEPS = 1000
"""Decisions after which an episode that has not ended is truncated (a game that never ends
cannot hang a rollout; exact enumeration truncates at the same step)."""


class GameEnv(gym.Env[np.ndarray, np.int64]):
    """``gymnasium.Env`` over an :class:`Experiment` for one persona.

    ``info["state"]`` holds the game's frozen state object, which the LLM and baselines need.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}  # fps: check_env asks for one

    def __init__(self, experiment: Experiment, persona: Persona | str,
                 render_mode: str | None = None, max_steps: int = MAX_STEPS) -> None:
        self.experiment = experiment
        self.persona = experiment.persona(persona) if isinstance(persona, str) else persona
        self._persona_part = experiment.persona_vector(self.persona)  # fixed for this env
        size = len(experiment.encode(experiment.states()[0], self.persona))
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(size,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(len(experiment.actions))
        self.render_mode = render_mode
        self.max_steps = max_steps
        self.state: Any = None
        self._steps = 0

    def _obs(self) -> np.ndarray:
        state_part = np.fromiter(self.experiment.state_features(self.state).values(),
                                 dtype=np.float32)
        obs = np.concatenate([state_part, self._persona_part])
        np.maximum(obs, 0.0, out=obs)  # two ufuncs: several times cheaper than np.clip
        return np.minimum(obs, 1.0, out=obs)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode; ``options={"state": s}`` starts from a given state."""
        super().reset(seed=seed)
        if options and "state" in options:
            self.state = options["state"]
        else:
            self.state = self.experiment.initial_state(self.persona, rng=self.np_random)
        self._steps = 0
        return self._obs(), {"state": self.state}

    def step(self, action):
        """Apply an action index; the episode ends when the game core says so.

        An integer, or a 0-d integer array (what stable-baselines3 policies return for one
        observation).
        """
        if isinstance(action, np.ndarray) and action.ndim == 0 \
                and np.issubdtype(action.dtype, np.integer):
            action = action.item()
        if not (isinstance(action, (int, np.integer)) and 0 <= action < self.action_space.n):
            raise ValueError(f"action {action!r} is not in {self.action_space}")
        result = self.experiment.sample_step(self.state, int(action), self.persona,
                                             rng=self.np_random)
        self._steps += 1
        truncated = not result.terminated and self._steps >= self.max_steps
        if result.next_state is not None:
            self.state = result.next_state
        info = {"state": self.state}
        return self._obs(), float(result.reward), bool(result.terminated), truncated, info

    def render(self) -> str | None:
        """Return the situation text (``ansi`` mode)."""
        if self.render_mode == "ansi":
            return self.experiment.situation(self.state, self.persona)
        return None


def make_env(experiment: str, persona: Persona | str | None = None, *,
             render_mode: str | None = None, max_steps: int = MAX_STEPS,
             **options: Any) -> GameEnv:
    """The Gymnasium entry point of every ``subrational/<id>``: study ``experiment`` as an env.

    ``persona`` defaults to the study's first default persona; ``options`` go to the study's
    constructor (``gymnasium.make("subrational/double_or_nothing-v1", win_probs=[0.5, 0.8])``).
    An unknown persona or option is one line naming the valid ones.
    """
    from .registry import make

    game = make(experiment, **options)
    chosen = persona if persona is not None else game.default_personas[0]
    return GameEnv(game, chosen, render_mode=render_mode, max_steps=max_steps)
