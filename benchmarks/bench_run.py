"""A whole ``subrational run``, cold and warm, old code against this one, side by side in one run.

    .venv/bin/python benchmarks/bench_run.py --before /path/to/old/checkout/src [-- RUN ARGS]
    .venv/bin/python benchmarks/bench_run.py --before OLD/src --warm-only CACHE_DIR [--rounds 2]

e.g. ``git worktree add /tmp/old <commit>`` then ``--before /tmp/old/src -- --paraphrases 1``.
Each tree runs ``subrational run RUN ARGS`` (default: the whole default run) in a subprocess of
its own into a fresh cache (the de-quantised model files are linked in: a user pays that once):
first cold (every call made), then warm (every call from its own cache). Then this tree replays
the old tree's cache, so that the analysis alone is compared on the very same answers. Printed:
seconds and peak resident memory (``ru_maxrss`` from ``os.wait4``) per run, the ratios old/new,
and how the numbers of ``summary.json`` differ: between the two cold runs (the model's answers
computed two ways) and between the old run and this tree's replay of its cache (the analysis
only; identical when no number changed). Timings move with load; read the ratios.

``--warm-only CACHE_DIR`` skips the cold runs: both trees replay a cache already filled by a
cold run (its ``calls.sqlite`` is copied into a fresh cache per tree), old and new alternately,
``--rounds`` times each. This tree's first replay starts without stored trainings (it trains
and stores them, :mod:`subrational.learning.memo`); its later ones read them. Printed per tree:
the first and the best later replay, peak memory, and whether every ``summary.json`` is the same.
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scale  # noqa: E402

from subrational.paths import cache_dir  # noqa: E402


def _run(src: Path, args: list[str], cache: Path, out: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one ``subrational run`` on the code in ``src``."""
    seconds, rss_kib, _ = bench_scale._run(args, cache, out, src)
    return seconds, rss_kib / 1024


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _leaves(value[key], f"{path}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    else:
        yield path, value


def compare(a: Path, b: Path, show: int = 0) -> str:
    """How the numbers of two ``summary.json`` differ, in one line (and the ``show`` largest)."""
    left = dict(_leaves(json.loads((a / "summary.json").read_text())))
    right = dict(_leaves(json.loads((b / "summary.json").read_text())))
    numbers = changed = other = 0
    largest = 0.0
    moved: list[tuple[float, str, Any, Any]] = []
    for key in sorted(left.keys() | right.keys()):
        x, y = left.get(key), right.get(key)
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) \
                and not isinstance(x, bool) and not isinstance(y, bool):
            numbers += 1
            if x != y and not (math.isnan(x) and math.isnan(y)):
                changed += 1
                largest = max(largest, abs(x - y))
                moved.append((abs(x - y), key, x, y))
        elif x != y:
            other += 1
            moved.append((math.inf, key, x, y))
    lines = [f"{numbers} numbers, {changed} differ (largest difference {largest:.3g}); "
             f"{other} other values differ"]
    for _, key, x, y in sorted(moved, key=lambda m: -m[0])[:show]:
        lines.append(f"    {key}: {x!r} -> {y!r}")
    return "\n".join(lines)


def warm_only(trees: dict[str, Path], filled: Path, run_args: list[str], rounds: int,
              tmp: Path) -> None:
    """Both trees replay the calls in ``filled``, alternately; the table of seconds and MiB."""
    caches = {}
    tmp.mkdir(parents=True, exist_ok=True)
    for name in trees:
        caches[name] = Path(tmp, f"cache-{name}")
        caches[name].mkdir()
        # the SQLite backup API: a consistent copy, write-ahead log included
        with sqlite3.connect(filled / "calls.sqlite") as src, \
                sqlite3.connect(caches[name] / "calls.sqlite") as dst:
            src.backup(dst)
        if (filled / "models").is_dir():
            (caches[name] / "models").symlink_to((filled / "models").resolve())
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    outs: list[Path] = []
    for k in range(max(2, rounds)):
        for name, src in trees.items():
            outs.append(Path(tmp, f"{name}-warm-{k}"))
            times[name].append(_run(src, ["--offline", *run_args], caches[name], outs[-1]))
    print(f"subrational run --offline {' '.join(run_args) or '(defaults)'}: "
          f"{max(2, rounds)} replays per tree, alternately; before: {trees['before']}")
    print("| code | first replay s | later replays, best s | peak MiB |")
    print("|---|---:|---:|---:|")
    for name, rows in times.items():
        print(f"| {name} | {rows[0][0]:.1f} | {min(s for s, _ in rows[1:]):.1f} | "
              f"{max(m for _, m in rows):.0f} |")
    b, a = times["before"], times["after"]
    print(f"| before / after | {b[0][0] / a[0][0]:.2f} | "
          f"{min(s for s, _ in b[1:]) / min(s for s, _ in a[1:]):.2f} | "
          f"{max(m for _, m in b) / max(m for _, m in a):.2f} |")
    for out in outs[1:]:
        print(f"summary.json, {outs[0].name} vs {out.name}: {compare(outs[0], out)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, required=True,
                        help="the src/ folder of the old checkout")
    parser.add_argument("--keep", type=Path, help="keep the runs' folders here")
    parser.add_argument("--show", type=int, default=0,
                        help="print the N values that differ most between the cold runs")
    parser.add_argument("--warm-only", type=Path, metavar="CACHE_DIR",
                        help="replay the calls of this filled cache only (no cold runs)")
    parser.add_argument("--rounds", type=int, default=2, help="replays per tree (--warm-only)")
    parser.add_argument("run_args", nargs="*", help="after --: arguments of `subrational run`")
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": ROOT / "src"}
    if args.warm_only:
        with tempfile.TemporaryDirectory() as scratch:
            warm_only(trees, args.warm_only, args.run_args, args.rounds,
                      args.keep or Path(scratch))
        return
    rows: dict[str, tuple[float, float, float, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        outs = {}
        for name, src in trees.items():
            cache = Path(tmp, f"cache-{name}")
            cache.mkdir()
            if (cache_dir() / "models").is_dir():
                (cache / "models").symlink_to(cache_dir() / "models")
            outs[name] = Path(tmp, f"{name}-cold")
            cold, cold_mib = _run(src, args.run_args, cache, outs[name])
            warm, warm_mib = _run(src, args.run_args, cache, Path(tmp, f"{name}-warm"))
            rows[name] = (cold, cold_mib, warm, warm_mib)
        replay = Path(tmp, "after-replays-before")
        replay_s, replay_mib = _run(trees["after"], args.run_args, Path(tmp, "cache-before"),
                                    replay)
        print(f"subrational run {' '.join(args.run_args) or '(defaults)'}; before: "
              f"{trees['before']}")
        print(f"{'code':>7} | {'cold s':>8} | {'cold MiB':>8} | {'warm s':>7} | {'warm MiB':>8}")
        print("-" * 50)
        for name, (cold, cold_mib, warm, warm_mib) in rows.items():
            print(f"{name:>7} | {cold:8.1f} | {cold_mib:8.0f} | {warm:7.1f} | {warm_mib:8.0f}")
        b, a = rows["before"], rows["after"]
        print(f"{'x':>7} | {b[0] / a[0]:8.2f} | {b[1] / a[1]:8.2f} | {b[2] / a[2]:7.2f} | "
              f"{b[3] / a[3]:8.2f}")
        print(f"after, replaying the before run's cache: {replay_s:.1f} s, {replay_mib:.0f} MiB")
        print("summary.json, cold before vs cold after: "
              + compare(outs["before"], outs["after"], args.show))
        print("summary.json, before vs after on the same answers: "
              + compare(outs["before"], replay))


if __name__ == "__main__":
    main()
