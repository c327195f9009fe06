"""Structural fits of behaviour curves (statsmodels / scipy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
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


def _irls(design: np.ndarray, p: np.ndarray, *, tol: float = 1e-10,
          max_iter: int = 100) -> np.ndarray | None:
    """Fractional-logit GLM coefficients by iteratively reweighted least squares.

    The same estimator as statsmodels' ``GLM(p, design, family=Binomial()).fit()`` (its IRLS,
    its deviance convergence rule), without its per-call set-up cost, which dominated the
    bootstraps that re-run the analysis hundreds of times; ``tests/evaluation/test_fits.py``
    checks the two agree. ``None`` when the iteration does not converge to finite values.
    """
    mu = (p + 0.5) / 2  # statsmodels' binomial starting values
    eta = np.log(mu / (1 - mu))
    beta = np.zeros(design.shape[1])
    dev = np.inf
    for _ in range(max_iter):
        w = mu * (1 - mu)
        z = eta + (p - mu) / w
        sw = np.sqrt(w)
        beta, *_ = np.linalg.lstsq(design * sw[:, None], z * sw, rcond=None)
        eta = design @ beta
        mu = np.clip(1 / (1 + np.exp(-eta)), 1e-15, 1 - 1e-15)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, p * np.log(p / mu), 0.0) \
                + np.where(p < 1, (1 - p) * np.log((1 - p) / (1 - mu)), 0.0)
        new_dev = 2 * float(terms.sum())
        if not np.isfinite(new_dev) or not np.isfinite(beta).all():
            return None
        if abs(new_dev - dev) <= tol * (abs(new_dev) + tol):
            return beta
        dev = new_dev
    return beta


def fit_logistic(x: ArrayLike, p: ArrayLike) -> LogisticFit:
    """Fit a logistic curve to probabilities ``p`` observed at ``x`` (fractional-response GLM).

    The binomial GLM with proportions as the response is the quasi-likelihood estimator of
    Papke & Wooldridge (1996): consistent for the curve without knowing a number of trials.
    Points whose ``p`` is NaN (a state with no data) are left out.
    """
    x_arr = np.asarray(x, dtype=float)
    p_arr = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    seen = np.isfinite(p_arr)  # a state without data (its calls failed) is left out
    x_arr, p_arr = x_arr[seen], p_arr[seen]
    params = _irls(np.column_stack([np.ones_like(x_arr), x_arr]), p_arr) \
        if len(x_arr) >= 2 and np.ptp(x_arr) > 0 else None
    if params is None:
        return LogisticFit(None, None, None)
    intercept, slope = (float(v) for v in params)
    if not (np.isfinite(intercept) and np.isfinite(slope)) or abs(slope) > 1e3:
        return LogisticFit(None, None, None)  # a step function: no finite logistic fit
    threshold = -intercept / slope if abs(slope) > 1e-6 else None
    if threshold is not None and not x_arr.min() <= threshold <= x_arr.max():
        threshold = None
    return LogisticFit(intercept, slope, threshold)
