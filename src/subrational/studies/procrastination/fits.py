"""Structural model of academic procrastination: present bias beta of the naive student."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.special import expit

from ...evaluation.structural import StructuralModel
from ...experiments.core import Persona
from ...experiments.study import HumanReference
from .game import WORK, BetaDeltaStudent

__all__ = ["structural_models"]


def _grid_index(states: Sequence[Any], *, deadline: int, sessions: int) -> np.ndarray:
    """Row of each state in the per-state arrays: ``(day - 1) * sessions + done``.

    Version 2 states under evenly spaced deadlines come after all the others (offset
    ``deadline * sessions``).
    """
    n = len(states)
    day = np.fromiter((s.day for s in states), dtype=np.intp, count=n)
    done = np.fromiter((s.done for s in states), dtype=np.intp, count=n)
    if n and (day.min() < 1 or day.max() > deadline or done.min() < 0 or done.max() >= sessions):
        raise ValueError(f"states must lie on the procrastination grid (day 1..{deadline}, done "
                         f"0..{sessions - 1}); got days {sorted(set(day.tolist()))}, done "
                         f"{sorted(set(done.tolist()))}")
    spaced = np.fromiter((bool(getattr(s, "spaced", False)) for s in states), dtype=np.intp,
                         count=n)
    return np.asarray((spaced * deadline + day - 1) * sessions + done)


def _gap_terms(experiment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per grid state, ``today`` and ``later`` with Q(Work) - Q(Postpone) = today + beta * later.

    The naive student's continuation value is the exponential agent's, so it does not depend on
    beta: the gap is affine in beta, and two solved students (beta = 1 and 1/2) give both terms
    once instead of a backward induction per call.
    """
    states = tuple(experiment.states())
    delta = getattr(experiment, "baseline_delta", 0.99)
    students = [BetaDeltaStudent(experiment, beta=b, delta=delta) for b in (1.0, 0.5)]
    full, half = (np.array([np.subtract(*s.q_values(state)) for state in states])
                  for s in students)
    idx = _grid_index(states, deadline=experiment.deadline, sessions=experiment.sessions)
    size = 2 * experiment.deadline * experiment.sessions  # both schedules of version 2
    today, later = np.zeros(size), np.zeros(size)
    later[idx] = 2.0 * (full - half)
    today[idx] = full - later[idx]
    return today, later


_Predict = Callable[[np.ndarray, Sequence[Any], Persona], np.ndarray]


def _present_bias(experiment: Any) -> tuple[_Predict, _Predict]:
    """Model P(Work) of the naive beta-delta student; ``theta = (beta, precision)``.

    Returns ``predict`` and ``predict_many`` (the same for each row of a (B, 2) ``thetas``).
    """
    today, later = _gap_terms(experiment)
    deadline, sessions = experiment.deadline, experiment.sessions

    def predict(theta: np.ndarray, states: Sequence[Any], persona: Persona) -> np.ndarray:
        idx = _grid_index(states, deadline=deadline, sessions=sessions)
        return np.asarray(expit(theta[1] * (today[idx] + theta[0] * later[idx])))

    def predict_many(thetas: np.ndarray, states: Sequence[Any], persona: Persona) -> np.ndarray:
        idx = _grid_index(states, deadline=deadline, sessions=sessions)
        return np.asarray(expit(thetas[:, 1:2] * (today[idx] + thetas[:, :1] * later[idx])))

    return predict, predict_many


def structural_models(experiment: Any, human: HumanReference) -> list[StructuralModel]:
    """Present bias beta of the naive beta-delta student, with logit precision as a nuisance.

    Fitted per GPA with the baseline's delta = 0.99, effort cost 1 and completion value 10
    fixed, as the issue asks: cost and value set the utility scale that the precision multiplies,
    and over a one-week horizon delta barely moves the continuation value (0.99^7 = 0.93), so it
    is nearly confounded with beta. The bounds allow beta > 1 (a future bias) so an estimate is
    not stopped at 1. Human range: the HUMAN_DATA band for fitted beta.
    """
    lo, hi = human["bands"]["beta_range"]
    predict, predict_many = _present_bias(experiment)
    return [
        StructuralModel("naive beta-delta present bias", ("beta", "precision"), (0.8, 5.0),
                        ((0.05, 1.5), (0.1, 100.0)), predict, action=WORK,
                        report=("beta",), human_range={"beta": (lo, hi)},
                        human_source="HUMAN_DATA procrastination band for fitted beta, 0.7-0.95 "
                                     "(Augenblick, Niederle & Sprenger 2015; Augenblick & Rabin "
                                     "2019; Laibson 1997; tag M)",
                        extra_starts=((0.3, 5.0), (1.2, 5.0), (0.5, 30.0)),
                        predict_many=predict_many),
    ]
