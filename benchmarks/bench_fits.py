"""Structural calibration with its bootstrap: per-replicate scipy refits vs the lockstep refits.

    .venv/bin/python benchmarks/bench_fits.py [--boot 200] [--repeat 1]

Per built-in structural model (each study's grid, its first persona), one
:func:`~subrational.evaluation.structural.calibrate` call with ``n_boot`` replicates on answers
simulated from the model itself near its starting values, asked in 8 wording x order blocks:
``sample`` (10 binomial draws per state and block: the binomial bootstrap) and ``choice-probs``
(a logit block effect N(0, 0.3^2): the cluster bootstrap). "scipy" refits each replicate with
its own ``scipy.optimize.minimize`` (the old path, ``structural._LOCKSTEP = False``);
"lockstep" refits all of them together (:func:`~subrational.evaluation.batched_nm.minimize_many`).
Each time is the fastest of ``--repeat`` calls, all in one process; the ratio is scipy /
lockstep, and "same" says whether the two fits are equal in every estimate and interval. "fit s"
is the same call with ``n_boot = 0`` (the full-data fit from several starts, unchanged), and
"boot x" the ratio of the bootstrap's own times (each path's time less "fit s").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from subrational.evaluation import structural
from subrational.evaluation.structural import Observations, StructuralFit, calibrate
from subrational.experiments import make, study

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support import simulated_answers  # noqa: E402

STUDIES = ("ultimatum", "marshmallow-v1", "marshmallow-v2", "double_or_nothing-v1",
           "double_or_nothing-v2", "procrastination-v1", "procrastination-v2")
BLOCKS, DRAWS, SIGMA = 8, 10, 0.3


def timed(model: structural.StructuralModel, obs: Observations, persona: Any, *, boot: int,
          lockstep: bool, repeat: int) -> tuple[float, StructuralFit]:
    """Fastest of ``repeat`` calibrate calls on one path, and the fit it gave."""
    structural._LOCKSTEP = lockstep
    best, fit = float("inf"), None
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            fit = calibrate(model, obs, persona, source="bench", n_boot=boot,
                            rng=np.random.default_rng(0))
            best = min(best, time.perf_counter() - start)
    finally:
        structural._LOCKSTEP = True
    assert fit is not None
    return best, fit


def same(a: StructuralFit, b: StructuralFit, tol: float = 1e-9) -> bool:
    """Every estimate and interval end equal within ``tol`` (NaN equal to NaN)."""
    def close(x: float | None, y: float | None) -> bool:
        if x is None or y is None:
            return x is y
        return bool(np.isnan(x) and np.isnan(y)) or abs(x - y) <= tol

    return all(close(getattr(e, f), getattr(g, f))
               for e, g in zip(a.estimates, b.estimates, strict=True)
               for f in ("value", "ci_low", "ci_high"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boot", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"calibrate, n_boot = {args.boot}, fastest of {args.repeat}")
    print(f"{'model':<58} {'method':<12} {'scipy s':>8} {'lockstep s':>10} {'ratio':>6} "
          f"{'fit s':>6} {'boot x':>6} same")
    totals = [0.0, 0.0, 0.0]
    for name in STUDIES:
        game = make(name)
        persona = next(iter(game.personas.values()))
        grid = tuple(game.states())
        for model in study(game.id).models(game):
            for method in ("sample", "choice-probs"):
                obs = simulated_answers(model, persona, grid, method, np.random.default_rng(1),
                                        blocks=BLOCKS, draws=DRAWS, sigma=SIGMA)
                old, fit_old = timed(model, obs, persona, boot=args.boot, lockstep=False,
                                     repeat=args.repeat)
                new, fit_new = timed(model, obs, persona, boot=args.boot, lockstep=True,
                                     repeat=args.repeat)
                fixed, _ = timed(model, obs, persona, boot=0, lockstep=True,
                                 repeat=args.repeat)
                totals[0] += old
                totals[1] += new
                totals[2] += fixed
                label = f"{game.id}: {model.name}"[:58]
                print(f"{label:<58} {method:<12} {old:8.2f} {new:10.2f} {old / new:6.1f} "
                      f"{fixed:6.2f} {(old - fixed) / (new - fixed):6.1f} "
                      f"{'yes' if same(fit_old, fit_new) else 'NO'}")
    old, new, fixed = totals
    print(f"{'total':<58} {'':<12} {old:8.2f} {new:10.2f} {old / new:6.1f} {fixed:6.2f} "
          f"{(old - fixed) / (new - fixed):6.1f}")


if __name__ == "__main__":
    main()
