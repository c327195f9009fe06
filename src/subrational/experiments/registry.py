"""The catalogue of experiments, by versioned id (``ultimatum-v2``).

Built-in experiments register themselves when :mod:`subrational.experiments` is imported; a game
defined outside the package calls :func:`register` with its class (or a zero-argument factory).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..errors import ConfigError, UnknownNameError
from .core import Experiment

__all__ = ["register", "make", "names", "latest_ids", "import_plugins", "option_names"]

_REGISTRY: dict[str, Callable[..., Experiment]] = {}


def register(factory: Callable[[], Experiment], *,
             replace: bool = False) -> Callable[[], Experiment]:
    """Register an experiment class or factory under its versioned id; usable as a decorator."""
    probe = factory()
    if not isinstance(probe, Experiment):
        raise ConfigError(f"{factory!r} does not build a subrational Experiment")
    cls = type(probe)
    if cls.step is Experiment.step and cls.transitions is Experiment.transitions:
        raise ConfigError(f"{cls.__name__} defines neither step() nor transitions(); "
                          "define step() for a deterministic game")
    if probe.id in _REGISTRY and not replace and not _same_definition(_REGISTRY[probe.id], factory):
        raise ConfigError(f"experiment {probe.id!r} is already registered; bump its version "
                          "or pass replace=True")
    _REGISTRY[probe.id] = factory
    return factory


def _same_definition(a: Callable[[], Experiment], b: Callable[[], Experiment]) -> bool:
    """The same class loaded twice (a file imported under two module names) may re-register."""
    try:
        return (a.__qualname__ == b.__qualname__
                and inspect.getsourcefile(a) == inspect.getsourcefile(b))
    except (AttributeError, TypeError):
        return False


def names() -> list[str]:
    """All registered versioned ids, sorted."""
    return sorted(_REGISTRY)


def latest_ids() -> dict[str, str]:
    """Short name -> versioned id of its newest version, in the order names were registered.

    Registration order is the paper's order for the built-ins, so runs and reports follow it.
    """
    latest: dict[str, tuple[int, str]] = {}
    for vid in _REGISTRY:
        short, _, ver = vid.rpartition("-v")
        if short not in latest or int(ver) > latest[short][0]:
            latest[short] = (int(ver), vid)
    return {short: vid for short, (_, vid) in latest.items()}  # in registration order


def make(name: str, **options: Any) -> Experiment:
    """Build an experiment from ``name`` or ``name-vN`` (the newest version when unversioned).

    ``options`` go to its constructor (e.g. ``win_probs=[0.5, 0.8]`` for double-or-nothing's
    optional axis) and are kept on the experiment as ``experiment.options``, so that a policy
    file can rebuild the same grid and features.
    """
    vid = name if name in _REGISTRY else latest_ids().get(name)
    if vid is None:
        raise UnknownNameError("experiment", name, list(latest_ids()) + names())
    factory = _REGISTRY[vid]
    try:
        experiment = factory(**options)
    except TypeError:
        accepted = _keyword_options(factory)
        raise ConfigError(f"{vid} takes the options {', '.join(accepted) or '(none)'}; got "
                          f"{', '.join(sorted(options))}") from None
    experiment.options = dict(options)
    return experiment


def option_names(vid: str) -> list[str]:
    """Constructor options the experiment ``vid`` accepts (``make(vid, **options)``)."""
    return _keyword_options(_REGISTRY[vid])


def _keyword_options(factory: Callable[..., Experiment]) -> list[str]:
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


def import_plugins(specs: Iterable[str]) -> None:
    """Import Python files (``path/game.py``) or modules (``pkg.games``) that register games."""
    for spec in specs:
        try:
            if spec.endswith(".py"):
                path = Path(spec)
                if not path.is_file():
                    raise ConfigError(f"--import {spec}: no such file")
                name = f"subrational_plugin_{path.stem}"
                if name in sys.modules:
                    continue
                module_spec = importlib.util.spec_from_file_location(name, path)
                assert module_spec is not None and module_spec.loader is not None
                module = importlib.util.module_from_spec(module_spec)
                sys.modules[name] = module  # dataclasses look their module up while defined
                module_spec.loader.exec_module(module)
            else:
                importlib.import_module(spec)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure in user code, reported in one line
            sys.modules.pop(f"subrational_plugin_{Path(spec).stem}", None)
            raise ConfigError(f"--import {spec} failed: {type(exc).__name__}: {exc}") from exc
