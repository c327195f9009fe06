"""Paper-faithful mode vs fast mode: how far N sampled answers are from the exact distribution.

    .venv/bin/python benchmarks/bench_sampling.py [--model transformers:smollm2]
        [--offers 0.1 0.3 0.5] [--persona typical] [--max-n 50]

On one model, in one process: the exact option distribution (choice-probs, one scoring call
per cell) and the paper's method (N chain-of-thought answers at temperature 1, parsed, Jeffreys-
smoothed) for N = 5, 10, 20, 50, on the same ultimatum cells (offers x both option orders, the
first wording). Draws are seeded per index, so N = 5 is the first five of the N = 50 draws and
each step only pays for the new ones; the cost column is cumulative. The noise floor is the TV
that as many draws from the *exact* distribution as were parsed would show by chance
(simulated), so the gap between the two columns is the method's own bias: a chain of thought
does not end where the first token points. Unparseable answers are not counted (never guessed):
a model that rarely ends with a valid answer gets little data per call.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from subrational.backends.registry import create_backend
from subrational.cache import Cache, CachedBackend
from subrational.elicitation import SampleSettings, elicit, jeffreys
from subrational.studies.ultimatum import Ultimatum, UltimatumState

NS = (5, 10, 20, 50)


class _Grid(Ultimatum):
    """The ultimatum game restricted to a few offers (same prompts as the full game)."""

    def __init__(self, offers: list[float]) -> None:
        super().__init__()
        self._grid = tuple(UltimatumState(o) for o in offers)


def _cell_probs(rows) -> dict[tuple, np.ndarray]:
    return {(r.state, r.variant): np.asarray(r.probs) for r in rows}


def _noise_floor(exact: dict[tuple, np.ndarray], parsed: dict[tuple, int],
                 rng: np.random.Generator) -> float:
    """Mean TV of a Jeffreys estimate from as many exact draws as were parsed, per cell."""
    tvs = []
    for key, p in exact.items():
        for _ in range(200):
            counts = rng.multinomial(parsed[key], p)
            tvs.append(0.5 * np.abs(jeffreys(counts) - p).sum())
    return float(np.mean(tvs))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="transformers:smollm2")
    parser.add_argument("--base-url", default=None)
    parser.add_argument("--offers", type=float, nargs="+", default=[0.1, 0.3, 0.5])
    parser.add_argument("--persona", default="typical")
    parser.add_argument("--max-n", type=int, default=50)
    parser.add_argument("--max-tokens", type=int, default=160)
    args = parser.parse_args()
    # A fresh cache: every call below is really made (the de-quantised model is shared).
    models = os.environ.get("SUBRATIONAL_CACHE_DIR")
    os.environ["SUBRATIONAL_CACHE_DIR"] = tempfile.mkdtemp(prefix="subrational-bench-")
    if models:
        os.symlink(os.path.join(models, "models"), os.path.join(os.environ[
            "SUBRATIONAL_CACHE_DIR"], "models"))
    game = _Grid(args.offers)
    persona = [game.persona(args.persona)]
    options = {"base_url": args.base_url} if args.base_url else {}
    backend = CachedBackend(create_backend(args.model, **options), Cache())
    backend.backend.score([])  # load the model outside the timings
    start = time.perf_counter()
    exact = _cell_probs(elicit(game, persona, backend, paraphrases=1))
    rows = [("exact (choice-probs)", 0.0, 0.0, backend.stats.calls,
             time.perf_counter() - start, 0.0)]
    spent, rng = 0.0, np.random.default_rng(0)
    for n in [n for n in NS if n <= args.max_n]:
        start = time.perf_counter()
        sampled = elicit(game, persona, backend, method="sample", paraphrases=1,
                         settings=SampleSettings(samples=n, max_tokens=args.max_tokens))
        spent += time.perf_counter() - start
        probs = _cell_probs(sampled)
        parsed = {(r.state, r.variant): r.n_draws - r.n_failed for r in sampled}
        tv = float(np.mean([0.5 * np.abs(probs[k] - exact[k]).sum() for k in exact]))
        failed = sum(r.n_failed for r in sampled) / max(1, sum(r.n_draws for r in sampled))
        rows.append((f"sample N={n}", tv, _noise_floor(exact, parsed, rng), n * len(exact),
                     spent, failed))
    print(f"\nmodel {args.model}, persona {args.persona}, offers {args.offers}, "
          f"{len(exact)} cells (offers x option orders)")
    print(f"{'method':<22} {'mean TV to exact':>17} {'noise floor':>12} {'calls':>7} "
          f"{'seconds':>9} {'x exact time':>13} {'parse fail':>11}")
    base = rows[0][4]
    for name, tv, floor, calls, seconds, failed in rows:
        print(f"{name:<22} {tv:>17.3f} {floor:>12.3f} {calls:>7} {seconds:>9.1f} "
              f"{seconds / base:>13.1f} {failed:>11.2f}")


if __name__ == "__main__":
    main()
