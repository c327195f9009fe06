"""Behaviour cloning of action distributions: full-batch Adam with early stopping.

Training is deterministic on CPU: the weights are initialised under ``torch.manual_seed(seed)``
inside :func:`torch.random.fork_rng` (so the caller's global torch RNG is left untouched), the
batch is the whole data set (no shuffling), and the intra-op thread count is pinned to one for
the duration (tiny matrices gain nothing from threads, and a fixed count keeps floating-point
reductions identical from call to call). Early stopping watches the training loss: it stops after
``patience`` epochs without a decrease of at least ``min_delta`` and returns the weights with the
lowest loss seen.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError
from ..experiments.core import Experiment, Persona
from .dataset import Target, build_tensors
from .losses import get_loss
from .network import PolicyNetwork
from .policy import LearnedPolicy

__all__ = ["TrainConfig", "TrainResult", "train_policy"]

_MAX_HISTORY = 1000


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of :func:`train_policy`.

    Attributes:
        loss: Name in :data:`subrational.learning.LOSSES` (``"paper"`` or ``"kl"``).
        hidden: Units in each of the two hidden layers.
        lr: Adam learning rate.
        max_epochs: Upper bound on full-batch updates.
        patience: Stop after this many epochs without an improvement of at least ``min_delta``.
        min_delta: Smallest decrease of the training loss that counts as an improvement.
        seed: Seed of the weight initialisation.
    """

    loss: str = "paper"
    hidden: int = 64
    lr: float = 1e-2
    max_epochs: int = 3000
    patience: int = 200
    min_delta: float = 1e-7
    seed: int = 0

    def __post_init__(self) -> None:
        get_loss(self.loss)
        for name in ("hidden", "max_epochs", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"TrainConfig.{name} must be an integer >= 1; got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"TrainConfig.seed must be an integer >= 0; got {self.seed!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"TrainConfig.lr must be a finite number > 0; got {self.lr!r}")
        if not (isinstance(self.min_delta, (int, float)) and math.isfinite(self.min_delta)
                and self.min_delta >= 0):
            raise ConfigError(f"TrainConfig.min_delta must be a finite number >= 0; "
                              f"got {self.min_delta!r}")


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train_policy`.

    Attributes:
        policy: The trained policy, holding the best weights seen.
        epochs: Number of full-batch updates run.
        final_loss: Training loss of the returned weights.
        loss_history: Training loss per epoch (every k-th epoch when there are more than 1000).
        fidelity: Weighted mean total-variation distance between the policy and the targets on
            the training set (0 = exact imitation, 1 = disjoint supports).
    """

    policy: LearnedPolicy
    epochs: int
    final_loss: float
    loss_history: list[float]
    fidelity: float


@contextmanager
def _single_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train_policy(experiment: Experiment, targets: Sequence[Target], *,
                 config: TrainConfig | None = None) -> TrainResult:
    """Fit a :class:`LearnedPolicy` that imitates ``targets``.

    Personas in ``targets`` that the experiment does not list are stored with the policy, so
    they stay usable by name after saving and loading.
    """
    config = config or TrainConfig()
    data = build_tensors(experiment, targets)
    loss_fn = get_loss(config.loss)
    with _single_thread(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        network = PolicyNetwork(data.x.shape[1], data.y.shape[1], config.hidden)
        optimiser = torch.optim.Adam(network.parameters(), lr=config.lr)
        history: list[float] = []
        best_loss, best_state = math.inf, _copy_state(network)
        mark, since_mark = math.inf, 0  # last loss that improved by min_delta, epochs since
        for _ in range(config.max_epochs):
            optimiser.zero_grad()
            loss = loss_fn(network(data.x), data.y, data.w)
            value = loss.item()
            history.append(value)
            if value < best_loss:
                best_loss, best_state = value, _copy_state(network)
            if value < mark - config.min_delta:
                mark, since_mark = value, 0
            else:
                since_mark += 1
                if since_mark >= config.patience:
                    break
            loss.backward()
            optimiser.step()
        network.load_state_dict(best_state)
        network.eval()
        with torch.no_grad():
            probs = network(data.x).exp()
            tv = 0.5 * (probs - data.y).abs().sum(dim=-1)
            fidelity = float((tv * data.w).sum() / data.w.sum())
    metrics = {"epochs": len(history), "final_loss": best_loss, "fidelity": fidelity,
               "n_targets": len(targets)}
    policy = LearnedPolicy(experiment, network, personas=_extra_personas(experiment, targets),
                           train_info={"config": dataclasses.asdict(config), **metrics})
    step = max(1, math.ceil(len(history) / _MAX_HISTORY))
    return TrainResult(policy=policy, epochs=len(history), final_loss=best_loss,
                       loss_history=history[::step], fidelity=fidelity)


def _copy_state(network: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in network.state_dict().items()}


def _extra_personas(experiment: Experiment, targets: Sequence[Target]) -> dict[str, Persona]:
    known = experiment.personas
    return {t.persona.name: t.persona for t in targets
            if known.get(t.persona.name) != t.persona}


def mean_tv(policy: LearnedPolicy, targets: Sequence[Target]) -> float:
    """Unweighted mean total-variation distance between ``policy`` and ``targets``."""
    probs = policy.action_probs_batch([t.state for t in targets], [t.persona for t in targets])
    return float(np.mean(0.5 * np.abs(probs - np.stack([t.probs for t in targets])).sum(axis=1)))
