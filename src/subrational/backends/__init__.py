"""Model backends behind one small contract (see :mod:`.base`); SDKs load lazily."""

from .base import (
                   Backend,
                   Capabilities,
                   GenerateRequest,
                   Message,
                   OptionScores,
                   Prompt,
                   ScoreRequest,
)
from .noise import NoiseFloor, measure_noise_floor
from .registry import BACKENDS, DEFAULT_MODEL, create_backend, parse_model
from .scripted import ScriptedBackend, register_script

__all__ = ["BACKENDS", "DEFAULT_MODEL", "Backend", "Capabilities", "GenerateRequest", "Message",
           "NoiseFloor", "OptionScores", "Prompt", "ScoreRequest", "ScriptedBackend",
           "create_backend", "measure_noise_floor", "parse_model", "register_script"]
