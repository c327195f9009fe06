"""Structural models of double-or-nothing: CPT (curvature, weighting, noise, loss curvature), CRRA.

Both are the study's myopic one-flip baselines (:mod:`.game`) with some parameters free:
``P(gamble) = sigmoid(s z)``, with ``z = log(CE / w)`` in the gain frame and, for CPT, the loss
frame's log ratio of :func:`~.game.cpt_loss_log_ratio`. What the grid identifies decides which
parameters are free (the rest are fixed at the TK92 medians or the baselines' sensitivity 5 and
listed in the report):

* one win probability (version 1's default): the data are one number per stake, P(gamble), so
  only CPT's alpha is fitted (gamma 0.61 and s 5 fixed): "the alpha a CPT chooser with TK92
  weighting and the baselines' noise would need";
* two win probabilities: alpha and the sensitivity s (gamma fixed); CRRA's rho and s;
* three or more (version 2's default, 0.5 to 0.8): alpha, gamma and s jointly; CRRA's rho and
  s. A constant bias for an answer word is not a parameter: it is absorbed by alpha. Measured
  on simulated TK92 choosers (20 seeds, 8 rows of 20 draws per state): the indifference win
  probability is tight (within 0.025 of 0.714, its interval covering it 18 times in 20),
  while alpha, gamma and beta trade off along a ridge (alpha's 95 % interval about
  [0.5, 2.3] around 0.88; 15 of 20 intervals cover): read p* before alpha;
* a loss frame adds CPT's loss curvature beta (delta fixed at the TK92 median 0.69, as the
  loss frame is asked at fair odds by default). CRRA over final money is frame-blind: a
  framing effect shows as its misfit.

The models ignore round and stake (scale-free and myopic), so each stake persona gets its own
fit. Derived: the fair-odds CE / EV ratio (human band [0.6, 0.95]) and the indifference win
probability (TK92: 0.71).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

from ...evaluation.structural import StructuralModel
from ...experiments.core import Persona
from ...experiments.study import HumanReference
from .game import GAIN, GAMBLE, LOSS, SENSITIVITY, cpt_loss_log_ratio, cpt_weight

__all__ = ["CPT_DELTA", "CPT_GAMMA", "structural_models"]

CPT_GAMMA = 0.61
"""Probability-weighting curvature for gains, fixed at the TK92 median (HUMAN_DATA section 3)
where the grid cannot identify it."""
CPT_DELTA = 0.69
"""Probability-weighting curvature for losses, fixed at the TK92 median."""
FAIR = 0.5
_FIXED = {"alpha": 0.88, "gamma": CPT_GAMMA, "sensitivity": SENSITIVITY, "beta": 0.88}
_BOUNDS = {"alpha": (0.05, 3.0), "gamma": (0.3, 2.0), "sensitivity": (0.1, 50.0),
           "beta": (0.05, 3.0), "rho": (-1.0, 0.95)}
"""Bounds: gamma below about 0.28 makes the TK92 weight non-monotone; rho near 1 is infinite
curvature."""


def _columns(states: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    p = np.fromiter((s.win_prob for s in states), dtype=float, count=len(states))
    loss = np.fromiter((getattr(s, "frame", GAIN) == LOSS for s in states), dtype=bool,
                       count=len(states))
    return p, loss


def _ce_ev(alpha: float, gamma: float) -> float:
    """CE / EV of the fair double-or-nothing: ``2 w+(0.5)**(1/alpha)`` (EV = w)."""
    return 2.0 * float(cpt_weight(FAIR, gamma)) ** (1.0 / alpha)


def _indifference(alpha: float, gamma: float) -> float:
    """Win probability at which CE = w: ``w+(p) = 2**-alpha``."""
    target = 2.0 ** -alpha
    return float(brentq(lambda p: float(cpt_weight(p, gamma)) - target, 1e-9, 1 - 1e-9))


def _alpha_for_ce_ev(ratio: float) -> float:
    """The alpha whose fair-odds CE / EV is ``ratio`` at gamma 0.61 (inverts :func:`_ce_ev`)."""
    return math.log(float(cpt_weight(FAIR, CPT_GAMMA))) / math.log(ratio / 2.0)


def _weight(p: np.ndarray, gamma: Any) -> np.ndarray:
    """:func:`~.game.cpt_weight` with ``gamma`` a float or a (B, 1) column: (S,) or (B, S)."""
    num = p ** gamma
    return np.asarray(num / (num + (1.0 - p) ** gamma) ** (1.0 / gamma))


def _cpt(free: tuple[str, ...], human: HumanReference) -> StructuralModel:
    """CPT with the parameters ``free`` fitted and the others at their fixed values."""

    def named(theta: np.ndarray) -> dict[str, float]:
        return {**_FIXED, **{n: float(v) for n, v in zip(free, theta, strict=True)}}

    def predict(theta: np.ndarray, states: Sequence[Any], persona: Persona) -> np.ndarray:
        v = named(theta)
        p, loss = _columns(states)
        gain_z = math.log(2.0) + np.log(cpt_weight(p, v["gamma"])) / v["alpha"]
        loss_z = cpt_loss_log_ratio(p, v["beta"], CPT_DELTA)
        return expit(v["sensitivity"] * np.where(loss, loss_z, gain_z))

    def columns(thetas: np.ndarray) -> dict[str, Any]:
        """Each parameter as a (B, 1) column of ``thetas``, the fixed ones as floats."""
        return {**_FIXED, **{n: thetas[:, i:i + 1] for i, n in enumerate(free)}}

    def predict_many(thetas: np.ndarray, states: Sequence[Any], persona: Persona) -> np.ndarray:
        # predict's arithmetic on (B, 1) parameter columns: the same numbers row by row
        v = columns(thetas)
        p, loss = _columns(states)
        gain_z = math.log(2.0) + np.log(_weight(p, v["gamma"])) / v["alpha"]
        loss_z = (-math.log(2.0) - np.log(_weight(1.0 - p, CPT_DELTA)) / v["beta"])
        return expit(v["sensitivity"] * np.where(loss, loss_z, gain_z))

    def derived(theta: np.ndarray) -> dict[str, float]:
        v = named(theta)
        return {"ce_ev": _ce_ev(v["alpha"], v["gamma"]),
                "p_indifference": _indifference(v["alpha"], v["gamma"])}

    lo, hi = human["bands"]["ce_ev_ratio"]
    fixed = [f"{n} = {_FIXED[n]:g}" for n in _FIXED if n not in free and n != "beta"]
    ranges: dict[str, tuple[float, float]] = {"ce_ev": (lo, hi)}
    source = (f"HUMAN_DATA double-or-nothing band CE/EV in [{lo:g}, {hi:g}] (fair odds); TK92 "
              f"medians alpha = beta = 0.88, gamma = 0.61, delta = {CPT_DELTA} (loss "
              f"weighting, fixed); indifference win probability 0.71 (computed)")
    if free == ("alpha",):
        ranges["alpha"] = (_alpha_for_ce_ev(lo), _alpha_for_ce_ev(hi))
        source += (f"; alpha range implied by the CE/EV band through 2 w+(0.5)^(1/alpha) with "
                   f"gamma = {CPT_GAMMA}")
    if fixed:
        source += "; fixed, not identified by this grid: " + ", ".join(fixed)
    name = ("CPT value curvature (myopic one flip)" if free == ("alpha",) else
            "CPT curvature, weighting and noise (myopic one flip)")
    report = tuple(n for n in ("alpha", "gamma", "sensitivity", "beta") if n in free) + ("ce_ev",)
    if "gamma" in free or "sensitivity" in free:
        report += ("p_indifference",)
    return StructuralModel(name, free, tuple(_FIXED[n] for n in free),
                           tuple(_BOUNDS[n] for n in free), predict, action=GAMBLE,
                           report=report, derived=derived, human_range=ranges,
                           human_source=source,
                           depends={"ce_ev": ("alpha", "gamma"),
                                    "p_indifference": ("alpha", "gamma")},
                           predict_many=predict_many)


def _crra_predict(theta: np.ndarray, states: Sequence[Any], persona: Persona) -> np.ndarray:
    """CRRA over final money, frame-blind: ``log(CE / w) = log 2 + log(p) / (1 - rho)``."""
    p, _ = _columns(states)
    return expit(theta[1] * (math.log(2.0) + np.log(p) / (1.0 - theta[0])))


def _crra_predict_many(thetas: np.ndarray, states: Sequence[Any],
                       persona: Persona) -> np.ndarray:
    """:func:`_crra_predict` of each row of ``thetas`` (B, 2) at once: (B, S)."""
    p, _ = _columns(states)
    return expit(thetas[:, 1:2] * (math.log(2.0) + np.log(p) / (1.0 - thetas[:, :1])))


def _crra() -> StructuralModel:
    return StructuralModel("CRRA expected utility (myopic one flip)", ("rho", "sensitivity"),
                           (0.5, SENSITIVITY), (_BOUNDS["rho"], _BOUNDS["sensitivity"]),
                           _crra_predict, action=GAMBLE, report=("rho",),
                           human_source="no human range in HUMAN_DATA (CRRA over final "
                                        "money ignores the frame: a framing effect is misfit)",
                           predict_many=_crra_predict_many)


def structural_models(experiment: Any, human: HumanReference) -> list[StructuralModel]:
    """The CPT model with what the grid identifies free, and CRRA with two or more odds."""
    n = len(experiment.win_probs)
    free: tuple[str, ...] = ("alpha",) if n == 1 else (
        ("alpha", "sensitivity") if n == 2 else ("alpha", "gamma", "sensitivity"))
    if getattr(experiment, "loss_win_probs", ()):
        free += ("beta",)
    models = [_cpt(free, human)]
    if n >= 2:
        models.append(_crra())
    return models
