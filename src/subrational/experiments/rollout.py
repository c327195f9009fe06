"""One ``rollout()`` for every kind of policy: LLM demonstrations, learned networks, baselines.

:func:`enumerate_episodes` is its exact twin for small games: instead of sampling episodes it
lists every episode the policy can play, each with its probability, so that a statistic computed
from them has no Monte Carlo error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .core import Experiment, Persona, Policy
from .env import MAX_STEPS, GameEnv

__all__ = ["MAX_PATHS", "Trajectory", "UnknownStateError", "enumerate_episodes", "rollout"]


class UnknownStateError(ValueError):
    """A rollout reached a state where the policy has no distribution (NaN): unknown."""

    def __init__(self, state: Any, persona: str) -> None:
        super().__init__(f"the policy has no answer for {persona} in state {state!r} (the LLM "
                         "never answered there): a statistic that needs it is unknown")
        self.state, self.persona = state, persona


@dataclass(frozen=True)
class Trajectory:
    """One episode: the game states visited, the actions taken and their rewards.

    ``weight`` is the probability of the episode when it comes from :func:`enumerate_episodes`
    (the weights of one enumeration sum to 1); a sampled episode (a rollout, or one the LLM
    played) counts once, with weight 1.
    """

    persona: str
    states: list[Any] = field(default_factory=list)
    actions: list[int] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    weight: float = 1.0

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


_Node = tuple[Any, ...]
"""One step of a path: (parent node or None, state, action, reward)."""

MAX_PATHS = 50_000
"""Default cap on the episodes :func:`enumerate_episodes` lists before it gives up (see there)."""


def _distribution(values: np.ndarray) -> np.ndarray | None:
    """``values`` normalised to sum 1, as a rollout's draw treats them; None when not possible.

    Fewer than 8 float64 values (every action set and chance node of the built-in games) are
    summed left to right in Python, which is numpy's own order below its pairwise block of 8
    (the same bits) at a fraction of the call overhead; a sum that is not finite takes numpy's
    path.
    """
    if values.dtype == np.float64 and values.ndim == 1 and values.size < 8:
        total = 0.0
        for v in values.tolist():
            total += v
        if math.isfinite(total):
            return values / total if total > 0 else None
    total = float(values.sum()) if np.isfinite(values).all() else math.nan
    return values / total if total > 0 else None


def enumerate_episodes(experiment: Experiment, policy: Policy, persona: Persona | str, *,
                       start_state: Any = None, max_paths: int = MAX_PATHS,
                       max_steps: int = MAX_STEPS) -> list[Trajectory] | None:
    """Every episode ``policy`` can play for ``persona``, each with its probability as ``weight``.

    Depth first from the first state (``start_state``, else each of
    :meth:`~subrational.experiments.core.Experiment.initial_states`), over every action the
    policy gives a positive probability and every outcome of
    :meth:`~subrational.experiments.core.Experiment.transitions` with a positive probability.
    An episode ends where the game terminates or, as in :class:`GameEnv`, after ``max_steps``
    decisions. The weights sum to 1 up to rounding. The policy's probabilities and the outcome
    probabilities are normalised to sum 1, as :func:`rollout` and ``sample_step`` draw them.

    Returns ``None`` (use rollouts instead) when the game gives no ``initial_states`` and no
    ``start_state`` is given, or as soon as more than ``max_paths`` episodes would be listed.
    The default cap, :data:`MAX_PATHS` = 50,000, lies far above every built-in game at its
    default options (21 offers x 2 answers in the ultimatum, 16 episodes in the marshmallow
    test, 11 in double-or-nothing, 64 in procrastination) and above their largest grids that
    stay enumerable (the finest ultimatum grid: 2,002 episodes; a 240-minute marshmallow wait:
    241; 20 odds x 30 flips: 1,220), and it keeps an enumeration about as cheap as the default
    2,000 rollouts it replaces: listing and summarising the 27,896 episodes of a 21-day,
    5-session procrastination game under a coin-toss policy took 0.8 s, as did 2,000 rollouts
    of it and the same summary (2 shared cores), so 50,000 costs at most about twice the
    rollouts and buys statistics without Monte Carlo error. Games whose episodes multiply
    faster (30 days and 10 sessions: 53 million episodes) exceed it and are rolled out.

    Raises :class:`UnknownStateError` when a state reached with positive probability has no
    distribution (NaN, or probabilities that do not sum to a positive number), as
    :func:`rollout` does when it reaches one.
    """
    persona = experiment.persona(persona) if isinstance(persona, str) else persona
    found = _starts(experiment, persona, start_state)
    if found is None:
        return None
    start_probs, starts = found
    # A path is a linked list of (parent, state, action, reward) nodes, shared by the episodes
    # that branch from it: an episode is only copied out once the count is known to fit. The
    # branches of a state (action, outcome, probability) are worked out once per state.
    branches_of: dict[Any, list[tuple[float, int, Any]]] = {}
    ends: list[tuple[float, _Node]] = []
    stack: list[tuple[float, Any, int, _Node | None]] = []
    for q, (_, first) in reversed(list(zip(start_probs, starts, strict=True))):
        if q > 0:
            stack.append((float(q), first, 0, None))
    while stack:
        weight, state, steps, path = stack.pop()
        branches = branches_of.get(state)
        if branches is None:
            branches = branches_of[state] = _branches(experiment, policy, persona, state)
        children: list[tuple[float, Any, int, _Node | None]] = []
        for prob, action, step in branches:
            node: _Node = (path, state, action, float(step.reward))
            if step.terminated or steps + 1 >= max_steps:
                ends.append((weight * prob, node))
                if len(ends) > max_paths:
                    return None
            else:
                nxt = step.next_state if step.next_state is not None else state
                children.append((weight * prob, nxt, steps + 1, node))
        stack.extend(reversed(children))
    return [_trajectory(persona.name, w, node) for w, node in ends]


def _starts(experiment: Experiment, persona: Persona, start_state: Any = None
            ) -> tuple[np.ndarray, list[tuple[float, Any]]] | None:
    """First states and their normalised probabilities; ``None`` when the game gives none.

    ``start_state`` when given, else the game's ``initial_states``.
    """
    if start_state is not None:
        starts: list[tuple[float, Any]] = [(1.0, start_state)]
    else:
        given = experiment.initial_states(persona)
        if given is None:
            return None
        starts = list(given)
    probs = _distribution(np.array([p for p, _ in starts], dtype=float))
    if probs is None:
        raise ValueError(f"{experiment.name}: initial_states() probabilities "
                         f"{[p for p, _ in starts]} are not a distribution")
    return probs, starts


def _branches(experiment: Experiment, policy: Policy, persona: Persona,
              state: Any) -> list[tuple[float, int, Any]]:
    """(P(action) x P(outcome), action, step) of every branch of ``state`` with P > 0."""
    probs = _distribution(np.asarray(policy.action_probs(state, persona), dtype=float))
    if probs is None:
        raise UnknownStateError(state, persona.name)
    out: list[tuple[float, int, Any]] = []
    for action in np.flatnonzero(probs > 0):
        outcomes = experiment.transitions(state, int(action), persona)
        chances = _distribution(np.array([q for q, _ in outcomes], dtype=float))
        if chances is None:
            raise ValueError(f"{experiment.name}: transitions({state!r}, {action}) "
                             "probabilities are not a distribution")
        out.extend((float(probs[action]) * float(chance), int(action), step)
                   for chance, (_, step) in zip(chances, outcomes, strict=True) if chance > 0)
    return out


def _trajectory(persona: str, weight: float, node: _Node | None) -> Trajectory:
    nodes = []
    while node is not None:
        nodes.append(node)
        node = node[0]
    _, states, actions, rewards = zip(*reversed(nodes), strict=True)
    return Trajectory(persona, list(states), list(actions), list(rewards), weight)
