"""Many bounded Nelder-Mead minimisations in lockstep: scipy's algorithm, vectorised over problems.

The bootstrap of :func:`~subrational.evaluation.structural.calibrate` refits B replicates of
one likelihood, each from the full-data estimate; one ``scipy.optimize.minimize`` per replicate
spends its time calling the model once per point in Python. :func:`minimize_many` runs the B
problems together, step for step as scipy 1.17's ``_minimize_neldermead`` (non-adaptive,
``rho, chi, psi, sigma = 1, 2, 0.5, 0.5``; initial simplex ``nonzdelt = 0.05``,
``zdelt = 0.00025``, reflected into and clipped to the bounds; every trial point clipped;
``argsort`` after each iteration; the same convergence test and the same ``maxiter`` /
``maxfev`` defaults and bookkeeping, including a run that hits ``maxfev`` inside an
iteration), so each problem's result is the one scipy would return, to the last bit when the
objective returns the same numbers for the same points. A problem that has converged is frozen
while the others go on.

Each iteration evaluates the objective at most three times, each for many points: the
reflection of every running problem, then the expansion or contraction of the problems whose
branch needs one, then the shrink points of the problems that shrink.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ManyResult", "minimize_many", "nelder_mead_many"]

_RHO, _CHI, _PSI, _SIGMA = 1, 2, 0.5, 0.5
_NONZDELT, _ZDELT = 0.05, 0.00025

ManyObjective = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``f_many(X, problems) -> values``: ``X`` is (M, N) points, ``problems`` (M,) the index of the
problem each point belongs to (problems may have different data); returns (M,) values."""


@dataclass(frozen=True)
class ManyResult:
    """Result of :func:`nelder_mead_many`, one row per problem.

    Attributes:
        x: (B, N) minimisers (scipy's ``res.x``: the best vertex of the final simplex).
        fun: (B,) objective at ``x`` (scipy's ``res.fun``: the smallest simplex value).
        nfev: (B,) objective evaluations per problem (scipy's ``res.nfev``).
        nit: (B,) iterations per problem (scipy's ``res.nit``).
    """

    x: np.ndarray
    fun: np.ndarray
    nfev: np.ndarray
    nit: np.ndarray


def _limits(bounds: Sequence[tuple[float | None, float | None]] | None,
            n: int) -> tuple[np.ndarray, np.ndarray] | None:
    if bounds is None:
        return None
    if len(bounds) != n:
        raise ValueError(f"{len(bounds)} bounds for {n} parameters")
    lb = np.array([-np.inf if lo is None else lo for lo, _ in bounds], dtype=float)
    ub = np.array([np.inf if hi is None else hi for _, hi in bounds], dtype=float)
    if (lb > ub).any():
        raise ValueError("Nelder Mead - one of the lower bounds is greater than an upper bound.")
    return lb, ub


def _max_counts(n: int, maxiter: float | None, maxfev: float | None) -> tuple[float, float]:
    """The defaults of scipy: both 200 N when neither is given; the other unbounded when one is."""
    if maxiter is None and maxfev is None:
        return n * 200, n * 200
    if maxiter is None:
        return (n * 200 if maxfev == np.inf else np.inf), float(maxfev)  # type: ignore[arg-type]
    if maxfev is None:
        return float(maxiter), (n * 200 if maxiter == np.inf else np.inf)
    return float(maxiter), float(maxfev)


def nelder_mead_many(f_many: ManyObjective, x0s: np.ndarray,
                     bounds: Sequence[tuple[float | None, float | None]] | None, *,
                     xatol: float = 1e-4, fatol: float = 1e-4, maxiter: float | None = None,
                     maxfev: float | None = None) -> ManyResult:
    """Minimise B problems from ``x0s`` (B, N) with scipy's bounded Nelder-Mead, in lockstep.

    Problem b's result equals ``scipy.optimize.minimize(f_b, x0s[b], method="Nelder-Mead",
    bounds=bounds, options={"xatol": xatol, "fatol": fatol, "maxiter": maxiter, "maxfev":
    maxfev})`` where ``f_b(x) = f_many(x[None], [b])[0]``. Starting points outside the bounds
    are clipped (scipy warns).
    """
    x0s = np.atleast_2d(np.asarray(x0s, dtype=float))
    n_prob, n = x0s.shape
    limits = _limits(bounds, n)
    max_it, max_fev = _max_counts(n, maxiter, maxfev)

    def f(x: np.ndarray, problems: np.ndarray) -> np.ndarray:
        return np.asarray(f_many(x, problems), dtype=float).reshape(len(x))

    def clip(x: np.ndarray) -> np.ndarray:
        return x if limits is None else np.clip(x, limits[0], limits[1])

    x0s = clip(x0s)
    sim = np.repeat(x0s[:, None, :], n + 1, axis=1)
    for k in range(n):
        col = x0s[:, k]
        sim[:, k + 1, k] = np.where(col != 0, (1 + _NONZDELT) * col, _ZDELT)
    if limits is not None:
        sim = np.clip(np.where(sim > limits[1], 2 * limits[1] - sim, sim), limits[0], limits[1])

    every = np.arange(n_prob)
    fsim = np.full((n_prob, n + 1), np.inf)
    first = int(min(n + 1, max_fev))  # scipy stops the first evaluations at maxfev
    if first > 0:
        fsim[:, :first] = f(sim[:, :first].reshape(-1, n),
                                 np.repeat(every, first)).reshape(n_prob, first)
    fcalls = np.full(n_prob, first, dtype=np.int64)
    iterations = np.ones(n_prob, dtype=np.int64)
    for _ in range(2):  # scipy sorts once in its `finally` and once after
        ind = np.argsort(fsim, axis=1)
        sim = np.take_along_axis(sim, ind[:, :, None], axis=1)
        fsim = np.take_along_axis(fsim, ind, axis=1)

    running = every
    while True:
        alive = (fcalls[running] < max_fev) & (iterations[running] < max_it)
        running = running[alive]
        if not len(running):
            break
        s, fs = sim[running], fsim[running]
        done = ((np.max(np.abs(s[:, 1:] - s[:, :1]), axis=(1, 2)) <= xatol)
                & (np.max(np.abs(fs[:, :1] - fs[:, 1:]), axis=1) <= fatol))
        running, s, fs = running[~done], s[~done], fs[~done]
        if not len(running):
            break
        xbar = s[:, 0].copy()
        for i in range(1, n):  # np.add.reduce over axis 0 of an (N, N) array: row by row
            xbar += s[:, i]
        xbar /= n
        worst = s[:, -1]
        xr = clip((1 + _RHO) * xbar - _RHO * worst)
        fxr = f(xr, running)
        fcalls[running] += 1
        aborted = np.zeros(len(running), dtype=bool)  # scipy's _MaxFuncCallError
        new_x, new_f = xr.copy(), fxr.copy()

        expand = fxr < fs[:, 0]
        keep_r = ~expand & (fxr < fs[:, -2])
        outside = ~expand & ~keep_r & (fxr < fs[:, -1])
        inside = ~expand & ~keep_r & ~outside
        second = np.flatnonzero(expand | outside | inside)
        room = fcalls[running[second]] < max_fev
        aborted[second[~room]] = True
        second = second[room]
        shrink = np.zeros(len(running), dtype=bool)
        if len(second):
            xb, w = xbar[second], worst[second]
            xt = np.where(expand[second, None], (1 + _RHO * _CHI) * xb - _RHO * _CHI * w,
                          np.where(outside[second, None],
                                   (1 + _PSI * _RHO) * xb - _PSI * _RHO * w,
                                   (1 - _PSI) * xb + _PSI * w))
            xt = clip(xt)
            ft = f(xt, running[second])
            fcalls[running[second]] += 1
            e, o = expand[second], outside[second]
            take = np.where(e, ft < fxr[second], np.where(o, ft <= fxr[second],
                                                          ft < fs[second, -1]))
            use = second[take | e]
            pick = (take | e)
            new_x[use] = np.where(take[pick, None], xt[pick], xr[use])
            new_f[use] = np.where(take[pick], ft[pick], fxr[use])
            shrink[second[~take & ~e]] = True
        accept = ~aborted & ~shrink
        s[accept, -1] = new_x[accept]
        fs[accept, -1] = new_f[accept]

        rows = np.flatnonzero(shrink)
        if len(rows):
            budget = (max_fev - fcalls[running[rows]]).astype(float)  # evaluations left
            moved = s[rows, :1] + _SIGMA * (s[rows, 1:] - s[rows, :1])
            moved = clip(moved)
            j = np.arange(n)
            # vertex j + 1 moves when j <= budget; it is evaluated when j < budget
            moves = j[None, :] <= budget[:, None]
            evals = j[None, :] < budget[:, None]
            sub = s[rows]
            sub[:, 1:] = np.where(moves[:, :, None], moved, sub[:, 1:])
            s[rows] = sub
            pr, pj = np.nonzero(evals)
            if len(pr):
                fsub = fs[rows]
                fsub[pr, pj + 1] = f(moved[pr, pj], running[rows[pr]])
                fs[rows] = fsub
            fcalls[running[rows]] += evals.sum(axis=1)
            aborted[rows[~evals.all(axis=1)]] = True
        iterations[running[~aborted]] += 1

        ind = np.argsort(fs, axis=1)
        sim[running] = np.take_along_axis(s, ind[:, :, None], axis=1)
        fsim[running] = np.take_along_axis(fs, ind, axis=1)

    return ManyResult(sim[:, 0].copy(), np.min(fsim, axis=1), fcalls, iterations)


def minimize_many(f_many: ManyObjective, x0s: np.ndarray,
                  bounds: Sequence[tuple[float | None, float | None]] | None, xatol: float,
                  fatol: float, maxiter: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Minimisers (B, N) and minima (B,) of B problems, as scipy's bounded Nelder-Mead gives them.

    See :func:`nelder_mead_many`; ``f_many(X, problems)`` evaluates points of many problems in
    one call.
    """
    res = nelder_mead_many(f_many, x0s, bounds, xatol=xatol, fatol=fatol, maxiter=maxiter)
    return res.x, res.fun
