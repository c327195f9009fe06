"""Elicitation speed on the embedded model: prints a table of ratios measured in one run.

    .venv/bin/python benchmarks/bench_elicitation.py [--persona fair]

Compares, on the same machine in the same process: float32 vs bfloat16 scoring, batch size 1 vs
16, scoring (choice-probs) vs sampling 10 chain-of-thought answers (the paper's method) per cell,
and a cold model call vs a cache replay. Timings vary with machine load; ratios are what to read.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from subrational.backends.hf import TransformersBackend
from subrational.cache import Cache, CachedBackend
from subrational.elicitation import SampleSettings
from subrational.elicitation import elicit as _elicit
from subrational.studies.ultimatum import Ultimatum


def elicit(*args, **kwargs):
    """One wording only: this benchmark times the methods, not the paraphrase factor."""
    return _elicit(*args, paraphrases=1, **kwargs)


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persona", default="fair")
    parser.add_argument("--sample-cells", type=int, default=2,
                        help="cells sampled to estimate the sample method's cost")
    args = parser.parse_args()
    os.environ["SUBRATIONAL_CACHE_DIR"] = tempfile.mkdtemp(prefix="subrational-bench-")
    exp = Ultimatum()
    personas = [exp.persona(args.persona)]
    n_cells = len(exp.states()) * 2
    rows: list[tuple[str, float, str]] = []

    backends = {}
    for dtype in ("float32", "bfloat16"):
        backend = TransformersBackend("smollm2", batch_size=16, dtype=dtype)
        backend.score([])  # load outside the timing (de-quantises once, then cached)
        backends[dtype] = backend
        seconds, _ = _timed(lambda b=backend: elicit(exp, personas, CachedBackend(b, None)))
        rows.append((f"choice-probs, {dtype}, batch 16", seconds, f"{n_cells} cells"))
    fast = backends["bfloat16"]
    backends["float32"].close()

    fast.batch_size = 1
    seconds, _ = _timed(lambda: elicit(exp, personas, CachedBackend(fast, None)))
    rows.append(("choice-probs, bfloat16, batch 1", seconds, f"{n_cells} cells"))
    fast.batch_size = 16

    small = Ultimatum(step=1.0 / (args.sample_cells - 1)) if args.sample_cells > 1 else exp
    settings = SampleSettings(samples=10, max_tokens=160)
    seconds, _ = _timed(lambda: elicit(small, personas, CachedBackend(fast, None),
                                       method="sample", settings=settings))
    cells = len(small.states()) * 2
    rows.append(("sample N=10, bfloat16 (per-cell cost x cells)", seconds / cells * n_cells,
                 f"extrapolated from {cells} cells"))

    cache = Cache()
    seconds, _ = _timed(lambda: elicit(exp, personas, CachedBackend(fast, cache)))
    rows.append(("choice-probs, cold cache (calls + writes)", seconds, f"{n_cells} cells"))
    replay = CachedBackend(TransformersBackend("smollm2", dtype="bfloat16"), cache, offline=True)
    seconds, _ = _timed(lambda: elicit(exp, personas, replay))
    rows.append(("choice-probs, cache replay (model never loaded)", seconds, f"{n_cells} cells"))

    base = rows[1][1]
    print(f"\n{'configuration':<50} {'seconds':>9} {'x bf16 batch 16':>16}  note")
    for name, seconds, note in rows:
        print(f"{name:<50} {seconds:>9.2f} {seconds / base:>16.2f}  {note}")


if __name__ == "__main__":
    main()
