"""Imitation learning: fit a policy network to persona-conditioned action distributions.

``train_policy(experiment, targets, config=TrainConfig())`` returns a :class:`TrainResult`
whose ``policy`` answers ``action_probs(state, persona)``; ``policy.save(path)`` and
:func:`load_policy` round-trip it through a versioned file.
"""

from .dataset import Target
from .losses import LOSSES
from .policy import LearnedPolicy, load_policy
from .train import TrainConfig, TrainResult, mean_tv, train_policy

__all__ = [
    "Target",
    "TrainConfig",
    "TrainResult",
    "train_policy",
    "mean_tv",
    "LearnedPolicy",
    "load_policy",
    "LOSSES",
]
