"""Throughput of the HTTP path as a ratio of the server's own capacity, measured in one run.

    .venv/bin/python benchmarks/bench_http.py [--delay 0.02] [--repeats 3] [--in-flight 1 8 32]
    .venv/bin/python benchmarks/bench_http.py --url http://127.0.0.1:8080/v1 --model NAME

The server is the repository's OpenAI-compatible test server (``tests/openai_server.py``, real
HTTP on 127.0.0.1, in a process of its own as a real server is) answering every request after
``--delay`` seconds, as a model would. Its own
capacity at N in flight is what a bare client gets from it: N asyncio workers posting the very
bodies subrational sends with one ``httpx.AsyncClient`` (no SDK, no parsing, no retries). The
subrational side is the whole path a run takes: the ultimatum game's 126 scoring calls (three
personas, 21 offers, two option orders, one wording) through ``elicit`` and ``OpenAIBackend``
(a direct JSON POST through the SDK's HTTP client, pipelined pool, reply checks), without the
cache. Each concurrency is measured ``--repeats`` times, the bare client and subrational in
turn; the table prints the median ratio and its range. Both share the machine with the
server, so a heavier client also slows the server: that is part of what is measured.
Timings vary with load; read the ratios. With ``--url`` the server is one already running
(llama.cpp's, vLLM's), measured the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx  # the HTTP client the openai SDK is built on

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from openai_server import FakeOpenAIServer  # noqa: E402
from subrational.backends.openai_api import OpenAIBackend  # noqa: E402
from subrational.cache import CachedBackend  # noqa: E402
from subrational.elicitation import elicit  # noqa: E402
from subrational.studies.ultimatum import Ultimatum  # noqa: E402


def _handler(messages):
    return {"Accept": 0.6, "Reject": 0.4}


def ours(url: str, in_flight: int, model: str = "bench") -> tuple[float, int]:
    """Calls per second of subrational's whole scoring path, and the calls it made."""
    exp = Ultimatum()
    personas = [exp.persona(name) for name in exp.default_personas]
    backend = OpenAIBackend(model, base_url=url, max_concurrency=in_flight,
                            notify=lambda line: None)
    try:
        elicit(exp, personas[:1], CachedBackend(backend, None), paraphrases=1)  # warm up
        cached = CachedBackend(backend, None)
        start = time.perf_counter()
        elicit(exp, personas, cached, paraphrases=1)
        seconds = time.perf_counter() - start
        calls = cached.stats.calls
    finally:
        backend.close()
    return calls / seconds, calls


def serve(delay: float) -> None:
    """The server process: print the URL, serve until stdin closes."""
    with FakeOpenAIServer(_handler, delay=delay) as srv:
        print(srv.base_url, flush=True)
        sys.stdin.read()


def bare(url: str, bodies: list[dict], in_flight: int) -> float:
    """Calls per second a bare asyncio client gets for ``bodies`` at ``in_flight``."""
    async def drive() -> float:
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
            await client.post("/chat/completions", json=bodies[0])  # warm up
            jobs = iter(bodies)

            async def worker() -> None:
                for body in jobs:
                    reply = await client.post("/chat/completions", json=body)
                    reply.raise_for_status()
                    reply.json()

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(in_flight)))
            return len(bodies) / (time.perf_counter() - start)

    return asyncio.run(drive())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.02,
                        help="seconds the server takes per request (a model's latency)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--in-flight", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--url", help="a running OpenAI-compatible server to measure instead "
                        "(e.g. llama.cpp's or vLLM's, http://127.0.0.1:8080/v1)")
    parser.add_argument("--model", default="bench", help="the model id to ask --url for")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.delay)
        return
    with FakeOpenAIServer(_handler) as recorder:  # the bodies a run sends
        ours(recorder.base_url, 8, args.model)
        bodies = recorder.bodies[-126:]
    server_process = None if args.url else subprocess.Popen(
        [sys.executable, __file__, "--serve", "--delay", str(args.delay)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    rows = []
    try:
        url = args.url or server_process.stdout.readline().strip()
        for n in args.in_flight:
            server, client, ratios = [], [], []
            for _ in range(args.repeats):
                server.append(bare(url, bodies, n))
                rate, calls = ours(url, n, args.model)
                client.append(rate)
                ratios.append(client[-1] / server[-1])
            rows.append((n, statistics.median(server), statistics.median(client),
                         statistics.median(ratios), min(ratios), max(ratios), calls))
    finally:
        if server_process is not None:
            server_process.stdin.close()
            server_process.wait(timeout=10)
    where = (f"{args.url}, model {args.model}" if args.url else
             f"tests/openai_server.py, {args.delay * 1000:.0f} ms per request")
    print(f"server: {where}; {args.repeats} repeats; ultimatum scoring, {rows[0][-1]} calls "
          "per pass")
    print(f"{'in flight':>9} | {'server capacity':>16} | {'subrational':>12} | "
          f"{'ratio (median)':>14} | range")
    print("-" * 74)
    for n, cap, got, ratio, low, high, _ in rows:
        print(f"{n:>9} | {cap:>10.1f} calls/s | {got:>6.1f} calls/s | {ratio:>14.2f} | "
              f"{low:.2f}-{high:.2f}")


if __name__ == "__main__":
    main()
