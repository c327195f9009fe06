"""Imitation losses between the policy's action distribution and a target distribution.

Both take the network's log-probabilities ``log_p`` (``(n, n_actions)``), the target
distributions ``y`` and per-sample weights ``w``, and return the weighted mean over samples
``sum_i w_i * l_i / sum_i w_i`` of a per-sample loss ``l_i``. The mean runs over the last axis of
``w``: with ``log_p`` of shape ``(r, n, n_actions)`` and ``w`` of shape ``(r, n)`` they return one
loss per replica, shape ``(r,)`` (the trainer fits several seeds at once this way).

``paper``
    Squared error on softmax outputs (the paper's objective): ``l_i = sum_a (p_ia - y_ia)^2``
    between the predicted and the target distribution. It is bounded (at most 2) and treats
    every probability gap alike, but its gradient carries a factor ``p (1 - p)``: when the
    softmax saturates on the wrong action the gradient vanishes and training can sit on a
    plateau far from the target (see ``docs/performance.md``, "Imitation losses").

``kl``
    Soft-label cross-entropy, reported as ``KL(y || p) = sum_a y_ia (log y_ia - log p_ia)``
    (the cross-entropy minus the target's entropy, which does not depend on the network). It is
    zero exactly when ``p == y``, is the maximum-likelihood objective when the targets are
    empirical frequencies, and penalises putting near-zero probability on an observed action.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..errors import UnknownNameError

__all__ = ["LossFn", "paper", "kl", "LOSSES", "get_loss"]

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _weighted_mean(per_sample: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return (per_sample * w).sum(dim=-1) / w.sum(dim=-1)


def paper(log_p: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Squared error on softmax outputs: weighted mean of ``sum_a (p_a - y_a)^2``."""
    return _weighted_mean(((log_p.exp() - y) ** 2).sum(dim=-1), w)


def kl(log_p: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted mean over samples of KL(target || policy); ``0 log 0`` counts as 0."""
    return _weighted_mean((torch.xlogy(y, y) - y * log_p).sum(dim=-1), w)


LOSSES: dict[str, LossFn] = {"paper": paper, "kl": kl}


def get_loss(name: str) -> LossFn:
    """Look a loss up by name, with a did-you-mean on a typo."""
    try:
        return LOSSES[name]
    except KeyError:
        raise UnknownNameError("loss", name, LOSSES) from None
