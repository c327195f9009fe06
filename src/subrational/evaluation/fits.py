"""Structural fits of behaviour curves (statsmodels / scipy)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from numpy.typing import ArrayLike

__all__ = ["LogisticFit", "fit_logistic"]


@dataclass(frozen=True)
class LogisticFit:
    """``P(y) = sigmoid(intercept + slope * x)`` fitted by maximum likelihood.

    Attributes:
        intercept: Fitted intercept (``None`` when the fit failed, e.g. a perfect step).
        slope: Fitted slope.
        threshold: ``x`` where P = 0.5 (``-intercept / slope``); ``None`` when the fitted curve
            does not cross 0.5 inside the observed range of ``x`` (e.g. a flat curve), where an
            extrapolated crossing would mean nothing.
    """

    intercept: float | None
    slope: float | None
    threshold: float | None


def fit_logistic(x: ArrayLike, p: ArrayLike) -> LogisticFit:
    """Fit a logistic curve to probabilities ``p`` observed at ``x`` (fractional-response GLM).

    The binomial GLM with proportions as the response is the quasi-likelihood estimator of
    Papke & Wooldridge (1996): consistent for the curve without knowing a number of trials.
    """
    x_arr = np.asarray(x, dtype=float)
    p_arr = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    design = sm.add_constant(x_arr)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = sm.GLM(p_arr, design, family=sm.families.Binomial()).fit()
    except Exception:  # noqa: BLE001 - perfect separation and singular fits have many types
        return LogisticFit(None, None, None)
    intercept, slope = (float(v) for v in result.params)
    if not (np.isfinite(intercept) and np.isfinite(slope)) or abs(slope) > 1e3:
        return LogisticFit(None, None, None)  # a step function: no finite logistic fit
    threshold = -intercept / slope if abs(slope) > 1e-6 else None
    if threshold is not None and not x_arr.min() <= threshold <= x_arr.max():
        threshold = None
    return LogisticFit(intercept, slope, threshold)
