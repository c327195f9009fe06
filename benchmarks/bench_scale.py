"""How cost grows with the work: 1x, 4x and 16x the people, cold and warm, with peak memory.

    .venv/bin/python benchmarks/bench_scale.py [--model transformers:smollm2] [--base 5]
                                               [--scales 1 4 16] [--study ultimatum]

Each row is one ``subrational run`` in a subprocess of its own (the way a user runs it), on a
population of ``base x scale`` people (``--population builtin:adults --population-size N``, seeded)
with one wording and a coarse offer grid (``--paraphrases 1 --option ultimatum.step=0.25``: ten
scoring calls per person), into a fresh cache (the de-quantised model files are linked in: a
user pays that once, not per run): first cold (every call made), then warm (every call
from the cache). Printed per row: people, scoring calls, seconds, seconds per call, and the child's
peak resident memory (``ru_maxrss`` from ``os.wait4``), then the ratios to the first row. The warm
rows answer issue 13's memory question: the run reads only the keys it needs from SQLite, so peak
memory must not grow with the number of calls the cache holds; ``--padding N`` first fills the cache
with N unrelated rows to show it. Timings vary with load; read the ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from subrational.paths import cache_dir  # noqa: E402


def _run(args: list[str], cache: Path, out: Path, src: Path = ROOT / "src"
         ) -> tuple[float, int, int]:
    """Seconds, peak RSS (KiB) and exit code of one ``subrational run`` of the code in ``src``."""
    env = dict(os.environ, SUBRATIONAL_CACHE_DIR=str(cache))
    env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "subrational", "run", *args, "--out", str(out), "--no-progress"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 4):
        sys.exit(f"run failed ({code}): {' '.join(cmd)}\n{proc.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss, code


def _calls(out: Path) -> int:
    """Scoring calls of a run: made plus answered from the cache."""
    calls = json.loads((out / "manifest.json").read_text())["calls"]
    return int(calls["model_calls"]) + int(calls["cache_hits"])


def _pad(cache: Path, rows: int) -> None:
    """Add ``rows`` unrelated entries to the cache database (same schema), to grow it."""
    db = sqlite3.connect(cache / "calls.sqlite")
    columns = [r[1] for r in db.execute("PRAGMA table_info(calls)")]
    template = db.execute("SELECT * FROM calls LIMIT 1").fetchone()
    key_at = columns.index("key")
    batch = []
    for i in range(rows):
        row = list(template)
        row[key_at] = f"padding-{i:09d}"
        batch.append(row)
    marks = ",".join("?" * len(columns))
    db.executemany(f"INSERT OR IGNORE INTO calls VALUES ({marks})", batch)
    db.commit()
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="transformers:smollm2")
    parser.add_argument("--study", default="ultimatum")
    parser.add_argument("--base", type=int, default=5, help="people at scale 1")
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--padding", type=int, default=200_000,
                        help="unrelated cache rows added before the last warm replay")
    args = parser.parse_args()
    grid = ["--paraphrases", "1"]
    if args.study == "ultimatum":
        grid += ["--option", "ultimatum.step=0.25"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp, "cache")
        cache.mkdir()
        models = cache_dir() / "models"  # de-quantised once already: not what is measured
        if models.is_dir():
            (cache / "models").symlink_to(models)
        for scale in args.scales:
            people = args.base * scale
            common = [args.study, "--model", args.model, "--population", "builtin:adults",
                      "--population-size", str(people), "--bootstrap", "50", *grid]
            out = Path(tmp, f"cold{scale}")
            cold, cold_rss, _ = _run(common, cache, out)
            calls = _calls(out)
            warm, warm_rss, _ = _run(common, cache, Path(tmp, f"warm{scale}"))
            rows.append((scale, people, calls, cold, cold_rss, warm, warm_rss))
        held = sqlite3.connect(cache / "calls.sqlite").execute(
            "SELECT COUNT(*) FROM calls").fetchone()[0]
        _pad(cache, args.padding)
        padded, padded_rss, _ = _run(common, cache, Path(tmp, "padded"))
    print(f"model {args.model}; study {args.study}; {args.base} people at scale 1; "
          f"one wording{', offers 0, 0.25, ..., 1' if args.study == 'ultimatum' else ''}")
    print("scale | people | calls | cold s | cold s/call | cold MiB | warm s | warm MiB "
          "| cold s/call ratio")
    print("-" * 96)
    base_per_call = rows[0][3] / max(rows[0][2], 1)
    for scale, people, calls, cold, cold_rss, warm, warm_rss in rows:
        per_call = cold / max(calls, 1)
        print(f"{scale:>5} | {people:>6} | {calls:>5} | {cold:>6.1f} | {per_call:>11.3f} | "
              f"{cold_rss / 1024:>8.0f} | {warm:>6.1f} | {warm_rss / 1024:>8.0f} | "
              f"{per_call / base_per_call:>5.2f}")
    print(f"\nwarm replay of the largest run with the cache at {held} rows: "
          f"{rows[-1][5]:.1f} s, {rows[-1][6] / 1024:.0f} MiB peak; "
          f"after adding {args.padding} unrelated rows ({held + args.padding}): "
          f"{padded:.1f} s, {padded_rss / 1024:.0f} MiB peak "
          f"(ratio {padded_rss / rows[-1][6]:.2f})")


if __name__ == "__main__":
    main()
