"""subrational: human-like decision policies from persona-conditioned LLM demonstrations.

The pipeline, one subpackage per stage: :mod:`~subrational.experiments` (the game contract) and
:mod:`~subrational.studies` (the four studies, one package each) → :mod:`~subrational.elicitation`
with :mod:`~subrational.backends` and :mod:`~subrational.cache` →
:mod:`~subrational.demonstrations` → :mod:`~subrational.learning` →
:mod:`~subrational.evaluation` → :mod:`~subrational.reporting`, driven by
:mod:`~subrational.pipeline` and the :mod:`~subrational.cli`.

The package face is lazy: ``import subrational`` (and ``subrational --version``) imports neither
torch nor scipy; each public name is imported on first use, as Gymnasium keeps entry points as
strings.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_PUBLIC = {
    "Experiment": "subrational.experiments.core",
    "Persona": "subrational.experiments.core",
    "Step": "subrational.experiments.core",
    "GameEnv": "subrational.experiments.env",
    "rollout": "subrational.experiments.rollout",
    "make": "subrational.experiments.registry",
    "register": "subrational.experiments.registry",
    "study": "subrational.experiments.registry",
    "Study": "subrational.experiments.study",
    "HumanReference": "subrational.experiments.study",
    "check_experiment": "subrational.experiments.checks",
    "load_policy": "subrational.learning.policy",
    "Run": "subrational.notebook",
    "load_run": "subrational.notebook",
    "run": "subrational.notebook",
}

__all__ = ["Experiment", "GameEnv", "HumanReference", "Persona", "Run", "Step", "Study",
           "__version__", "check_experiment", "load_policy", "load_run", "make", "register",
           "rollout", "run", "study"]

if TYPE_CHECKING:
    from .experiments.checks import check_experiment
    from .experiments.core import Experiment, Persona, Step
    from .experiments.env import GameEnv
    from .experiments.registry import make, register, study
    from .experiments.rollout import rollout
    from .experiments.study import HumanReference, Study
    from .learning.policy import load_policy
    from .notebook import Run, load_run, run


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'subrational' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
