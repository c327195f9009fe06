"""Behaviour cloning of action distributions: several seeds, validation early stopping, a guard.

One call of :func:`train_policy` fits ``seeds`` networks and keeps one:

1. **Validation split.** :func:`~subrational.learning.dataset.validation_mask` holds out a
   seeded ``validation`` share of each persona's persona x state cells (the same split for
   every seed). For each seed two networks start from the same initial weights: a *probe*
   trained on the remaining cells, whose loss on the held-out cells decides when to stop
   (after ``patience`` epochs without a decrease of at least ``min_delta``), and a *refit*
   trained on every cell in lockstep; the refit's weights at the probe's best validation epoch
   are the seed's result. So no cell is left out of the policy, and the number of epochs is
   chosen on cells the probe never saw. With no cell to hold out (``validation=0``, or every
   persona has fewer than five cells) the rule falls back to the training loss: one network
   per seed, stopped on its own loss, keeping its lowest-loss weights.
2. **Seeds.** The first seed is ``seed`` itself (so ``seeds=1, validation=0`` is the single
   network of earlier versions); the others are derived from it with
   :func:`~subrational.seeding.derive_seed`. The kept seed is the one with the lowest
   validation loss among those that pass the guard below.
3. **Plateau guard.** A seed passes when its largest total-variation distance to a target, on
   any persona and state, is at most ``max_tv`` (0.1, a design choice: a tenth of the
   probability mass misplaced in one cell is visible in every behaviour statistic). A network
   can stop on a plateau where the softmax has saturated on the wrong action (the squared-error
   loss has a vanishing gradient there) while the mean distance still looks small; when no
   seed passes, ``retries`` more rounds run with new seeds and twice the patience (each round
   doubles it; ``max_epochs`` stays the bound), and if none passes then either,
   :attr:`TrainResult.warnings` says which persona failed.

All seeds of a round train at once, as one batch of stacked weight matrices (a tiny MLP is
dominated by per-call overhead, so a batch of six costs little more than one network). Adam is
element-wise and each replica's loss depends only on its own weights, so this is the same
optimisation as separate runs. Training is deterministic on CPU: the weights are initialised
under ``torch.manual_seed`` inside :func:`torch.random.fork_rng` (the caller's global torch
RNG is left untouched), the batch is the whole data set (no shuffling), and the intra-op thread
count is pinned to one for the duration (tiny matrices gain nothing from threads, and a fixed
count keeps floating-point reductions identical from call to call).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError
from ..experiments.core import Experiment, Persona
from ..seeding import derive_seed
from . import memo
from .dataset import Target, TrainingTensors, build_tensors, validation_mask
from .losses import get_loss
from .network import PolicyNetwork
from .policy import LearnedPolicy
from .replicas import Best, clone, stack, train_replicas, unstack

__all__ = ["TrainConfig", "TrainResult", "SeedRun", "PersonaFit", "train_policy", "mean_tv"]

_MAX_HISTORY = 1000
VALIDATION_RULE = ("a seeded share of each persona's cells held out; stopped on their loss; the "
                   "weights of a twin trained on every cell, at that epoch")
NO_VALIDATION_RULE = "too few cells to hold out: stopped on the training loss"


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of :func:`train_policy`.

    Attributes:
        loss: Name in :data:`subrational.learning.LOSSES` (``"kl"`` or ``"paper"``).
        hidden: Units in each of the two hidden layers.
        lr: Adam learning rate.
        max_epochs: Upper bound on full-batch updates.
        patience: Stop after this many epochs without an improvement of at least ``min_delta``.
        min_delta: Smallest decrease of the stopping loss that counts as an improvement.
        seed: Seed of the first weight initialisation and of the validation split.
        seeds: Initialisations tried per round; the best by validation loss is kept.
        validation: Share of each persona's cells held out to decide when to stop (0 = stop
            on the training loss).
        max_tv: Plateau guard: the largest total-variation distance to any target that a kept
            network may have.
        retries: Further rounds of ``seeds`` new seeds, each with twice the patience of the
            last, while no seed passes the guard.
    """

    loss: str = "kl"
    hidden: int = 64
    lr: float = 1e-2
    max_epochs: int = 3000
    patience: int = 200
    min_delta: float = 1e-7
    seed: int = 0
    seeds: int = 3
    validation: float = 0.2
    max_tv: float = 0.1
    retries: int = 1

    def __post_init__(self) -> None:
        get_loss(self.loss)
        for name in ("hidden", "max_epochs", "patience", "seeds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"TrainConfig.{name} must be an integer >= 1; got {value!r}")
        for name in ("seed", "retries"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"TrainConfig.{name} must be an integer >= 0; got {value!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"TrainConfig.lr must be a finite number > 0; got {self.lr!r}")
        if not (isinstance(self.min_delta, (int, float)) and math.isfinite(self.min_delta)
                and self.min_delta >= 0):
            raise ConfigError(f"TrainConfig.min_delta must be a finite number >= 0; "
                              f"got {self.min_delta!r}")
        if not (isinstance(self.validation, (int, float)) and 0 <= self.validation < 1):
            raise ConfigError(f"TrainConfig.validation must be a share in [0, 1); "
                              f"got {self.validation!r}")
        if not (isinstance(self.max_tv, (int, float)) and 0 < self.max_tv <= 1):
            raise ConfigError(f"TrainConfig.max_tv must be in (0, 1]; got {self.max_tv!r}")


@dataclass(frozen=True)
class PersonaFit:
    """How closely a policy imitates one persona's targets (total-variation distances).

    Attributes:
        max_tv: Largest distance over the persona's weighted cells.
        mean_tv: Weight-averaged distance over them.
        n_cells: Number of weighted cells.
    """

    max_tv: float
    mean_tv: float
    n_cells: int


@dataclass(frozen=True)
class SeedRun:
    """One initialisation that :func:`train_policy` tried.

    Attributes:
        seed: The torch seed of its initial weights.
        round: 0 for the first round of seeds, 1 and up for the guard's retries.
        epochs: Epochs run before it stopped.
        best_epoch: Updates behind its weights (the epoch of its lowest stopping loss).
        val_loss: Loss of its probe on the held-out cells at ``best_epoch`` (``None`` when
            stopping used the training loss).
        final_loss: Loss of its weights on every target.
        max_tv: Largest distance to a target, over every persona and state.
        mean_tv: Weighted mean distance to the targets.
    """

    seed: int
    round: int
    epochs: int
    best_epoch: int
    val_loss: float | None
    final_loss: float
    max_tv: float
    mean_tv: float


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train_policy`.

    Attributes:
        policy: The trained policy: the kept seed's weights.
        epochs: Epochs the kept seed ran before it stopped.
        final_loss: Training loss of the returned weights on every target.
        loss_history: Training loss of the kept seed per epoch, on every target (every k-th
            epoch when there are more than 1000).
        fidelity: Weighted mean total-variation distance between the policy and the targets on
            the training set (0 = exact imitation, 1 = disjoint supports).
        best_epoch: Updates behind the returned weights.
        val_loss: The kept seed's validation loss (``None`` without a validation split).
        n_validation: Cells held out to decide when to stop (0: stopped on the training loss).
        per_persona: Distances per persona, by name.
        runs: Every seed tried, in order.
        warnings: One line per persona whose largest distance exceeds ``max_tv`` after every
            retry; empty when imitation succeeded.
    """

    policy: LearnedPolicy
    epochs: int
    final_loss: float
    loss_history: list[float]
    fidelity: float
    best_epoch: int = 0
    val_loss: float | None = None
    n_validation: int = 0
    per_persona: dict[str, PersonaFit] = dataclasses.field(default_factory=dict)
    runs: tuple[SeedRun, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def max_tv(self) -> float:
        """Largest distance to a target over every persona (the plateau guard's statistic)."""
        return max((f.max_tv for f in self.per_persona.values()), default=0.0)

    def summary(self) -> dict[str, Any]:
        """Fidelity, per persona distances, seeds and the stopping rule, for ``summary.json``."""
        bound = self.policy.train_info["config"]["max_tv"]
        return {
            "fidelity_tv": self.fidelity, "fidelity_max_tv": self.max_tv,
            "per_persona": {name: dataclasses.asdict(f) for name, f in self.per_persona.items()},
            "best_epoch": self.best_epoch,
            "validation": {"cells": self.n_validation, "loss": self.val_loss,
                           "rule": VALIDATION_RULE if self.n_validation else NO_VALIDATION_RULE},
            "seeds": {"tried": [r.seed for r in self.runs],
                      "kept": self.policy.train_info["seed_used"],
                      "max_tv_min": min(r.max_tv for r in self.runs),
                      "max_tv_max": max(r.max_tv for r in self.runs)},
            "plateau_bound": bound, "warnings": list(self.warnings)}


@dataclass(eq=False)
class _Fitted:
    """A seed's result before one is chosen."""

    run: SeedRun
    network: PolicyNetwork
    history: list[float]
    tv: np.ndarray


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
    """Fit a :class:`LearnedPolicy` that imitates ``targets`` (see the module docstring).

    Personas in ``targets`` that the experiment does not list are stored with the policy, so
    they stay usable by name after saving and loading.
    """
    config = config or TrainConfig()
    data = build_tensors(experiment, targets)
    held = torch.from_numpy(validation_mask(targets, share=config.validation, seed=config.seed))
    fitted: list[_Fitted] = []
    with _single_thread(), torch.random.fork_rng(devices=[]):
        for round_ in range(config.retries + 1):
            seeds = [_init_seed(config.seed, k)
                     for k in range(round_ * config.seeds, (round_ + 1) * config.seeds)]
            fitted += _fit_round(data, held, seeds, config, round_=round_,
                                 patience=config.patience * 2 ** round_)
            if any(f.run.max_tv <= config.max_tv for f in fitted):
                break
    return _result(experiment, targets, data, fitted, config, n_validation=int(held.sum()))


def _init_seed(seed: int, k: int) -> int:
    return seed if k == 0 else derive_seed(seed, "imitation-init", k, bits=63)


def _result(experiment: Experiment, targets: Sequence[Target], data: TrainingTensors,
            fitted: list[_Fitted], config: TrainConfig, *, n_validation: int) -> TrainResult:
    passing = [f for f in fitted if f.run.max_tv <= config.max_tv] or fitted
    best = min(passing, key=lambda f: _criterion(f.run))  # min keeps the first of a tie
    per_persona = _per_persona(targets, best.tv)
    warnings = tuple(
        f"imitation failed for persona {name}: max TV {fit.max_tv:.3f} > {config.max_tv} "
        f"(the bound) with the best of {len(fitted)} seeds; its policy is not a faithful copy"
        for name, fit in per_persona.items() if fit.max_tv > config.max_tv)
    run = best.run
    metrics = {"epochs": run.epochs, "final_loss": run.final_loss, "fidelity": run.mean_tv,
               "n_targets": len(targets), "best_epoch": run.best_epoch, "seed_used": run.seed,
               "val_loss": run.val_loss, "max_tv": run.max_tv}
    policy = LearnedPolicy(experiment, best.network,
                           personas=_extra_personas(experiment, targets),
                           train_info={"config": dataclasses.asdict(config), **metrics})
    step = max(1, math.ceil(len(best.history) / _MAX_HISTORY))
    return TrainResult(policy=policy, epochs=run.epochs, final_loss=run.final_loss,
                       loss_history=best.history[::step], fidelity=run.mean_tv,
                       best_epoch=run.best_epoch, val_loss=run.val_loss,
                       n_validation=n_validation, per_persona=per_persona,
                       runs=tuple(f.run for f in fitted), warnings=warnings)


def _criterion(run: SeedRun) -> float:
    return run.val_loss if run.val_loss is not None else run.final_loss


# -- one round of seeds ----------------------------------------------------------------------

def _fit_round(data: TrainingTensors, held: torch.Tensor, seeds: list[int], config: TrainConfig,
               *, round_: int, patience: int) -> list[_Fitted]:
    """Train one network per seed (and a probe per seed when ``held`` has cells).

    A round trained before with the same inputs is read back from disk (:mod:`.memo`).
    """
    key = memo.round_key([data.x, data.y, data.w, held], seeds=seeds, config=config,
                         round_=round_, patience=patience)
    stored = memo.load_round(key)
    if stored is not None:
        return [_restored(data, config, f) for f in stored]
    fitted = _train_round(data, held, seeds, config, round_=round_, patience=patience)
    memo.save_round(key, [{"run": dataclasses.asdict(f.run), "state": f.network.state_dict(),
                           "history": f.history, "tv": torch.from_numpy(f.tv)} for f in fitted])
    return fitted


def _restored(data: TrainingTensors, config: TrainConfig, stored: dict[str, Any]) -> _Fitted:
    network = PolicyNetwork(data.x.shape[1], data.y.shape[1], config.hidden)
    network.load_state_dict(stored["state"])
    return _Fitted(SeedRun(**stored["run"]), network.eval(), list(stored["history"]),
                   stored["tv"].numpy())


def _train_round(data: TrainingTensors, held: torch.Tensor, seeds: list[int],
                 config: TrainConfig, *, round_: int, patience: int) -> list[_Fitted]:
    loss_fn = get_loss(config.loss)
    networks = []
    for s in seeds:
        torch.manual_seed(s)
        networks.append(PolicyNetwork(data.x.shape[1], data.y.shape[1], config.hidden))
    probing = bool(held.any()) and bool((data.w * ~held).sum() > 0)
    weights = torch.stack([data.w] * len(seeds))  # the refits (or the only networks)
    if probing:  # probes first, refits after: replicas s and n + s share seed s
        weights = torch.cat([torch.stack([data.w * ~held] * len(seeds)), weights])
        networks = networks + [clone(m) for m in networks]
    best, history = train_replicas(stack(networks), loss_fn, data, weights=weights,
                                   held=held if probing else None, lr=config.lr,
                                   max_epochs=config.max_epochs, patience=patience,
                                   min_delta=config.min_delta)
    return [_fitted(data, best, history, r, seeds[r], round_, config, probing)
            for r in range(len(seeds))]


def _fitted(data: TrainingTensors, best: Best, history: list[list[float]], r: int, seed: int,
            round_: int, config: TrainConfig, probing: bool) -> _Fitted:
    network = unstack(best.params, r, PolicyNetwork(data.x.shape[1], data.y.shape[1],
                                                     config.hidden))
    epochs = min(best.stopped_at[r], len(history))
    with torch.no_grad():
        log_p = network(data.x)
        tv = (0.5 * (log_p.exp() - data.y).abs().sum(dim=-1)).numpy().astype(np.float64)
    w = data.w.numpy().astype(np.float64)
    run = SeedRun(seed=seed, round=round_, epochs=epochs, best_epoch=best.epoch[r],
                  val_loss=best.loss[r] if probing else None,
                  final_loss=history[best.epoch[r]][r],  # the refit's loss on every target
                  max_tv=float(tv[w > 0].max()), mean_tv=float((tv * w).sum() / w.sum()))
    return _Fitted(run, network, [h[r] for h in history[:epochs]], tv)


def _per_persona(targets: Sequence[Target], tv: np.ndarray) -> dict[str, PersonaFit]:
    rows: dict[str, list[int]] = {}
    for i, t in enumerate(targets):
        if t.weight > 0:
            rows.setdefault(t.persona.name, []).append(i)
    out = {}
    for name, idx in rows.items():
        w = np.asarray([targets[i].weight for i in idx])
        out[name] = PersonaFit(max_tv=float(tv[idx].max()),
                               mean_tv=float((tv[idx] * w).sum() / w.sum()), n_cells=len(idx))
    return out


def _extra_personas(experiment: Experiment, targets: Sequence[Target]) -> dict[str, Persona]:
    known = experiment.personas
    return {t.persona.name: t.persona for t in targets
            if known.get(t.persona.name) != t.persona}


def mean_tv(policy: LearnedPolicy, targets: Sequence[Target]) -> float:
    """Unweighted mean total-variation distance between ``policy`` and ``targets``."""
    probs = policy.action_probs_batch([t.state for t in targets], [t.persona for t in targets])
    return float(np.mean(0.5 * np.abs(probs - np.stack([t.probs for t in targets])).sum(axis=1)))
