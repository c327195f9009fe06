"""The catalogue of experiments, by versioned id (``ultimatum-v1``).

Built-in experiments register themselves when :mod:`subrational.experiments` is imported; a game
defined outside the package calls :func:`register` with its class (or a zero-argument factory).
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ConfigError, UnknownNameError
from .core import Experiment

__all__ = ["register", "make", "names", "latest_ids"]

_REGISTRY: dict[str, Callable[[], Experiment]] = {}


def register(factory: Callable[[], Experiment], *,
             replace: bool = False) -> Callable[[], Experiment]:
    """Register an experiment class or factory under its versioned id; usable as a decorator."""
    probe = factory()
    if not isinstance(probe, Experiment):
        raise ConfigError(f"{factory!r} does not build a subrational Experiment")
    if probe.id in _REGISTRY and not replace:
        raise ConfigError(f"experiment {probe.id!r} is already registered; bump its version "
                          "or pass replace=True")
    _REGISTRY[probe.id] = factory
    return factory


def names() -> list[str]:
    """All registered versioned ids, sorted."""
    return sorted(_REGISTRY)


def latest_ids() -> dict[str, str]:
    """Short name -> versioned id of its newest version."""
    latest: dict[str, tuple[int, str]] = {}
    for vid in _REGISTRY:
        short, _, ver = vid.rpartition("-v")
        if short not in latest or int(ver) > latest[short][0]:
            latest[short] = (int(ver), vid)
    return {short: vid for short, (_, vid) in sorted(latest.items())}


def make(name: str) -> Experiment:
    """Build an experiment from ``name`` or ``name-vN`` (the newest version when unversioned)."""
    vid = name if name in _REGISTRY else latest_ids().get(name)
    if vid is None:
        raise UnknownNameError("experiment", name, list(latest_ids()) + names())
    return _REGISTRY[vid]()
