"""Eliciting the control conditions: the same personas' questions in other guises.

Every condition goes through the run's own elicitation (same method after any fallback, same
wordings, option orders, draws and seed), against the run's cached backend, so the plan counts
its calls exactly as the run makes them (:func:`elicit_controls` serves both). The
demonstrations of each condition are stored under ``<out>/<study>/controls/<condition>.parquet``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cache import CachedBackend
from ..demonstrations import to_frame, write_demonstrations
from ..elicitation import SampleSettings, elicit
from ..experiments import Experiment, Persona, make
from ..experiments.registry import option_names
from .personas import control_personas, placebo_personas
from .recall import PROBES, ask_probes

__all__ = ["Condition", "ControlRun", "has_disguise", "disguised", "elicit_controls"]

DISGUISED = "disguised"
"""The value of a study's ``framing`` option that renames the story (isomorphic payoffs)."""


@dataclass
class Condition:
    """One control condition's elicitation.

    Attributes:
        name: ``no-persona``, ``economist``, ``placebo`` or ``disguised``.
        experiment: The game it was asked in (the disguised one for ``disguised``).
        personas: Who was asked.
        rows: The elicited rows (:class:`~subrational.elicitation.DemoRow`).
    """

    name: str
    experiment: Experiment
    personas: list[Persona]
    rows: list[Any]


@dataclass
class ControlRun:
    """Everything the controls asked for one study."""

    conditions: dict[str, Condition]
    placebo_names: dict[tuple[str, str, str], str]
    recall: dict[str, list[float | None]]
    disguise_available: bool


def has_disguise(experiment: Experiment) -> bool:
    """Whether the study's constructor takes ``framing`` (a disguised framing exists)."""
    return "framing" in option_names(experiment.id)


def disguised(experiment: Experiment) -> Experiment:
    """The same study, with the same options, under ``framing="disguised"``."""
    return make(experiment.id, **{**experiment.options, "framing": DISGUISED})


def _ask(experiment: Experiment, personas: Sequence[Persona], cached: CachedBackend,
         config: Any, method: str) -> list[Any]:
    settings = SampleSettings(config.samples, config.temperature, config.max_tokens)
    return elicit(experiment, personas, cached, method=method, settings=settings,
                  seed=config.seed, paraphrases=config.paraphrases)


def elicit_controls(experiment: Experiment, personas: Sequence[Persona], cached: CachedBackend,
                    config: Any, method: str) -> ControlRun:
    """Ask every control condition of ``experiment`` for ``personas`` (module docstring)."""
    conditions = {}
    for name in ("no-persona", "economist"):
        who = control_personas(experiment, personas, name)
        conditions[name] = Condition(name, experiment, who,
                                     _ask(experiment, who, cached, config, method))
    placebos = placebo_personas(experiment, personas)
    who = list(placebos.values())
    conditions["placebo"] = Condition("placebo", experiment, who,
                                      _ask(experiment, who, cached, config, method))
    available = has_disguise(experiment)
    if available:
        game = disguised(experiment)
        who = [game.persona(p.name) if p.name in game.personas else p for p in personas]
        conditions[DISGUISED] = Condition(DISGUISED, game, who,
                                          _ask(game, who, cached, config, method))
    probes = [p for p in PROBES if p.study == experiment.name]
    recall = ask_probes(probes, cached, seed=config.seed, max_tokens=config.max_tokens)
    return ControlRun(conditions, {k: p.name for k, p in placebos.items()}, recall, available)


class _Personas:
    """What :func:`~subrational.demonstrations.to_frame` reads, with the control personas."""

    def __init__(self, experiment: Experiment, personas: Sequence[Persona]) -> None:
        self.name, self.version = experiment.name, experiment.version
        self.states = experiment.states
        self._personas = {p.name: p for p in personas}

    def persona(self, name: str) -> Persona:
        return self._personas[name]


def store(run: ControlRun, folder: Path, provenance: dict[str, Any]) -> list[str]:
    """Write each condition's demonstrations under ``folder``; the paths written."""
    from ..paths import ensure_dir

    ensure_dir(folder, what="the controls' folder")
    written = []
    for cond in run.conditions.values():
        view = _Personas(cond.experiment, cond.personas)
        path = folder / f"{cond.name}.parquet"
        write_demonstrations(path, to_frame(view, cond.rows, provenance))  # type: ignore[arg-type]
        written.append(path.name)
    return written
