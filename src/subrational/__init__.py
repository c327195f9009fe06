"""subrational: human-like decision policies from persona-conditioned LLM demonstrations.

The pipeline, one subpackage per stage: :mod:`~subrational.experiments` (games) →
:mod:`~subrational.elicitation` with :mod:`~subrational.backends` and :mod:`~subrational.cache`
→ :mod:`~subrational.demonstrations` → :mod:`~subrational.learning` →
:mod:`~subrational.evaluation` → :mod:`~subrational.reporting`, driven by
:mod:`~subrational.pipeline` and the :mod:`~subrational.cli`.
"""

__version__ = "0.1.0"

from .experiments import Experiment, GameEnv, Persona, Step, make, register, rollout  # noqa: E402
from .learning import load_policy  # noqa: E402

__all__ = ["Experiment", "GameEnv", "Persona", "Step", "__version__", "load_policy", "make",
           "register", "rollout"]
