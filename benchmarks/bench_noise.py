"""float32 vs bfloat16 on the embedded model: seconds, numerical noise floor, offer effect.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_noise.py [--persona fair]

For each dtype, in one process: the seconds to score the ultimatum grid for one persona and one
wording (21 offers x 2 option orders = 42 cells, batches of 16, model loaded beforehand); the
noise floor on those 42 cells (the same prompts scored one at a time, max and mean
|ΔP(accept)|); the noise floor the pipeline records (its 16 fixed prompts across the three
default personas); and the spread of P(accept) across the 21 offers (max - min of the
order-averaged answer), the "offer effect" a report reads. Timings vary with machine load; read
them side by side.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from subrational.backends.base import ScoreRequest
from subrational.backends.hf import TransformersBackend
from subrational.backends.noise import first_option_probability, measure_noise_floor
from subrational.cache import CachedBackend
from subrational.elicitation import elicit
from subrational.elicitation.noise import noise_requests
from subrational.experiments import make


def _offer_spread(rows) -> float:
    by_offer: dict[float, list[float]] = {}
    for row in rows:
        by_offer.setdefault(row.state.offer, []).append(row.probs[0])
    means = [float(np.mean(v)) for v in by_offer.values()]
    return max(means) - min(means)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persona", default="fair")
    args = parser.parse_args()
    os.environ.setdefault("SUBRATIONAL_CACHE_DIR", tempfile.mkdtemp(prefix="subrational-bench-"))
    exp = make("ultimatum")
    persona = [exp.persona(args.persona)]
    header = (f"{'dtype':<9} {'seconds (42 cells)':>19} {'42 cells: max |dP|':>19} "
              f"{'mean':>7} {'pipeline 16: max':>17} {'mean':>7} {'offer spread':>13}")
    lines = []
    for dtype in ("float32", "bfloat16"):
        backend = TransformersBackend("smollm2", batch_size=16, device="cpu", dtype=dtype)
        backend.score([])  # load outside the timing
        start = time.perf_counter()
        rows = elicit(exp, persona, CachedBackend(backend, None), paraphrases=1)
        seconds = time.perf_counter() - start
        single = [backend.score([r])[0] for r in _requests(exp, persona)]
        # Requests list the options in action order (the prompt shows the shuffle): P(accept).
        diffs = [abs(row.probs[0] - first_option_probability(s))
                 for row, s in zip(rows, single, strict=True)]
        floor = measure_noise_floor(backend, noise_requests(exp, list(exp.personas.values())))
        lines.append(f"{dtype:<9} {seconds:>19.2f} {max(diffs):>19.1e} {np.mean(diffs):>7.1e} "
                     f"{floor.max:>17.1e} {floor.mean:>7.1e} {_offer_spread(rows):>13.3f}")
        print(lines[-1], flush=True)
        backend.close()
    print(f"\n{header}")
    print("\n".join(lines))


def _requests(exp, personas):
    """The 42 requests ``elicit`` made, in its order (same cells, same rendering)."""
    from subrational.elicitation.elicit import _cells

    return [ScoreRequest(c.prompt(exp, "choice-probs"), exp.actions)
            for c in _cells(exp, personas, 1)]


if __name__ == "__main__":
    main()
