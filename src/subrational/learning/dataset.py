"""Imitation targets and the tensors the learner trains on.

A :class:`Target` is one row of supervision: the action distribution a policy should reproduce
for one persona in one state (from LLM demonstrations, a scripted demonstrator or a baseline).
:func:`build_tensors` encodes a list of targets with :meth:`Experiment.encode` into float32
tensors ``X`` (inputs), ``Y`` (target distributions) and ``W`` (sample weights).

:func:`validation_mask` picks the cells the trainer holds out to decide when to stop: within
each persona, a seeded ``share`` of its persona x state cells (rounded, and only for personas
with at least :data:`MIN_CELLS_FOR_VALIDATION` weighted cells, so every persona keeps most of
its states in training). Cells, not rows, are the unit because a target already averages the
wordings and option orders of its cell: holding out a wording would leave its cell in training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError
from ..experiments.core import Experiment, Persona
from ..seeding import derived_rng

__all__ = ["Target", "TrainingTensors", "build_tensors", "validation_mask",
           "MIN_CELLS_FOR_VALIDATION"]

MIN_CELLS_FOR_VALIDATION = 5
"""A persona with fewer weighted cells than this is never held out from (a design choice: with
four cells or fewer, one held-out cell would be a quarter of what the network sees of it)."""


@dataclass(frozen=True)
class Target:
    """An action distribution to imitate for one persona in one state.

    Attributes:
        persona: Who acts; may be a persona the experiment does not list (held-out values).
        state: The experiment's state object.
        probs: Target P(action), shape ``(n_actions,)``; non-negative, normalised on construction.
        weight: Relative weight of this row in the loss (e.g. number of samples behind it).
    """

    persona: Persona
    state: Any
    probs: np.ndarray
    weight: float = 1.0

    def __post_init__(self) -> None:
        probs = np.asarray(self.probs, dtype=np.float64)
        if probs.ndim != 1 or probs.size == 0:
            raise ConfigError(f"Target.probs must be a 1-D array of action probabilities; "
                              f"got shape {probs.shape}")
        total = probs.sum()
        if not np.all(np.isfinite(probs)) or np.any(probs < 0) or total <= 0:
            raise ConfigError(f"Target.probs must be finite, non-negative and not all zero; "
                              f"got {probs.tolist()}")
        if not (np.isfinite(self.weight) and self.weight >= 0):
            raise ConfigError(f"Target.weight must be a finite number >= 0; got {self.weight!r}")
        probs = probs / total
        probs.setflags(write=False)
        object.__setattr__(self, "probs", probs)
        object.__setattr__(self, "weight", float(self.weight))


@dataclass(frozen=True)
class TrainingTensors:
    """Float32 tensors for full-batch training.

    Attributes:
        x: Encoded inputs, shape ``(n, n_features)``.
        y: Target action distributions, shape ``(n, n_actions)``.
        w: Sample weights, shape ``(n,)``.
    """

    x: torch.Tensor
    y: torch.Tensor
    w: torch.Tensor


def build_tensors(experiment: Experiment, targets: Sequence[Target]) -> TrainingTensors:
    """Encode ``targets`` for ``experiment`` into float32 tensors ``X``, ``Y`` and ``W``."""
    if not targets:
        raise ConfigError("no training targets; collect demonstrations first")
    n_actions = len(experiment.actions)
    for t in targets:
        if t.probs.shape != (n_actions,):
            raise ConfigError(f"a target for {experiment.id} needs {n_actions} action "
                              f"probabilities {list(experiment.actions)}; got {t.probs.tolist()}")
    if sum(t.weight for t in targets) <= 0:
        raise ConfigError("all target weights are zero; give at least one a positive weight")
    x = np.stack([experiment.encode(t.state, t.persona) for t in targets]).astype(np.float32)
    y = np.stack([t.probs for t in targets]).astype(np.float32)
    w = np.asarray([t.weight for t in targets], dtype=np.float32)
    return TrainingTensors(torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(w))


def validation_mask(targets: Sequence[Target], *, share: float, seed: int) -> np.ndarray:
    """Which targets to hold out for early stopping: a boolean array, ``True`` = validation.

    Per persona, ``round(share * n)`` of its ``n`` weighted cells, drawn with a generator
    derived from ``seed`` (so every training seed of one call sees the same split). All
    ``False`` when ``share`` is 0 or no persona has enough cells.
    """
    mask = np.zeros(len(targets), dtype=bool)
    if share <= 0:
        return mask
    rng = derived_rng(seed, "imitation-validation")
    rows: dict[str, list[int]] = {}
    for i, t in enumerate(targets):
        if t.weight > 0:
            rows.setdefault(t.persona.name, []).append(i)
    for name in sorted(rows):
        cells = rows[name]
        if len(cells) >= MIN_CELLS_FOR_VALIDATION:
            held = rng.choice(len(cells), size=int(round(share * len(cells))), replace=False)
            mask[[cells[j] for j in held]] = True
    return mask
