"""Command line: ``subrational run`` and ``subrational list``.

User mistakes (unknown names, bad values, missing keys or model files) print one line and exit
with code 2; Ctrl-C exits 130 and loses nothing that finished (the cache holds it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import NoReturn

from . import __version__
from .errors import SubrationalError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        """Print one line that says what to do next, exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="subrational", description="Learn human-like decision policies from "
                     "persona-conditioned LLM demonstrations (arXiv 2402.08755).")
    parser.add_argument("--version", action="version", version=f"subrational {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="elicit, learn, evaluate and write a report")
    run.add_argument("experiments", nargs="*", metavar="EXPERIMENT",
                     help="experiments to run (default: all; see `subrational list`)")
    run.add_argument("--model", default=None,
                     help="backend:name, e.g. transformers:smollm2 (default), openai:gpt-4o, "
                          "transformers:/path/model.gguf")
    run.add_argument("--base-url", default=None,
                     help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1")
    run.add_argument("--method", default="choice-probs", help="choice-probs (default) or sample")
    run.add_argument("--samples", type=int, default=10, help="draws per cell for --method sample")
    run.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    run.add_argument("--max-tokens", type=int, default=160, help="tokens per sampled answer")
    run.add_argument("--persona", action="append", default=[], dest="personas",
                     help="persona to elicit (repeatable; default: the experiment's personas)")
    run.add_argument("--loss", default="paper", help="imitation loss: paper (default) or kl")
    run.add_argument("--seed", type=int, default=0, help="seed for sampling and training")
    run.add_argument("--concurrency", type=int, default=16, dest="max_concurrency",
                     help="requests in flight (remote) or batch size (local)")
    run.add_argument("--dtype", default="auto",
                     help="local models: auto (bfloat16 on hardware with bf16 units), float32, "
                          "bfloat16")
    run.add_argument("--out", type=Path, default=None, help="run directory (default: runs/<time>)")
    run.add_argument("--offline", action="store_true",
                     help="replay from the cache only; fail on any call not cached")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    sub.add_parser("list", help="experiments, personas, backends, methods and losses")
    return parser


def _progress_bar(enabled: bool):
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=0, unit="call", desc="model calls", dynamic_ncols=True, file=sys.stderr)

    def update(done: int, total: int, label: str) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar.close


def _cmd_run(args: argparse.Namespace) -> int:
    from .backends.registry import DEFAULT_MODEL
    from .config import RunConfig
    from .pipeline import run

    out = args.out or Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    config = RunConfig(experiments=args.experiments, personas=args.personas,
                       model=args.model or DEFAULT_MODEL, base_url=args.base_url,
                       method=args.method, samples=args.samples, temperature=args.temperature,
                       max_tokens=args.max_tokens, seed=args.seed, loss=args.loss, out=out,
                       offline=args.offline, max_concurrency=args.max_concurrency,
                       dtype=args.dtype)
    from .pipeline import resolve_experiments

    for experiment in resolve_experiments(config):  # unknown names fail before any work
        for name in config.personas:
            experiment.persona(name)
    update, close = _progress_bar(not args.no_progress and sys.stderr.isatty())
    try:
        result = run(config, out=out, progress=update)
    finally:
        close()
    _print_summary(result)
    return 0


def _print_summary(result) -> None:
    calls = result.manifest["calls"]
    print(f"{calls['model_calls']} model calls, {calls['cache_hits']} from the cache, "
          f"{result.manifest['wall_seconds']} s")
    for exp_id, exp in result.summary["experiments"].items():
        for f in exp["findings"]:
            if f["kind"] == "paper" and f["source"] in ("demonstrations", "policy"):
                mark = {True: "reproduced", False: "NOT reproduced", None: "n/a"}[f["reproduced"]]
                print(f"  {exp_id} [{f['source']}] {f['claim']}: {mark}")
    print(f"report: {result.out / 'report.html'}")


def _cmd_list() -> int:
    from .backends.registry import BACKENDS
    from .elicitation import METHODS
    from .experiments import latest_ids, make
    from .learning import LOSSES

    print("experiments:")
    for short, vid in latest_ids().items():
        exp = make(vid)
        print(f"  {short:<20} {vid:<24} {exp.title}")
        print(f"  {'':<20} personas: {', '.join(exp.personas)}")
    print("backends (--model backend:name):")
    for name, (_, _, text) in BACKENDS.items():
        print(f"  {name:<20} {text}")
    print(f"methods: {', '.join(METHODS)}")
    print(f"losses: {', '.join(LOSSES)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``subrational`` console script."""
    args = _parser().parse_args(argv)
    try:
        return _cmd_run(args) if args.command == "run" else _cmd_list()
    except SubrationalError as exc:
        print(f"subrational: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("subrational: interrupted; finished model calls are cached: run the same command "
              "again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
