"""GPU check of the transformers backend (run on a CUDA machine; CI never has one).

    python benchmarks/gpu_check.py MODEL_DIR [--out DIR]

MODEL_DIR is any Hugging Face chat model directory. Checks, and prints as a table: the backend
picks CUDA and bfloat16 by itself; batched scoring equals one-at-a-time scoring (float32);
bfloat16 option probabilities agree with float32; seeded generation repeats; a sequential game is
played by sampled episodes; the whole pipeline (all registered studies, one wording) runs on the
GPU and writes its report. Timings of float32 vs bfloat16 scoring are printed as ratios.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch

from subrational.backends.hf import TransformersBackend
from subrational.cache import CachedBackend
from subrational.config import RunConfig
from subrational.elicitation import SampleSettings
from subrational.elicitation import elicit as _elicit
from subrational.experiments import make
from subrational.pipeline import run
from subrational.studies.ultimatum import Ultimatum


def elicit(*args, **kwargs):
    """The first wording only: this script checks the device path, not the paraphrases."""
    return _elicit(*args, paraphrases=1, **kwargs)


def _p_first(scores) -> list[float]:
    return [math.exp(s.logprobs[0]) / sum(math.exp(x) for x in s.logprobs) for s in scores]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--out", type=Path, default=Path("runs/gpu-check"))
    parser.add_argument("--cpu", action="store_true", help="dry run of this script on a CPU")
    args = parser.parse_args()
    assert args.cpu or torch.cuda.is_available(), "no CUDA device"
    exp = Ultimatum()
    personas = list(exp.personas.values())
    auto = TransformersBackend(str(args.model_dir))
    print(f"device={auto.device} dtype={auto.dtype}")
    assert args.cpu or (auto.device == "cuda" and auto.dtype == "bfloat16")

    rows = {}
    for dtype in ("float32", "bfloat16"):
        backend = TransformersBackend(str(args.model_dir), dtype=dtype, batch_size=64)
        backend.score([])
        start = time.perf_counter()
        demo = elicit(exp, personas, CachedBackend(backend, None))
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        rows[dtype] = (time.perf_counter() - start, [r.probs[0] for r in demo])
        if dtype == "float32":
            from subrational.backends.base import ScoreRequest
            from subrational.elicitation import render

            reqs = [ScoreRequest(render(exp, p, s, (0, 1), method="choice-probs"), exp.actions)
                    for p in personas for s in exp.states()[:8]]
            batched = backend.score(reqs)
            backend.batch_size = 1
            single = [backend.score([r])[0] for r in reqs]
            diff = max(abs(a - b) for x, y in zip(batched, single, strict=True)
                       for a, b in zip(x.logprobs, y.logprobs, strict=True))
            print(f"float32 batched vs one-at-a-time: max |d logprob| = {diff:.2e}")
            assert diff < 1e-3
        backend.close()
    agree = max(abs(a - b) for a, b in zip(rows["float32"][1], rows["bfloat16"][1], strict=True))
    print(f"bfloat16 vs float32: max |d P(accept)| = {agree:.4f}")
    assert agree < 0.05

    gen = TransformersBackend(str(args.model_dir), batch_size=8)
    cb = CachedBackend(gen, None)
    settings = SampleSettings(samples=2, max_tokens=24)
    first = elicit(Ultimatum(step=0.5), personas[:1], cb, method="sample", settings=settings)
    again = elicit(Ultimatum(step=0.5), personas[:1], cb, method="sample", settings=settings)
    assert [r.texts for r in first] == [r.texts for r in again], "seeded generation differs"
    print("seeded generation repeats: yes")

    game = make("double_or_nothing")
    episodes = elicit(game, [game.persona("stake-100")], cb, method="sample", settings=settings)
    draws = sum(r.n_draws for r in episodes)
    print(f"sampled episodes of a sequential game: {len(episodes)} cells, {draws} draws, "
          f"{sum(r.n_failed for r in episodes)} unparseable")
    assert draws >= 4  # two episodes per option order start at round 0

    start = time.perf_counter()
    result = run(RunConfig(model=f"transformers:{args.model_dir}", paraphrases=1, bootstrap=50,
                           episodes=500, out=args.out), out=args.out)
    print(f"pipeline on GPU: {len(result.results)} studies, {time.perf_counter() - start:.1f} s, "
          f"report {result.out}/report.html")
    assert (args.out / "report.html").exists()

    base = rows["bfloat16"][0]
    print(f"\n{'scoring 126 cells':<28} {'seconds':>8} {'x bfloat16':>11}")
    for dtype, (seconds, _) in rows.items():
        print(f"{dtype:<28} {seconds:>8.3f} {seconds / base:>11.2f}")


if __name__ == "__main__":
    main()
