"""Sampled draws per second: each distinct prompt encoded once for all its draws, or per draw.

    .venv/bin/python benchmarks/bench_draws.py [--offers 0.1 0.3 0.5 0.7 0.9] [--samples 10]
        [--max-tokens 160] [--batch-size 16] [--rounds 2]

The embedded SmolLM2-135M (float32) is loaded once and generates the ultimatum's sample-method
requests for the typical persona (the offers given, the first wording, both option orders,
``--samples`` draws per cell, as ``subrational run --method sample`` asks them: a cell's draws
are adjacent), alternately with ``prefix_sharing=False`` (every draw encodes its whole prompt, as
before) and ``True`` (one prefill of each distinct prompt, its KV cache expanded to its draws).
Printed: draws per second (the best of ``--rounds``), prompt tokens asked and encoded, and how
many texts equal the whole-prompt ones (sampling is seeded per batch, so they differ only where
float32 rounding of the logits tips a draw). Timings move with load; read the ratio.
"""

from __future__ import annotations

import argparse
import time

from subrational.backends.base import GenerateRequest
from subrational.backends.hf import TransformersBackend
from subrational.elicitation.elicit import _cells
from subrational.studies.ultimatum import Ultimatum, UltimatumState


def requests_of(offers: list[float], samples: int, max_tokens: int) -> list[GenerateRequest]:
    """The sample plan of the typical persona at ``offers`` (first wording, both orders)."""
    game = Ultimatum()
    game._grid = tuple(UltimatumState(o) for o in offers)  # same prompts as the full game
    cells = _cells(game, [game.persona("typical")], 1)
    return [GenerateRequest(c.prompt(game, "sample"), temperature=1.0, max_tokens=max_tokens,
                            seed=c.seed(0, d), options=game.actions)
            for c in cells for d in range(samples)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--offers", type=float, nargs="+", default=[0.1, 0.3, 0.5, 0.7, 0.9])
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    requests = requests_of(args.offers, args.samples, args.max_tokens)
    backend = TransformersBackend("smollm2", batch_size=args.batch_size, dtype="float32")
    backend.generate(requests[:1])  # load (and warm) the model outside the timings
    best: dict[bool, float] = {}
    work: dict[bool, dict[str, int]] = {}
    texts: dict[bool, list[str]] = {}
    for _ in range(args.rounds):
        for sharing in (False, True):
            backend.prefix_sharing = sharing
            backend.work = dict.fromkeys(backend.work, 0)
            start = time.perf_counter()
            texts[sharing] = backend.generate(requests)
            best[sharing] = min(best.get(sharing, float("inf")), time.perf_counter() - start)
            work[sharing] = dict(backend.work)
    same = sum(a == b for a, b in zip(texts[False], texts[True], strict=True))
    print(f"{len(requests)} draws ({len(requests) // args.samples} cells x {args.samples}), "
          f"max {args.max_tokens} new tokens, batch {args.batch_size}, best of {args.rounds}\n")
    print("| prompts | s | draws/s | prompt tokens | encoded | texts equal | speed-up |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for sharing in (False, True):
        w = work[sharing]
        print(f"| {'each distinct prompt once' if sharing else 'every draw whole'} | "
              f"{best[sharing]:.1f} | {len(requests) / best[sharing]:.2f} | "
              f"{w['generate_prompt_tokens']:,} | {w['generate_encoded_tokens']:,} | "
              f"{same if sharing else len(requests)}/{len(requests)} | "
              f"{best[False] / best[sharing]:.2f} |")


if __name__ == "__main__":
    main()
