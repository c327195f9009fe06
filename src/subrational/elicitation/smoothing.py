"""From counts of sampled answers to a probability distribution.

Counts are pooled per persona x state (over wordings and option orders) *before* smoothing, and
smoothing is for the training targets only: a statistic a user reads is computed from the raw
counts or the sampled episodes, with a binomial interval.

``smoothing`` (a run setting) is one of :data:`SMOOTHINGS`:

* ``jeffreys`` (default): a pseudo-count of 1/2 per action (:data:`PSEUDO_COUNT`, so k/2 in all).
  Categorical actions: the Jeffreys posterior mean ``(count + 1/2) / (n + k/2)``. Ordinal actions
  (levels 0..k-1): the same k/2 pseudo-draws are spread by a Gaussian kernel around the drawn
  levels (Scott's rule bandwidth in level units unless given) rather than uniformly, so
  ``(counts + k/2 * kernel(freq)) / (n + k/2)``. Each draw's kernel is normalised over the
  levels, so the edge levels keep their mass (a Gaussian evaluated at the levels and
  renormalised, as before, halved a spike at level 0), and the estimate converges to the
  frequencies as draws accumulate.
* ``none``: the frequencies; NaN when there was no draw.

With no draws at all every smoothing returns the uniform distribution except ``none`` (NaN).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import UnknownNameError

__all__ = ["PSEUDO_COUNT", "SMOOTHINGS", "describe", "frequencies", "jeffreys", "kde_ordinal",
           "smooth", "wilson"]

SMOOTHINGS = ("jeffreys", "none")
PSEUDO_COUNT = 0.5
"""Pseudo-draws per action added by the ``jeffreys`` smoothing."""


def jeffreys(counts: ArrayLike) -> np.ndarray:
    """Posterior mean under a Jeffreys Dirichlet(1/2, ..., 1/2) prior."""
    c = np.asarray(counts, dtype=float)
    return (c + PSEUDO_COUNT) / (c.sum() + PSEUDO_COUNT * len(c))


def frequencies(counts: ArrayLike) -> np.ndarray:
    """Relative frequencies; NaN everywhere when there was no draw (unknown, not uniform)."""
    c = np.asarray(counts, dtype=float)
    total = c.sum()
    return c / total if total > 0 else np.full(len(c), np.nan)


def _kernel_matrix(k: int, bandwidth: float) -> np.ndarray:
    """Row i: the Gaussian kernel around level i over levels 0..k-1, normalised to sum 1."""
    levels = np.arange(k, dtype=float)
    dens = np.exp(-0.5 * ((levels[None, :] - levels[:, None]) / bandwidth) ** 2)
    return dens / dens.sum(axis=1, keepdims=True)


def _scott(c: np.ndarray) -> float:
    levels = np.arange(len(c), dtype=float)
    n = c.sum()
    if np.count_nonzero(c) < 2:
        return 0.5
    std = float(np.sqrt(np.average((levels - np.average(levels, weights=c)) ** 2, weights=c)))
    return max(std * n ** (-1 / 5), 1e-3)


def kde_ordinal(counts: ArrayLike, *, bandwidth: float | None = None) -> np.ndarray:
    """Ordinal smoothing: k/2 pseudo-draws spread by a kernel around the drawn levels.

    ``bandwidth`` is in level units (Scott's rule when ``None``; 0.5 with one distinct level).
    Each draw's kernel sums to one over the levels, so no mass is lost at the edges.
    """
    c = np.asarray(counts, dtype=float)
    k, n = len(c), c.sum()
    if n == 0:
        return np.full(k, 1.0 / k)
    kernel = _kernel_matrix(k, bandwidth or _scott(c))
    spread = (c / n) @ kernel
    pseudo = PSEUDO_COUNT * k
    return (c + pseudo * spread) / (n + pseudo)


def smooth(counts: ArrayLike, *, ordinal: bool, smoothing: str = "jeffreys") -> np.ndarray:
    """The target distribution of pooled ``counts`` under the named smoothing."""
    if smoothing == "none":
        return frequencies(counts)
    if smoothing == "jeffreys":
        return kde_ordinal(counts) if ordinal else jeffreys(counts)
    raise UnknownNameError("smoothing", smoothing, SMOOTHINGS)


def describe(smoothing: str, *, ordinal: bool) -> str:
    """How the targets are smoothed, in words (for summary.json and the report)."""
    if smoothing == "none":
        return "none: targets are the pooled frequencies"
    if ordinal:
        return (f"jeffreys: pseudo-count {PSEUDO_COUNT} per level, spread by a Gaussian kernel "
                "(Scott's bandwidth) around the drawn levels; counts pooled over wordings and "
                "orders first")
    return (f"jeffreys: pseudo-count {PSEUDO_COUNT} per action; counts pooled over wordings "
            "and orders first")


def wilson(successes: float, n: float, *, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval (95 % by default) of a binomial share; (nan, nan) when n = 0."""
    if n <= 0:
        return (float("nan"), float("nan"))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))
