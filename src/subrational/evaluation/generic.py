"""The default analysis, and running the analysis a study composed for its game.

A game registered without an analysis (a user's own game) gets :func:`analyse_generic`:
P(first action) over the state grid, per persona, and no findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..experiments.core import Experiment, Persona, Policy
from ..experiments.registry import study as registered_study
from ..experiments.study import HumanReference, Study
from .behaviour import LEARNED_SOURCES, EvalSettings
from .records import Analysis, Curve
from .uncertainty import assess

__all__ = ["analyse_generic", "analyse_study", "assess_study"]


def analyse_generic(experiment: Any, policies: Mapping[str, Policy],
                    personas: Sequence[Persona], *, settings: EvalSettings,
                    human: HumanReference) -> Analysis:
    """P(first action) over the state grid, per persona, for demonstrations and the policy."""
    states = list(experiment.states())
    x = list(range(len(states)))
    out = Analysis(notes=[f"{experiment.id} defines no findings; curves only."])
    for source in LEARNED_SOURCES:
        if source not in policies:
            continue
        for persona in personas:
            y = np.array([policies[source].action_probs(s, persona)[0] for s in states])
            out.curves.append(Curve(f"P({experiment.actions[0]})", f"{source}: {persona.name}",
                                    source, persona.name, x, y.tolist(),
                                    xlabel="state index", ylabel=f"P({experiment.actions[0]})"))
            out.per_persona(source)[persona.name] = {"p_first_action": y.tolist()}
    return out


def analyse_study(experiment: Experiment, policies: Mapping[str, Policy],
                  personas: Sequence[Persona], *, settings: EvalSettings | None = None,
                  study: Study | None = None) -> Analysis:
    """Run the analysis of ``experiment``'s study (the registered one unless ``study`` is given)."""
    study = study or registered_study(experiment.id)
    analyse = study.analysis or analyse_generic
    return analyse(experiment, policies, personas, settings=settings or EvalSettings(),
                   human=study.human)


def assess_study(experiment: Experiment, policies: Mapping[str, Policy],
                 personas: Sequence[Persona], *, settings: EvalSettings | None = None,
                 study: Study | None = None, n_boot: int = 200, seed: int = 0,
                 extras: bool = True) -> Analysis:
    """:func:`analyse_study` with every demonstrations check decided on its bootstrap interval.

    See :func:`~subrational.evaluation.uncertainty.assess`.
    """
    study = study or registered_study(experiment.id)
    return assess(study.analysis or analyse_generic, experiment, policies, personas,
                  settings=settings or EvalSettings(), human=study.human, n_boot=n_boot,
                  seed=seed, extras=extras)
