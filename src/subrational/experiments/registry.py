"""The catalogue of studies, by versioned id (``ultimatum-v2``).

Each entry is a :class:`~subrational.experiments.study.Study`: a game with its analysis,
structural models and human reference. The built-in studies (:mod:`subrational.studies`) are
imported by name the first time the catalogue is read, as Gymnasium keeps entry points as
strings: the contract in this package never imports the studies built on it. A game defined
outside the package calls :func:`register` with its class, a factory, or a whole ``Study``.

Registering a study also registers it with Gymnasium as ``subrational/<id>``
(:func:`gym_id`), with the entry point :func:`subrational.experiments.env.make_env` as a
string. The built-in studies register when the catalogue is first read, so ``import
subrational.envs`` (or ``gymnasium.make("subrational.envs:subrational/<id>")``) makes their
ids known; a game of one's own gets its id when it is registered.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError, SubrationalError, UnknownNameError, did_you_mean
from .core import Experiment
from .study import AnalysisFn, HumanReference, StructuralModelsFn, Study

__all__ = ["register", "make", "study", "names", "latest_ids", "import_plugins",
           "option_names", "split_id", "gym_id", "GYM_NAMESPACE"]

_REGISTRY: dict[str, Study] = {}
_BUILTINS = "subrational.studies"
_builtins_loaded = False


def _catalogue() -> dict[str, Study]:
    """The registry, with the built-in studies registered first (in the paper's order)."""
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        importlib.import_module(_BUILTINS)
    return _REGISTRY


def split_id(name: str) -> tuple[str, int | None]:
    """``"ultimatum-v2"`` -> ``("ultimatum", 2)``; an unversioned name -> ``(name, None)``."""
    base, sep, version = name.rpartition("-v")
    if sep and base and version.isdigit():
        return base, int(version)
    return name, None


def register(game: Callable[..., Experiment] | Study, *, analysis: AnalysisFn | None = None,
             structural_models: StructuralModelsFn | None = None,
             human: HumanReference | Mapping[str, Any] | str | Path | None = None,
             replace: bool = False) -> Any:
    """Register a game (class or factory) or a whole :class:`Study` under its versioned id.

    ``analysis``, ``structural_models`` and ``human`` (a JSON file, a mapping or a
    :class:`HumanReference`) compose the study when ``game`` is a bare class; a game with none
    gets the default analysis. Returns ``game``, so it works as a class decorator.
    """
    entry = game if isinstance(game, Study) else Study(
        game, analysis=analysis, structural_models=structural_models,
        human=HumanReference.load(human))
    if isinstance(game, Study) and (analysis or structural_models or human is not None):
        raise ConfigError("register(Study(...)) takes no analysis, structural_models or human "
                          "arguments: put them in the Study")
    catalogue = _catalogue()
    try:
        probe = entry.game()
    except Exception as exc:  # noqa: BLE001 - user code; one line naming the game
        raise ConfigError(f"registering {_label(entry.game)}: building it with no options "
                          f"failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(probe, Experiment):
        raise ConfigError(f"{entry.game!r} does not build a subrational Experiment")
    cls = type(probe)
    if cls.step is Experiment.step and cls.transitions is Experiment.transitions:
        raise ConfigError(f"{cls.__name__} defines neither step() nor transitions(); "
                          "define step() for a deterministic game")
    if (probe.id in catalogue and not replace
            and not _same_definition(catalogue[probe.id].game, entry.game)):
        raise ConfigError(f"experiment {probe.id!r} is already registered; bump its version "
                          "or pass replace=True")
    catalogue[probe.id] = entry
    _register_gym_id(probe.id)
    return game


GYM_NAMESPACE = "subrational"
"""Every registered study is also the Gymnasium id ``subrational/<id>``."""
_GYM_ENTRY_POINT = "subrational.experiments.env:make_env"


def gym_id(vid: str) -> str:
    """The Gymnasium id of study ``vid``: ``marshmallow-v1`` -> ``subrational/marshmallow-v1``."""
    return f"{GYM_NAMESPACE}/{vid}"


def _register_gym_id(vid: str) -> None:
    """Register ``subrational/<vid>`` with Gymnasium (its entry point is a string: lazy)."""
    import gymnasium

    if gym_id(vid) not in gymnasium.registry:  # a re-registered study keeps its entry
        gymnasium.register(gym_id(vid), entry_point=_GYM_ENTRY_POINT, kwargs={"experiment": vid})


def _label(factory: Any) -> str:
    return getattr(factory, "__name__", repr(factory))


def _same_definition(a: Callable[[], Experiment], b: Callable[[], Experiment]) -> bool:
    """The same class loaded twice (a file imported under two module names) may re-register."""
    try:
        return (a.__qualname__ == b.__qualname__
                and inspect.getsourcefile(a) == inspect.getsourcefile(b))
    except (AttributeError, TypeError):
        return False


def names() -> list[str]:
    """All registered versioned ids, sorted."""
    return sorted(_catalogue())


def latest_ids() -> dict[str, str]:
    """Short name -> versioned id of its newest version, in the order names were registered.

    Registration order is the paper's order for the built-ins, so runs and reports follow it.
    """
    latest: dict[str, tuple[int, str]] = {}
    for vid in _catalogue():
        short, ver = split_id(vid)
        assert ver is not None  # registered ids are always versioned
        if short not in latest or ver > latest[short][0]:
            latest[short] = (ver, vid)
    return {short: vid for short, (_, vid) in latest.items()}  # in registration order


def make(name: str, **options: Any) -> Experiment:
    """Build an experiment from ``name`` or ``name-vN`` (the newest version when unversioned).

    ``options`` go to its constructor (e.g. ``win_probs=[0.5, 0.8]`` for double-or-nothing's
    optional axis) and are kept on the experiment as ``experiment.options``, so that a policy
    file can rebuild the same grid and features.
    """
    vid = _resolve(name)
    factory = _REGISTRY[vid].game
    accepted = _keyword_options(factory)
    if not _takes_any_keyword(factory):
        for key in options:
            if key not in accepted:
                raise ConfigError(f"unknown option {key!r} for {vid}"
                                  f"{did_you_mean(key, accepted) if accepted else ''}"
                                  f"{'' if accepted else ' (it takes no options)'}")
    try:
        experiment = factory(**options)
    except SubrationalError:
        raise  # the study's own one-line check of a value
    except Exception as exc:  # noqa: BLE001 - a constructor may reject a value any way it likes
        detail = (str(exc).splitlines() or [""])[0]
        shown = ", ".join(f"{k}={v!r}" for k, v in options.items()) or "no options"
        raise ConfigError(f"{vid} cannot be built with {shown[:200]}: {type(exc).__name__}"
                          f"{': ' + detail if detail else ''}") from None
    experiment.options = dict(options)
    return experiment


def _resolve(name: str) -> str:
    vid = name if name in _catalogue() else latest_ids().get(name)
    if vid is None:
        raise UnknownNameError("experiment", name, list(latest_ids()) + names())
    return vid


def study(name: str) -> Study:
    """The :class:`Study` registered as ``name`` or ``name-vN`` (newest when unversioned)."""
    return _REGISTRY[_resolve(name)]


def option_names(vid: str) -> list[str]:
    """Constructor options the experiment ``vid`` accepts (``make(vid, **options)``)."""
    return _keyword_options(study(vid).game)


def _keyword_options(factory: Callable[..., Experiment]) -> list[str]:
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _takes_any_keyword(factory: Callable[..., Experiment]) -> bool:
    """A factory with ``**kwargs`` (or no readable signature) decides its options itself."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind is p.VAR_KEYWORD for p in params)


def _plugin_module(path: Path) -> str:
    """A plugin file's module name: its stem and a digest of its absolute path.

    Two files of the same name (``a/plugin.py``, ``b/plugin.py``) are two plugins, not one.
    """
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:10]
    return f"subrational_plugin_{path.stem}_{digest}"


def import_plugins(specs: Iterable[str]) -> None:
    """Import Python files (``path/game.py``) or modules (``pkg.games``) that register games."""
    for spec in specs:
        try:
            if spec.endswith(".py"):
                path = Path(spec)
                if not path.is_file():
                    raise ConfigError(f"--import {spec}: no such file")
                name = _plugin_module(path)
                if name in sys.modules:  # this very file, imported before
                    continue
                folder = str(path.resolve().parent)
                if folder not in sys.path:  # like `python my_game.py`: helpers beside it import
                    sys.path.insert(0, folder)
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
            if spec.endswith(".py"):
                sys.modules.pop(_plugin_module(Path(spec)), None)
            raise ConfigError(f"--import {spec} failed: {type(exc).__name__}: {exc}") from exc
