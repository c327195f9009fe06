"""Experiments: the game contract, its Gymnasium face, rollouts and the catalogue of studies.

The studies themselves (the paper's four and their analyses) live in :mod:`subrational.studies`,
one package each; they are registered here by versioned id the first time the catalogue is read.
"""

from .core import Experiment, Persona, Policy, Step, state_key, state_to_dict
from .env import GameEnv
from .registry import import_plugins, latest_ids, make, names, register, split_id, study
from .rollout import Trajectory, enumerate_episodes, rollout
from .study import Citation, HumanReference, Study

__all__ = [
    "Citation",
    "Experiment",
    "GameEnv",
    "HumanReference",
    "Persona",
    "Policy",
    "Step",
    "Study",
    "Trajectory",
    "enumerate_episodes",
    "import_plugins",
    "latest_ids",
    "make",
    "names",
    "register",
    "rollout",
    "split_id",
    "state_key",
    "state_to_dict",
    "study",
]
