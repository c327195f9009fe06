"""Control personas: no persona, a rational economist, and placebo-trait clones.

Every built-in study writes ``persona.text`` into its prompt, so a control persona is a
default persona with the same ``values`` (the stake of double-or-nothing stays in the
situation) and another ``text``. The wordings are design choices, pinned by tests; changing
one changes the control prompts: bump :data:`CONTROLS_VERSION`.

* *no persona*: a neutral sentence (a persona must say something, and every study's text
  starts with it);
* *economist*: a rational economist who maximises their own expected money;
* *placebo*: the persona's own text with one sentence that should not matter (shoe size 36
  vs 45, favourite colour blue vs orange) appended. Placebos are cloned from the two personas
  at the ends of the study's real axis (:func:`axis_ends`), so the placebo's effect and the
  real trait's effect are measured on the same people.

Control personas whose prompts are all identical (the no-persona clones of the marshmallow
ages, which only the text told apart) are asked once (:func:`distinct`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..elicitation.prompts import render
from ..experiments.core import Experiment, Persona

__all__ = ["CONTROLS_VERSION", "NO_PERSONA", "ECONOMIST", "PLACEBOS", "Placebo",
           "control_personas", "placebo_personas", "axis_ends", "unique_ends", "distinct"]

CONTROLS_VERSION = 1
"""Version of the control wordings (stored in ``summary.json``)."""

NO_PERSONA = "Please read the following situation and decide."
"""The text of the no-persona control (design choice)."""

ECONOMIST = ("You are a rational economist who always chooses what maximises your own "
             "expected amount of money or reward.")
"""The text of the economist control (design choice)."""


@dataclass(frozen=True)
class Placebo:
    """A trait that should not move behaviour, at two levels (design choice)."""

    trait: str
    levels: tuple[str, str]
    sentence: str  # with {level}


PLACEBOS = (Placebo("shoe_size", ("36", "45"), "Your shoe size is {level}."),
            Placebo("favourite_colour", ("blue", "orange"), "Your favourite colour is {level}."))
"""The placebo traits and their sentences."""


def distinct(experiment: Experiment, personas: Sequence[Persona]) -> list[Persona]:
    """``personas`` less those whose every prompt repeats an earlier one's."""
    seen: set[tuple] = set()
    out = []
    for persona in personas:
        prompts = tuple(render(experiment, persona, s, tuple(range(len(experiment.actions))),
                               method="choice-probs").messages for s in experiment.states())
        if prompts not in seen:
            seen.add(prompts)
            out.append(persona)
    return out


def _clone(base: Persona, name: str, text: str, *, kind: str | None = None) -> Persona:
    return Persona(name, text, kind or base.kind, dict(base.values), dict(base.traits))


def control_personas(experiment: Experiment, personas: Sequence[Persona],
                     condition: str) -> list[Persona]:
    """The ``no-persona`` or ``economist`` clones of ``personas`` (distinct prompts only)."""
    text = {"no-persona": NO_PERSONA, "economist": ECONOMIST}[condition]
    clones = distinct(experiment, [_clone(p, f"{condition}/{p.name}", text) for p in personas])
    if len(clones) == 1:
        clones = [_clone(clones[0], condition, text)]
    return clones


def axis_ends(experiment: Experiment, personas: Sequence[Persona]) -> tuple[Persona, Persona]:
    """The two personas at the ends of the real axis.

    The lowest and highest value of the first numeric axis, else the first and the last
    persona (persona kinds: e.g. ``fair`` and ``selfish``).
    """
    axes = [a for a in experiment.persona_axes if all(a in p.values for p in personas)]
    if axes:
        ordered = sorted(personas, key=lambda p: float(p.values[axes[0]]))
        return ordered[0], ordered[-1]
    return personas[0], personas[-1]


def unique_ends(experiment: Experiment, personas: Sequence[Persona]) -> list[Persona]:
    """:func:`axis_ends`, once each (one persona when both ends are the same)."""
    lo, hi = axis_ends(experiment, personas)
    return [lo] if lo.name == hi.name else [lo, hi]


def axis_name(experiment: Experiment, personas: Sequence[Persona]) -> str:
    """How the real axis of :func:`axis_ends` reads in the report."""
    lo, hi = axis_ends(experiment, personas)
    axes = [a for a in experiment.persona_axes if all(a in p.values for p in personas)]
    what = axes[0] if axes else "persona"
    return f"{what}: {lo.name} vs {hi.name}"


def placebo_personas(experiment: Experiment,
                     personas: Sequence[Persona]) -> dict[tuple[str, str, str], Persona]:
    """``(trait, level, base persona) -> clone`` for both axis ends and every placebo level."""
    ends = unique_ends(experiment, personas)
    return {(pl.trait, level, base.name): _clone(
        base, f"{base.name}/{pl.trait}={level}",
        f"{base.text} {pl.sentence.format(level=level)}")
        for pl in PLACEBOS for level in pl.levels for base in ends}
