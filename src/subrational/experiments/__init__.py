"""Experiments: pure game cores with a Gymnasium face, registered by versioned id."""

from .core import Experiment, Persona, Policy, Step, state_key, state_to_dict
from .double_or_nothing import DoubleOrNothing, DoubleState
from .env import GameEnv
from .marshmallow import Marshmallow, MarshmallowState
from .procrastination import Procrastination, ProcrastinationState
from .registry import import_plugins, latest_ids, make, names, register
from .rollout import Trajectory, rollout
from .ultimatum import Ultimatum, UltimatumState, UltimatumV1

__all__ = [
    "DoubleOrNothing",
    "DoubleState",
    "Experiment",
    "GameEnv",
    "import_plugins",
    "Marshmallow",
    "MarshmallowState",
    "Persona",
    "Policy",
    "Procrastination",
    "ProcrastinationState",
    "Step",
    "Trajectory",
    "Ultimatum",
    "UltimatumState",
    "UltimatumV1",
    "latest_ids",
    "make",
    "names",
    "register",
    "rollout",
    "state_key",
    "state_to_dict",
]

register(UltimatumV1)
register(Ultimatum)
register(Marshmallow)
register(DoubleOrNothing)
register(Procrastination)
