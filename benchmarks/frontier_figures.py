"""The API path's figures: a sampled four-study run against the reasoning-model test server, and
fault injection (transient and persistent), each against a fault-free run. Prints tables.

    .venv/bin/python benchmarks/frontier_figures.py [--samples 2] [--paraphrases 1]

Everything runs against the repository's test servers (``tests/openai_server.py``: real HTTP on
127.0.0.1, the official SDK) with the ``people_like`` answers of the test suite, so no key and no
money is needed; the calls, tokens and failures are what subrational records (``manifest.json``),
and the cost is at the shipped price of the model id the server announces (``o3-mini``).
Retries back off 5 ms instead of 0.5 s, so that the fault runs finish in minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "pipeline")]

from test_failed_calls_run import doomed  # noqa: E402
from test_openai_run import people_like  # noqa: E402

import subrational.pipeline as pipeline  # noqa: E402
from openai_server import FAULTS, FakeOpenAIServer  # noqa: E402
from subrational.cli import main as cli  # noqa: E402

STUDIES = {"ultimatum": "fair", "marshmallow": "age-4", "double_or_nothing": "stake-100",
           "procrastination": "gpa-3.5"}


def _quick_retries() -> None:
    real = pipeline.build_backend

    def build(config):
        backend = real(config)
        backend._loop.retry_backoff = 0.005
        return backend

    pipeline.build_backend = build


def _run(srv, out: Path, cache: Path, model: str, args: list[str]) -> tuple[int, float, str]:
    import os

    os.environ["SUBRATIONAL_CACHE_DIR"] = str(cache)
    err = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = cli(["run", *STUDIES, "--model", model, "--base-url", srv.base_url, *args,
                    "--no-progress", "--out", str(out)])
    return code, time.perf_counter() - start, err.getvalue()


def _plan(srv, cache: Path, model: str, args: list[str]) -> str:
    import os

    os.environ["SUBRATIONAL_CACHE_DIR"] = str(cache)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        cli(["plan", *STUDIES, "--model", model, "--base-url", srv.base_url, *args])
    return out.getvalue()


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def reasoning(tmp: Path, args: list[str]) -> None:
    """A sampled four-study run against the reasoning-model server."""
    with FakeOpenAIServer(people_like, reasoning=True, json_schema=True,
                          models=("o3-mini",)) as srv:
        plan = _plan(srv, tmp / "rc", "openai:o3-mini", args)
        code, seconds, err = _run(srv, tmp / "reasoning", tmp / "rc", "openai:o3-mini", args)
        sent = srv.requests
    manifest = _json(tmp / "reasoning" / "manifest.json")
    calls, cost = manifest["calls"], manifest["cost"]
    print("## Sampled four-study run, reasoning-model server (o3-mini, JSON-schema answers)")
    print(f"exit code {code}, {seconds:.0f} s; HTTP requests the server received: {sent}")
    print("plan before the run (its total line):")
    print("\n".join("    " + line for line in plan.splitlines() if line.startswith("total")))
    print(f"model calls {calls['model_calls']}, failed {calls.get('failed_calls', 0)}, "
          f"retries {calls['retries']['total']}; price {cost.get('price')}")
    print(f"{'study':<22} {'calls':>6} {'input':>8} {'cached in':>9} {'output':>7} "
          f"{'reasoning':>9} {'USD':>9}")
    rows = [*cost.get("studies", {}).items(), ("total", cost["total"])]
    for sid, study in rows:
        paid = study.get("this_run") or {}
        print(f"{sid:<22} {study.get('calls', calls['model_calls']):>6} "
              f"{paid.get('input_tokens', 0):>8,} {paid.get('cached_input_tokens', 0):>9,} "
              f"{paid.get('output_tokens', 0):>7,} {paid.get('reasoning_tokens', 0):>9,} "
              f"{paid.get('cost_usd') or 0:>9.4f}")
    print()


def transient(tmp: Path, args: list[str]) -> None:
    """30 % mixed faults on first attempts: the summary must equal the fault-free one."""
    with FakeOpenAIServer(people_like) as srv:
        _run(srv, tmp / "clean", tmp / "c-clean", "openai:capable", args)
    with FakeOpenAIServer(people_like, faults=FAULTS, fault_rate=0.3, fault_seed=7,
                          hang_seconds=1.5) as srv:
        code, seconds, err = _run(srv, tmp / "faulty", tmp / "c-faulty", "openai:capable",
                                  [*args, "--timeout", "1"])
        injected, sent = dict(srv.injected), srv.requests
    manifest = _json(tmp / "faulty" / "manifest.json")
    same = (tmp / "faulty" / "summary.json").read_text() == \
        (tmp / "clean" / "summary.json").read_text()
    print("## Transient faults: 30 % of first attempts, every kind of tests/openai_server.py")
    print(f"exit code {code}, {seconds:.0f} s; requests {sent}, model calls "
          f"{manifest['calls']['model_calls']}, failed {manifest['calls']['failed_calls']}")
    print(f"injected {sum(injected.values())}: {json.dumps(injected, sort_keys=True)}")
    print(f"retries: {json.dumps(manifest['calls']['retries'])}")
    print(f"summary.json identical to the fault-free run: {same}")
    print()


def persistent(tmp: Path, args: list[str]) -> None:
    """A sixth of the prompts fail every attempt; then the server recovers."""
    srv = FakeOpenAIServer(people_like, fault_if=doomed(6), faults_per_request=99)
    with srv:
        code, seconds, err = _run(srv, tmp / "doomed", tmp / "c-doomed", "openai:capable", args)
        first = srv.requests
        summary = _json(tmp / "doomed" / "summary.json")
        srv.fault_if = None
        again, seconds2, _ = _run(srv, tmp / "doomed", tmp / "c-doomed", "openai:capable", args)
        retried = srv.requests - first
    same = (tmp / "doomed" / "summary.json").read_text() == \
        (tmp / "clean" / "summary.json").read_text()
    print("## Persistent faults: the prompts hashing to 0 mod 6 fail every attempt (HTTP 500)")
    failed = summary["failed_calls"]["calls"]
    print(f"first run: exit code {code}, {seconds:.0f} s, {first} requests, {failed} calls "
          "failed after 5 retries; per study: " + ", ".join(
              f"{k} {v['failed_calls']['calls']}" for k, v in summary["experiments"].items()
              if "failed_calls" in v))
    print(f"same command after the server recovered: exit code {again}, {seconds2:.0f} s, "
          f"{retried} requests sent; summary.json identical to the fault-free run: {same}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", default="2")
    parser.add_argument("--paraphrases", default="1")
    parsed = parser.parse_args()
    _quick_retries()
    personas = [a for name in STUDIES.values() for a in ("--persona", name)]
    common = ["--method", "sample", "--samples", parsed.samples, "--paraphrases",
              parsed.paraphrases, "--episodes", "300", "--bootstrap", "20", *personas]
    with tempfile.TemporaryDirectory(prefix="subrational-figures-") as tmp:
        reasoning(Path(tmp), common)
        transient(Path(tmp), common)
        persistent(Path(tmp), common)


if __name__ == "__main__":
    main()
