"""The policy network: the paper's 3-layer MLP with a softmax over actions."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["PolicyNetwork"]


class PolicyNetwork(nn.Module):
    """MLP ``in -> hidden -> hidden -> n_actions`` with ReLU; outputs log-probabilities.

    Args:
        n_inputs: Width of :meth:`Experiment.encode`.
        n_actions: Number of actions.
        hidden: Units in each of the two hidden layers (64 in the paper).
    """

    def __init__(self, n_inputs: int, n_actions: int, hidden: int = 64) -> None:
        super().__init__()
        self.hidden = hidden
        self.layers = nn.Sequential(
            nn.Linear(n_inputs, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, n_actions),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log P(action | x), shape ``(batch, n_actions)``."""
        return torch.log_softmax(self.layers(x), dim=-1)
