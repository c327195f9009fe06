"""Share a run's cached model answers: a versioned, gzipped JSON-lines file.

``subrational cache export RUN_DIR FILE`` writes every cache entry the run used;
``subrational cache import FILE`` adds them to another cache, so that someone without the model,
its key or its server replays the run with ``--offline`` and gets the same ``summary.json``.

**Format** (:data:`FORMAT_VERSION` = 1): gzip of UTF-8 lines. The first line is the header
(:class:`CacheFileHeader`: ``format``, ``format_version``, the ``subrational`` version that
wrote it, the cache key format, the model fingerprint the keys were made with, the run's
experiments and the number of entries); each further line is one entry
(:class:`CacheFileEntry`: ``key``, ``op``, ``value``, ``usage``), sorted by key. Nothing in the
header comes from the environment: the fingerprint is the run's own (``manifest.json``), which
never holds a credential, and its server URL is redacted again on the way out.

**Which entries a run used.** ``manifest.json`` does not list cache keys, so the export replays
the run's elicitation with ``--offline`` against the cache (the run's own config, its
personas and wordings, the numerical noise floor included) and records every key that answered.
A sequential study under the sample method follows the cached answers, so the replay walks the
episodes the run walked. A miss means the cache no longer holds the run: one line, nothing
written. A backend the cache does not store (``scripted``) replays without any entry.

**Import** never replaces an entry already in the cache, and never stores an entry whose value
is not an answer (the checks the cache applies before it writes: finite log-probabilities, a
non-empty text, a well-formed noise floor); those are counted and left out. A file that is not
gzip, not JSON lines, truncated, or of another format or version is refused whole, in one line.
"""

from __future__ import annotations

import gzip
import json
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import __version__
from ..cache import CACHE_FORMAT, Cache, Entry, Record
from ..errors import CacheFileError, CacheMissError, ConfigError, RunDirError

__all__ = ["FORMAT", "FORMAT_VERSION", "CacheFileHeader", "CacheFileEntry", "ImportResult",
           "export_cache", "import_cache", "read_cache_file", "run_entries"]

FORMAT: Literal["subrational-cache-export"] = "subrational-cache-export"
FORMAT_VERSION = 1
OPS = ("score", "generate", "noise")


class CacheFileHeader(BaseModel):
    """The first line of a cache export file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["subrational-cache-export"]
    format_version: int
    subrational: str
    cache_format: int
    model: dict[str, Any]
    experiments: list[str]
    entries: int = Field(ge=0)


class CacheFileEntry(BaseModel):
    """One entry line of a cache export file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[0-9a-f]{64}$")
    op: Literal["score", "generate", "noise"]
    value: Any
    usage: dict[str, int] | None = None


@dataclass(frozen=True)
class ImportResult:
    """What an import did.

    Attributes:
        added: Entries stored.
        present: Valid entries whose key the cache already held (left as they were).
        invalid: Entries whose value is not an answer (left out).
        header: The file's header.
    """

    added: int
    present: int
    invalid: int
    header: CacheFileHeader


class _Recorder:
    """A cache that answers like ``cache`` and remembers every key that answered."""

    def __init__(self, cache: Cache) -> None:
        self.cache, self.path, self.used = cache, cache.path, set[str]()

    def get_records(self, keys: list[str]) -> dict[str, Record]:
        found = self.cache.get_records(keys)
        self.used.update(found)
        return found

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        return {k: r.value for k, r in self.get_records(keys).items()}


def _manifest(run: Path) -> dict[str, Any]:
    from ..rundir import check_finished

    check_finished(run)
    try:
        manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunDirError(f"cannot read {run}/manifest.json ({exc}); run it again") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("config"), dict):
        raise RunDirError(f"{run}/manifest.json holds no run config; run it again")
    return manifest


def run_entries(run: Path, cache: Cache) -> tuple[dict[str, Any], list[str], list[Entry]]:
    """(model fingerprint, experiment ids, entries) of what ``run`` used (module docstring).

    Raises:
        RunDirError: ``run`` is not a finished run directory.
        ConfigError: The model is not the one the run used (another file or revision).
        CacheMissError: The cache no longer holds every answer of the run.
    """
    from ..cache import CachedBackend
    from ..config import build_config
    from ..evaluation.records import to_jsonable
    from ..pipeline import (
        _elicit,
        _numerical_noise,
        build_backend,
        resolve_experiments,
        select_personas,
    )

    manifest = _manifest(run)
    config = build_config({**manifest["config"], "offline": True},
                          source=f"{run}/manifest.json")
    experiments = resolve_experiments(config)
    backend = build_backend(config)
    try:
        fingerprint = to_jsonable(backend.fingerprint())
        if fingerprint != manifest.get("model"):
            raise ConfigError(f"the model {backend.describe()} is not the one {run} used "
                              f"(fingerprint {fingerprint} vs {manifest.get('model')}); export "
                              "where the run's model is at hand")
        if not backend.capabilities.cacheable:  # nothing of it is cached: nothing to share
            return fingerprint, [e.id for e in experiments], []
        recorder = _Recorder(cache)
        cached = CachedBackend(backend, cast(Cache, recorder), offline=True)
        for experiment in experiments:
            personas = select_personas(experiment, config.personas)
            try:
                _, method = _elicit(experiment, config, cached, personas, [])
            except CacheMissError as exc:
                raise CacheMissError(f"the cache {cache.path} no longer holds every answer of "
                                     f"{run} ({exc}); export from the cache the run was made "
                                     "with (--cache-dir)") from None
            _numerical_noise(experiment, config, cached, personas, method)
    finally:
        backend.close()
    return fingerprint, [e.id for e in experiments], cache.entries(sorted(recorder.used))


def _safe_model(model: dict[str, Any]) -> dict[str, Any]:
    from ..backends.endpoints import redact_url

    if isinstance(model.get("base_url"), str):
        return {**model, "base_url": redact_url(model["base_url"])}
    return dict(model)


def export_cache(run: Path, path: Path, cache: Cache) -> CacheFileHeader:
    """Write the entries ``run`` used to ``path`` (module docstring); returns the header."""
    from ..paths import write_bytes_atomic

    model, experiments, entries = run_entries(run, cache)
    header = CacheFileHeader(format=FORMAT, format_version=FORMAT_VERSION,
                             subrational=__version__, cache_format=CACHE_FORMAT,
                             model=_safe_model(model), experiments=experiments,
                             entries=len(entries))
    lines = [header.model_dump_json()]
    lines += [json.dumps({"key": e.key, "op": e.op, "value": e.value, "usage": e.usage},
                         sort_keys=True, ensure_ascii=False) for e in entries]
    data = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0)
    write_bytes_atomic(Path(path), data, what="the cache export file")
    return header


def _lines(path: Path) -> list[str]:
    try:
        text = gzip.decompress(Path(path).read_bytes()).decode("utf-8")
    except FileNotFoundError:
        raise CacheFileError(f"no cache export file at {path}; check the path") from None
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise CacheFileError(f"{path} is not a subrational cache export (not gzipped UTF-8 "
                             f"text: {exc}); export it again with `subrational cache export`"
                             ) from None
    return [line for line in text.split("\n") if line.strip()]


def _header(path: Path, line: str) -> CacheFileHeader:
    try:
        raw = json.loads(line)
    except ValueError:
        raw = None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CacheFileError(f"{path} is not a subrational cache export (its first line is no "
                             f"{FORMAT!r} header); export it again with `subrational cache "
                             "export`")
    if raw.get("format_version") != FORMAT_VERSION:
        raise CacheFileError(f"{path} has cache export format version "
                             f"{raw.get('format_version')!r}; this subrational reads version "
                             f"{FORMAT_VERSION}: use the subrational version that wrote it "
                             f"({raw.get('subrational', 'unknown')})")
    try:
        header = CacheFileHeader.model_validate(raw)
    except ValidationError as exc:
        raise CacheFileError(f"{path} has a damaged header ({exc.errors()[0]['msg']}); export "
                             "it again") from None
    if header.cache_format != CACHE_FORMAT:
        raise CacheFileError(f"{path} holds cache keys of format {header.cache_format}; this "
                             f"subrational makes keys of format {CACHE_FORMAT}, so they would "
                             "never be found: use the subrational version that wrote it")
    return header


def read_cache_file(path: Path) -> tuple[CacheFileHeader, list[CacheFileEntry]]:
    """The header and entries of a cache export file, every line checked.

    Raises:
        CacheFileError: The file is not gzip or JSON lines, is truncated (fewer entries than
            its header says), or is of another format or version.
    """
    lines = _lines(path)
    if not lines:
        raise CacheFileError(f"{path} is empty; export it again with `subrational cache export`")
    header = _header(path, lines[0])
    entries = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            entries.append(CacheFileEntry.model_validate_json(line))
        except ValidationError as exc:
            raise CacheFileError(f"{path} line {number} is not a cache entry "
                                 f"({exc.errors()[0]['msg']}); the file is damaged: export it "
                                 "again") from None
    if len(entries) != header.entries:
        raise CacheFileError(f"{path} holds {len(entries)} entries but its header says "
                             f"{header.entries}: it is truncated or damaged; copy it again")
    return header, entries


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def invalid_value(entry: CacheFileEntry) -> str | None:
    """Why ``entry``'s value is not an answer the cache would store, or ``None``."""
    from ..backends.base import invalid_scores, invalid_text
    from ..cache import _decode_scores

    value = entry.value
    if not isinstance(value, dict):
        return f"a {type(value).__name__} value, not an object"
    if entry.op == "generate":
        return invalid_text(value.get("text"))
    if entry.op == "score":
        logprobs = value.get("logprobs")
        if not isinstance(logprobs, list) or not logprobs \
                or not isinstance(value.get("detail", {}), dict):
            return "no list of log-probabilities"
        return invalid_scores(_decode_scores(value), len(logprobs))
    spread = [value.get("max"), value.get("mean")]
    count = value.get("n_prompts")
    if not all(v is None or _finite(v) for v in spread) or not isinstance(count, int) \
            or isinstance(count, bool) or count < 0:
        return "not a noise floor"
    return None


def _usage(usage: dict[str, int] | None) -> dict[str, int] | None:
    """A usage with every token count, else unknown (never a made-up 0)."""
    from ..backends.base import USAGE_KEYS

    return usage if usage is not None and set(USAGE_KEYS) <= set(usage) else None


def import_cache(path: Path, cache: Cache) -> ImportResult:
    """Add the valid entries of the file at ``path`` that ``cache`` lacks (module docstring)."""
    header, entries = read_cache_file(path)
    valid = [e for e in entries if invalid_value(e) is None]
    added = cache.add_missing([Entry(e.key, e.op, e.value, _usage(e.usage)) for e in valid])
    return ImportResult(added, len(valid) - added, len(entries) - len(valid), header)
