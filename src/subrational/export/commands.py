"""``subrational export`` and ``subrational cache export|import``: parsers and commands.

cli.py adds these with :func:`add_parsers` and dispatches to :data:`COMMANDS`; this module
imports only argparse until a command runs.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

from . import FORMATS

__all__ = ["COMMANDS", "add_parsers", "export_run"]

MAX_EPISODES = 100_000
_WRITERS = {"minari": ("minari", "export_minari"), "imitation": ("imitation", "export_imitation"),
            "hf": ("hf", "export_hf")}
_NEEDS = {"minari": "_minari", "imitation": "_datasets"}
"""The function of each writer's module that checks its optional dependency (none for hf)."""


def add_parsers(sub: Any) -> None:
    """Add ``export`` and ``cache`` to the ``subrational`` subcommands ``sub``."""
    export = sub.add_parser("export", help="write a finished run as Minari, imitation or "
                            "Hugging Face datasets")
    export.add_argument("run", type=Path, metavar="RUN_DIR", help="a finished run directory")
    export.add_argument("--to", required=True, choices=FORMATS, help="minari (Minari "
                        "datasets), imitation (imitation's trajectory columns) or hf (a Hugging "
                        "Face dataset folder with a card)")
    export.add_argument("out", type=Path, metavar="OUT", help="a new or empty folder")
    export.add_argument("--episodes", type=int, default=100, help="rollouts per persona of the "
                        "demonstrations and of the policy (100)")
    export.add_argument("--seed", type=int, default=0, help="seed of the rollouts (0)")
    cache = sub.add_parser("cache", help="share a run's cached model answers: `cache export "
                           "RUN_DIR FILE`, then `cache import FILE` elsewhere and run --offline")
    verbs = cache.add_subparsers(dest="cache_command", required=True)
    out = verbs.add_parser("export", help="write the cache entries a run used to a file")
    out.add_argument("run", type=Path, metavar="RUN_DIR", help="a finished run directory")
    out.add_argument("file", type=Path, metavar="FILE", help="file to write (.jsonl.gz)")
    into = verbs.add_parser("import", help="add a cache export file's entries to the cache")
    into.add_argument("file", type=Path, metavar="FILE", help="a `cache export` file")
    for parser in (out, into):
        parser.add_argument("--cache-dir", type=Path, help="the cache folder (default: "
                            "$SUBRATIONAL_CACHE_DIR or the user cache folder)")


def export_run(run: Path, *, to: str, out: Path, episodes: int = 100, seed: int = 0) -> list[Any]:
    """Export the finished run at ``run`` as ``to`` into the new or empty folder ``out``.

    Returns what was written (dataset ids for Minari, folders or files otherwise).

    Raises:
        UnknownNameError: ``to`` is not one of :data:`FORMATS`.
        ConfigError: ``episodes`` out of range.
        MissingDependencyError: The format's optional dependency is not installed.
        PathError: ``out`` is a file or a folder that is not empty.
        RunDirError: ``run`` is not a finished run directory.
    """
    from ..errors import ConfigError, UnknownNameError
    from ..paths import ensure_dir
    from .run import check_out, load_run

    if to not in _WRITERS:
        raise UnknownNameError("export format", to, FORMATS)
    if isinstance(episodes, bool) or not 1 <= episodes <= MAX_EPISODES:
        raise ConfigError(f"--episodes must be from 1 to {MAX_EPISODES:,}; got {episodes}")
    module_name, function = _WRITERS[to]
    module = importlib.import_module(f"subrational.export.{module_name}")
    if to in _NEEDS:
        getattr(module, _NEEDS[to])()  # the pip line before any work
    check_out(out)
    finished = load_run(run)
    ensure_dir(out, what="the export folder")
    return list(getattr(module, function)(finished, out, episodes=episodes, seed=seed))


def _cache(folder: Path | None) -> Any:
    from ..cache import Cache
    from ..paths import ensure_dir

    if folder is None:
        return Cache()
    return Cache(ensure_dir(folder, what="the cache directory (--cache-dir)") / "calls.sqlite")


def cmd_export(args: argparse.Namespace) -> int:
    """``subrational export RUN_DIR --to FORMAT OUT``."""
    written = export_run(args.run, to=args.to, out=args.out, episodes=args.episodes,
                         seed=args.seed)
    print(f"exported {args.run} as {args.to} into {args.out}: {len(written)} "
          f"{'datasets' if args.to != 'hf' else 'files'}")
    for item in written:
        print(f"  {item}")
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    """``subrational cache export RUN_DIR FILE`` and ``cache import FILE``."""
    from .cachefile import export_cache, import_cache

    cache = _cache(args.cache_dir)
    try:
        if args.cache_command == "export":
            header = export_cache(args.run, args.file, cache)
            print(f"wrote {header.entries} cache entries of {args.run} "
                  f"({', '.join(header.experiments)}) to {args.file}")
            return 0
        result = import_cache(args.file, cache)
    finally:
        cache.close()
    print(f"imported {result.added} cache entries from {args.file} into {cache.path}; "
          f"{result.present} were already there (kept as they were), {result.invalid} were "
          "not answers (left out)")
    return 0


COMMANDS = {"export": cmd_export, "cache": cmd_cache}
