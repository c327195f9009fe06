"""What a learned policy accepts: a state of its game, or an observation of its environment.

A policy network answers any numbers it is given, so a state of another game, a dict with a
typo, ``"half"`` for an offer or an observation of the wrong length would otherwise get a
silent answer or a ``TypeError`` deep inside. Here each is one line (:class:`StateError`)
naming the value and what was expected. *Off the grid* means outside the range the policy was
trained on: every feature of the game's states is scaled to [0, 1] (the contract of
:meth:`~subrational.experiments.core.Experiment.state_features`), so a feature outside it is
an extrapolation the network was never shown. Between grid points (an offer of 0.37) is
interpolation, which a persona-conditioned network is meant to do, and is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import StateError, SubrationalError
from ..experiments.core import Experiment

__all__ = ["check_state", "observation_batch", "TOLERANCE"]

TOLERANCE = 1e-6
"""How far outside [0, 1] a feature may be from rounding (float32 observations)."""


def check_state(experiment: Experiment, state: Any) -> Any:
    """``state`` (a state object or a dict of its fields) as a state of ``experiment``, checked.

    Raises:
        StateError: Another type, fields that do not build a state, features that cannot be
            computed, or features off the grid.
    """
    kind = experiment.state_type.__name__
    if isinstance(state, Mapping):
        try:
            state = experiment.state_from_dict(state)
        except SubrationalError as exc:
            raise StateError(str(exc)) from None
    if not isinstance(state, experiment.state_type):
        raise StateError(f"{experiment.id} policies take a {kind} (or a dict of its fields); got "
                         f"{type(state).__name__} {_show(state)}")
    try:
        features = {k: float(v) for k, v in experiment.state_features(state).items()}
    except (TypeError, ValueError, AttributeError, KeyError, ArithmeticError) as exc:
        raise StateError(f"{_show(state)} is not a valid {kind} of {experiment.id} "
                         f"({type(exc).__name__}: {exc}); give numbers of the grid's kind"
                         ) from None
    for name, value in features.items():
        if not -TOLERANCE <= value <= 1 + TOLERANCE:  # also NaN
            raise StateError(f"{_show(state)} is off the grid of {experiment.id}: feature "
                             f"{name!r} = {value:g}, outside [0, 1], the range the policy was "
                             "trained on; use a state within the study's grid")
    return state


def observation_batch(observation: Any, names: list[str]) -> tuple[np.ndarray, bool]:
    """``observation`` as a float32 ``(n, len(names))`` batch, and whether it was a single one.

    Raises:
        StateError: Not numbers, another shape, or a value outside [0, 1] (off the grid).
    """
    try:
        x = np.asarray(observation, dtype=np.float32)
    except (TypeError, ValueError):
        raise StateError(f"an observation is an array of {len(names)} numbers ({', '.join(names)})"
                         f"; got {_show(observation)}") from None
    single = x.ndim == 1
    if x.ndim not in (1, 2) or x.shape[-1] != len(names):
        raise StateError(f"observations have shape ({len(names)},) or (n, {len(names)}) "
                         f"({', '.join(names)}); got shape {x.shape}")
    batch = x.reshape(-1, len(names))
    bad = ~((batch >= -TOLERANCE) & (batch <= 1 + TOLERANCE))
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        raise StateError(f"observation {row} is off the grid: {names[col]} = {batch[row, col]:g}, "
                         "outside [0, 1], the range the policy was trained on; give the "
                         "environment's observations")
    return batch, single


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:75] + "..." + text[-1]
