"""Several small policy networks trained as one batch of stacked weight matrices.

Layer ``k`` of ``r`` networks is a weight tensor ``(r, in, out)`` and a bias ``(r, 1, out)``; one
:func:`torch.baddbmm` per layer runs every network on the same inputs. Each replica's loss
depends only on its own weights and Adam is element-wise, so summing the replicas' losses and
taking one optimiser step is the same optimisation as separate runs, at a fraction of the
per-call overhead that dominates networks this small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import cast

import torch
from torch import nn

from .dataset import TrainingTensors
from .losses import LossFn
from .network import PolicyNetwork

__all__ = ["Best", "stack", "forward", "unstack", "clone", "train_replicas"]


def _linears(network: PolicyNetwork) -> list[nn.Linear]:
    return [cast(nn.Linear, network.layers[i]) for i in (0, 2, 4)]


def stack(networks: list[PolicyNetwork]) -> list[torch.Tensor]:
    """Weights ``(r, in, out)`` and biases ``(r, 1, out)`` of each layer, as leaf tensors."""
    out = []
    for layer in range(3):
        linears = [_linears(n)[layer] for n in networks]
        out.append(torch.stack([m.weight.detach().T for m in linears]).contiguous())
        out.append(torch.stack([m.bias.detach()[None] for m in linears]))
    return [p.requires_grad_() for p in out]


def forward(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Log P(action | x) of every replica, shape ``(r, n, n_actions)``, for inputs ``(n, in)``."""
    h = x
    for i in range(0, len(params), 2):
        h = torch.baddbmm(params[i + 1], h.expand(params[i].shape[0], *h.shape[-2:]),
                          params[i])
        if i + 2 < len(params):
            h = torch.relu(h)
    return torch.log_softmax(h, dim=-1)


def unstack(params: list[torch.Tensor], r: int, network: PolicyNetwork) -> PolicyNetwork:
    """Copy replica ``r`` of ``params`` into ``network`` (in eval mode)."""
    with torch.no_grad():
        for j, linear in enumerate(_linears(network)):
            linear.weight.copy_(params[2 * j][r].T)
            linear.bias.copy_(params[2 * j + 1][r, 0])
    return network.eval()


def clone(network: PolicyNetwork) -> PolicyNetwork:
    """A new network with the same shape and weights."""
    first, *_, last = _linears(network)
    twin = PolicyNetwork(first.in_features, last.out_features, network.hidden)
    twin.load_state_dict(network.state_dict())
    return twin


@dataclass
class Best:
    """Per seed: early-stopping state and the weights of its best epoch so far.

    Attributes:
        params: Stacked weights of the kept replicas at their best epochs.
        loss: Lowest stopping loss seen per seed.
        epoch: Updates behind the weights in ``params``, per seed.
        stopped_at: Epochs run when each seed stopped (``max_epochs`` while it still runs).
    """

    params: list[torch.Tensor]
    loss: list[float]
    epoch: list[int]
    stopped_at: list[int]
    max_epochs: int
    mark: list[float] = field(default_factory=list)
    since: list[int] = field(default_factory=list)

    def running(self, s: int) -> bool:
        """Whether seed ``s`` has not stopped yet."""
        return self.stopped_at[s] >= self.max_epochs

    def observe(self, epoch: int, stop: list[float], *, patience: int,
                min_delta: float) -> list[bool]:
        """Record one epoch's stopping losses; which seeds reached a new best."""
        improved = [False] * len(stop)
        for s, value in enumerate(stop):
            if not self.running(s):
                continue
            if value < self.loss[s]:
                self.loss[s], self.epoch[s], improved[s] = value, epoch, True
            if value < self.mark[s] - min_delta:
                self.mark[s], self.since[s] = value, 0
            else:
                self.since[s] += 1
                if self.since[s] >= patience:
                    self.stopped_at[s] = epoch + 1
        return improved


def train_replicas(params: list[torch.Tensor], loss_fn: LossFn, data: TrainingTensors, *,
                   weights: torch.Tensor, held: torch.Tensor | None, lr: float,
                   max_epochs: int, patience: int,
                   min_delta: float) -> tuple[Best, list[list[float]]]:
    """Full-batch Adam on every replica; per seed, early stopping and a snapshot of its best.

    ``weights`` (``(r, n)``) gives each replica its training rows. With ``held`` (the
    validation mask) there are ``2 n`` replicas, probes then refits: seed ``s`` stops on probe
    ``s``'s loss on the held-out rows and keeps refit ``n + s``; without it, ``n`` replicas stop
    on their own training loss. Returns the snapshots and, per epoch, the kept replicas'
    training losses.
    """
    n = weights.shape[0] // 2 if held is not None else weights.shape[0]
    out = slice(n, 2 * n) if held is not None else slice(0, n)
    val_w = torch.stack([data.w * held] * n) if held is not None else None
    best = Best([p.detach()[out].clone() for p in params], [math.inf] * n, [0] * n,
                [max_epochs] * n, max_epochs, [math.inf] * n, [0] * n)
    optimiser = torch.optim.Adam(params, lr=lr, foreach=True)  # one kernel per op, not per tensor
    history: list[list[float]] = []
    for epoch in range(max_epochs):
        optimiser.zero_grad()
        log_p = forward(params, data.x)
        losses = loss_fn(log_p, data.y, weights)
        with torch.no_grad():
            stop = losses[:n] if val_w is None else loss_fn(log_p[:n], data.y, val_w)
            values = torch.cat([losses[out], stop]).tolist()  # one read per epoch
        history.append(values[:n])
        improved = best.observe(epoch, values[n:], patience=patience, min_delta=min_delta)
        if any(improved):
            mask = torch.tensor(improved).view(-1, 1, 1)
            best.params = [torch.where(mask, p.detach()[out], b)
                           for p, b in zip(params, best.params, strict=True)]
        if not any(best.running(s) for s in range(n)):
            break
        losses.sum().backward()
        optimiser.step()
    return best, history
