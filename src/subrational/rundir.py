"""The run directory: unique by default, marked when finished, never a mix of two runs.

A run directory holds two markers besides its outputs:

* ``run.json`` is written first, before any output: the run format and the SHA-256 of the
  config that determines the outputs (every setting but ``out``, ``offline``, ``max_cost``
  and ``prices``: a run stopped by its spending limit resumes with another limit or price).
* ``complete.json`` is written last, after every output: the same config digest and the SHA-256
  of every file of the run. A directory without it is unfinished (interrupted, killed, still
  running); a file whose digest differs was changed or comes from another run.

Starting a run (:func:`start_run`) accepts an empty or missing directory, or one that holds a run
of the **same config**: that is a resume (after Ctrl-C, a kill, or to rebuild a finished run).
Its ``complete.json`` is removed first, so until the rerun finishes the directory reads as
unfinished, and every output is rewritten. A directory holding a run of another config, or
anything that is not a run, is refused. Readers (``compare``, :func:`~subrational.load_policy`
on a policy inside a run) call :func:`check_finished` and refuse what is not a finished run;
:func:`read_run` reads a finished run's summary and manifest, checking their format.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError, RunDirError
from .paths import TMP_PREFIX, ensure_dir, write_text_atomic

__all__ = ["STARTED", "COMPLETE", "config_digest", "new_run_dir", "start_run", "finish_run",
           "check_finished", "run_dir_of", "RunSummary", "read_run", "SUMMARY_FORMATS"]

STARTED = "run.json"
COMPLETE = "complete.json"
RUN_FORMAT = "subrational-run"
RUN_FORMAT_VERSION = 1
_NOT_IDENTITY = ("out", "offline", "max_cost", "prices")
SUMMARY_FORMATS = (2, 3)
"""``summary.json`` format versions readers (``compare``, :func:`subrational.load_run`) take:
2 and the pipeline's current :data:`~subrational.pipeline.SUMMARY_FORMAT`."""


def config_digest(config: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the settings that determine a run's outputs."""
    identity = {k: v for k, v in config.items() if k not in _NOT_IDENTITY}
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_run_dir(root: Path, *, label: str | None = None, stamp: str = "%Y%m%d-%H%M%S",
                flag: str = "--out") -> Path:
    """Create and return a new, empty ``root/<time>-<6 hex>`` folder, or ``<time>-<label>``.

    The folder is created with ``mkdir(exist_ok=False)``, so two runs started in the same
    second (even in two processes) never share one; a name collision is retried (a labelled
    name gets ``-2``, ``-3``, ...). ``flag`` is what an error tells the user to pass instead.
    """
    ensure_dir(root, what="the runs folder")
    when = time.strftime(stamp)
    for n in range(1, 1000):
        name = (f"{when}-{secrets.token_hex(3)}" if label is None
                else f"{when}-{label}" if n == 1 else f"{when}-{label}-{n}")
        try:
            (root / name).mkdir(exist_ok=False)
            return root / name
        except FileExistsError:
            continue
        except OSError as exc:
            raise RunDirError(f"cannot create a run directory in {root}: {exc.strerror}; "
                              f"choose another folder with {flag}") from None
    raise RunDirError(f"cannot find a free run directory name in {root}; pass {flag}")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _started(out: Path) -> dict[str, Any] | None:
    data = _read_json(out / STARTED)
    if isinstance(data, dict) and data.get("format") == RUN_FORMAT:
        return data
    return None


def start_run(out: Path, digest: str) -> bool:
    """Claim ``out`` for a run of config ``digest``; returns whether it resumes an earlier one.

    Raises:
        PathError: ``out`` cannot be a writable folder.
        RunDirError: ``out`` holds a run of another config, or files that are no run.
    """
    ensure_dir(out, what="the run directory (--out)")
    entries = [p for p in out.iterdir() if not p.name.startswith(TMP_PREFIX)]
    started = _started(out)
    if entries and started is None:
        raise RunDirError(f"--out {out} is not empty and holds no subrational run (no valid "
                          f"{STARTED}); pass a new or empty directory")
    if started is not None and started.get("config_sha256") != digest:
        raise RunDirError(f"--out {out} holds a run of another config; pass a new directory, or "
                          "delete it to replace that run")
    (out / COMPLETE).unlink(missing_ok=True)  # from here on the directory reads as unfinished
    for stale in out.rglob(f"{TMP_PREFIX}*"):
        stale.unlink(missing_ok=True)
    write_text_atomic(out / STARTED, json.dumps(
        {"format": RUN_FORMAT, "format_version": RUN_FORMAT_VERSION, "config_sha256": digest,
         "pid": os.getpid(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=2),
        what="the run marker")
    return started is not None


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _outputs(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file() and p.name not in (STARTED, COMPLETE)
                  and not p.name.startswith(TMP_PREFIX))


def finish_run(out: Path) -> Path:
    """Write ``complete.json`` (the digest of every output), last; return its path."""
    started = _started(out) or {}
    files = {p.relative_to(out).as_posix(): _file_sha256(p) for p in _outputs(out)}
    return write_text_atomic(out / COMPLETE, json.dumps(
        {"format": RUN_FORMAT, "format_version": RUN_FORMAT_VERSION,
         "config_sha256": started.get("config_sha256"), "files": files},
        indent=2, sort_keys=True), what="the completion marker")


def check_finished(out: Path) -> None:
    """Raise :class:`RunDirError` unless ``out`` is a finished, unaltered run directory."""
    started = _started(out)
    done = _read_json(out / COMPLETE)
    if started is None and not isinstance(done, dict):
        raise RunDirError(f"{out} is not a run directory (no {STARTED} and no {COMPLETE}); give "
                          "the --out directory of a finished `subrational run` of this version "
                          "(an older run: run it again, the cache answers its model calls)")
    if not isinstance(done, dict) or not isinstance(done.get("files"), dict):
        raise RunDirError(f"{out} is an unfinished run (no valid {COMPLETE}): it was interrupted "
                          "or is still running; run the same command again to finish it")
    if started is None or done.get("config_sha256") != started.get("config_sha256"):
        raise RunDirError(f"{out} mixes two runs ({STARTED} and {COMPLETE} disagree); run it "
                          "again into a new directory")
    for name, digest in done["files"].items():
        path = out / name
        try:
            same = path.is_file() and _file_sha256(path) == digest
        except OSError:
            same = False
        if not same:
            raise RunDirError(f"{out} is damaged or mixed: {name} is missing or changed since the "
                              "run finished; run it again into a new directory")


def run_dir_of(path: Path) -> Path | None:
    """The run directory that holds ``path`` (``<run>/<study>/policy.pt``), if there is one."""
    for folder in list(Path(path).resolve().parents)[:2]:
        if (folder / STARTED).is_file() or (folder / COMPLETE).is_file():
            return folder
    return None


@dataclass(frozen=True)
class RunSummary:
    """A finished run directory's ``summary.json`` and ``manifest.json``, read and checked.

    Attributes:
        label: ``<folder>: <model> (<method>, seed <seed>)``, for tables and legends.
        path: The run directory.
        summary: ``summary.json`` (format :data:`SUMMARY_FORMATS`).
        manifest: ``manifest.json``.
    """

    label: str
    path: Path
    summary: dict[str, Any]
    manifest: dict[str, Any]


def _read_object(path: Path, name: str) -> dict[str, Any]:
    file = path / name
    if not file.is_file():
        raise ConfigError(f"{path} is not a run directory (no {name}); give the --out directory "
                          "of a `subrational run`")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else type(exc).__name__
        raise RunDirError(f"cannot read {file}: {reason}; the run is damaged: run it again "
                          "into a new directory") from None
    if not isinstance(data, dict):
        raise RunDirError(f"{file} holds a JSON {type(data).__name__}, not an object; the run is "
                          "damaged: run it again into a new directory")
    return data


def _check_summary(path: Path, summary: dict[str, Any]) -> None:
    version = summary.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise RunDirError(f"{path}/summary.json has format_version {version!r}, not a number; "
                          "the run is damaged: run it again into a new directory")
    if version > max(SUMMARY_FORMATS):
        raise ConfigError(f"{path} was written by a newer subrational (summary format "
                          f"{version}; this one reads {', '.join(map(str, SUMMARY_FORMATS))}): "
                          "upgrade subrational to read it")
    if version < min(SUMMARY_FORMATS):
        raise ConfigError(f"{path} was written by an older subrational (summary format "
                          f"{version}); run it again with this version (the cache answers its "
                          "model calls)")
    missing = [k for k in ("model", "method", "seed", "experiments") if k not in summary]
    if missing or not isinstance(summary["experiments"], dict):
        what = f"no {', '.join(missing)}" if missing else "experiments is not a mapping"
        raise RunDirError(f"{path}/summary.json is damaged ({what}); run it again into a new "
                          "directory")


def read_run(path: Path) -> RunSummary:
    """Read a finished run directory, with a one-line error when it is not one.

    A run of an older subrational (no run markers) is named as such; anything else must pass
    :func:`~subrational.rundir.check_finished` (finished, every file as it was written).
    """
    if not path.is_dir():
        raise ConfigError(f"{path} is not a run directory; give the --out directory of a "
                          "`subrational run`")
    if not (path / STARTED).exists() and not (path / COMPLETE).exists():
        _check_summary(path, _read_object(path, "summary.json"))  # an older run says so
    check_finished(path)
    summary = _read_object(path, "summary.json")
    manifest = _read_object(path, "manifest.json")
    _check_summary(path, summary)
    label = f"{path.name}: {summary['model']} ({summary['method']}, seed {summary['seed']})"
    return RunSummary(label, path, summary, manifest)
