"""Default analysis for experiments that define no findings of their own (e.g. a user's game)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..experiments.core import Persona, Policy
from .records import Analysis, Curve

__all__ = ["analyse_generic"]


def analyse_generic(experiment: Any, policies: Mapping[str, Policy],
                    personas: Sequence[Persona]) -> Analysis:
    """P(first action) over the state grid, per persona, for demonstrations and the policy."""
    states = list(experiment.states())
    x = list(range(len(states)))
    out = Analysis(notes=[f"{experiment.id} defines no findings; curves only."])
    for source in ("demonstrations", "policy"):
        if source not in policies:
            continue
        for persona in personas:
            y = np.array([policies[source].action_probs(s, persona)[0] for s in states])
            out.curves.append(Curve(f"P({experiment.actions[0]})", f"{source}: {persona.name}",
                                    source, persona.name, x, y.tolist(),
                                    xlabel="state index", ylabel=f"P({experiment.actions[0]})"))
            out.metrics[f"{source}.{persona.name}"] = {"p_first_action": y.tolist()}
    return out
