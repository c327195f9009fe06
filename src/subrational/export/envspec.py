"""A Gymnasium ``EnvSpec`` for a study, so that an exported dataset can rebuild its env.

The spec's entry point is :func:`make_env`, named as a string (as Gymnasium keeps entry points),
with JSON-safe keyword arguments: the versioned experiment id, its constructor options, the
persona and the plugins that register a game of one's own. ``gymnasium.make(spec)`` (or
``minari``'s ``recover_environment``) then returns the study's
:class:`~subrational.experiments.env.GameEnv`; ``gymnasium.make(spec, persona="fair")`` the env of
another persona (an env holds one persona; the exported episodes name theirs in their infos).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..experiments.core import Experiment, Persona
from ..experiments.env import GameEnv

__all__ = ["ENTRY_POINT", "env_id", "env_spec", "make_env"]

ENTRY_POINT = "subrational.export.envspec:make_env"


def env_id(experiment: Experiment) -> str:
    """``subrational/<name>-v<version>``, a valid Gymnasium id."""
    return f"subrational/{experiment.name}-v{experiment.version}"


def make_env(*, experiment: str, persona: str, options: Mapping[str, Any] | None = None,
             imports: Sequence[str] = (), personas: Mapping[str, Mapping[str, Any]] | None = None,
             render_mode: str | None = None) -> GameEnv:
    """The :class:`GameEnv` of ``experiment`` (a versioned id) for ``persona``.

    ``personas`` (name -> ``text``, ``kind``, ``values``) adds personas the experiment does not
    define itself (a held-out value, a population member), as a stored policy does.
    """
    from ..experiments import import_plugins, make

    import_plugins(list(imports))
    game = make(experiment, **dict(options or {}))
    extra = {name: Persona(name, p["text"], p.get("kind", ""), dict(p.get("values", {})),
                           dict(p.get("traits", {})))
             for name, p in (personas or {}).items()}
    chosen = extra.get(persona) or game.persona(persona)
    return GameEnv(game, chosen, render_mode=render_mode)


def env_spec(experiment: Experiment, persona: Persona, *, imports: Sequence[str] = (),
             personas: Sequence[Persona] = ()) -> Any:
    """The ``gymnasium.envs.registration.EnvSpec`` of ``experiment`` for ``persona``."""
    from gymnasium.envs.registration import EnvSpec

    own = set(experiment.personas)
    extra = {p.name: {"text": p.text, "kind": p.kind,
                      "values": {k: float(v) for k, v in p.values.items()},
                      **({"traits": dict(p.traits)} if p.traits else {})}
             for p in personas if p.name not in own}
    kwargs: dict[str, Any] = {"experiment": experiment.id, "persona": persona.name,
                              "options": dict(experiment.options), "imports": list(imports)}
    if extra:
        kwargs["personas"] = extra
    return EnvSpec(id=env_id(experiment), entry_point=ENTRY_POINT, kwargs=kwargs,
                   disable_env_checker=True)
