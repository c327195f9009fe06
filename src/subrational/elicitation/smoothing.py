"""From counts of sampled answers to a probability distribution.

* Categorical actions: Jeffreys prior, ``(count + 1/2) / (n + k/2)``; never a zero probability
  from a handful of draws, and the uniform distribution when every draw failed.
* Ordinal actions (levels 0..k-1): Gaussian kernel density estimate of the drawn levels evaluated
  at the levels and renormalised, as in the paper; Scott's rule bandwidth unless given.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import gaussian_kde

__all__ = ["jeffreys", "kde_ordinal"]


def jeffreys(counts: ArrayLike) -> np.ndarray:
    """Posterior mean under a Jeffreys Dirichlet(1/2, ..., 1/2) prior."""
    c = np.asarray(counts, dtype=float)
    return (c + 0.5) / (c.sum() + 0.5 * len(c))


def kde_ordinal(counts: ArrayLike, *, bandwidth: float | None = None) -> np.ndarray:
    """KDE over ordinal levels; ``bandwidth`` is in level units (Scott's rule when ``None``).

    With a single distinct level drawn, a fixed Gaussian kernel (width ``bandwidth`` or 0.5)
    is centred on it; with no draws at all, the uniform distribution.
    """
    c = np.asarray(counts, dtype=float)
    levels = np.arange(len(c), dtype=float)
    if c.sum() == 0 or np.count_nonzero(c) < 2:
        # gaussian_kde needs spread; with one distinct level use a fixed narrow kernel.
        if c.sum() == 0:
            return np.full(len(c), 1.0 / len(c))
        centre = levels[np.argmax(c)]
        dens = np.exp(-0.5 * ((levels - centre) / (bandwidth or 0.5)) ** 2)
        return dens / dens.sum()
    # gaussian_kde takes a factor of the data's standard deviation; ``bandwidth`` is in levels.
    std = float(np.sqrt(np.average((levels - np.average(levels, weights=c)) ** 2, weights=c)))
    factor = None if bandwidth is None else bandwidth / std
    kde = gaussian_kde(levels, weights=c, bw_method=factor)
    dens = kde(levels)
    return dens / dens.sum()
