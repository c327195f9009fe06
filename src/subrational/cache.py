"""On-disk cache of model calls (SQLite, WAL mode).

Cache key contract (``CACHE_FORMAT`` = 1). The key is the SHA-256 of the canonical JSON
(sorted keys, no whitespace, UTF-8) of exactly the fields that determine a call's output:

* ``op``: ``"score"`` or ``"generate"``;
* ``model``: the backend's :meth:`~subrational.backends.Backend.fingerprint` (backend name, model
  id, file hash or revision, server URL without credentials);
* ``messages``: the rendered chat messages (role, content);
* ``options`` (score) or ``temperature``, ``max_tokens``, ``seed`` (generate; the seed encodes the
  draw index, so N = 5 then N = 10 reuses the first five draws).

The numerical noise floor of a study's prompts is stored under the same contract with ``op`` =
``"noise"`` (fields in :mod:`subrational.elicitation.noise`), so a replay reproduces it.

Values are JSON (``-inf`` log-probabilities are stored as ``null``). Each entry also keeps the
tokens its call was billed (``usage``, the four :data:`~subrational.backends.base.USAGE_KEYS`),
so that a replay can say what its answers cost when they were made; an entry written before
usage was recorded has none (unknown, never 0). A call whose request carried several draws
(``n`` > 1) records its tokens on its first draw's entry and zeros on the others.

**Table schema** (``SCHEMA_VERSION``, SQLite's ``user_version``; apart from the key format
above): 1 is ``calls(key, op, value, created)``; 2 adds ``usage`` (JSON, NULL when unknown).
Opening a schema-1 file adds the column in place (its entries keep a NULL usage), so old caches
stay readable; a file of a newer schema than this version knows is refused in one line.

Only answers are cached: every result passes
:func:`~subrational.backends.base.invalid_scores` or
:func:`~subrational.backends.base.invalid_text` before it is written, and a stored value that
fails them (an empty text from an older version) is asked again, never replayed. Errors are
never cached; the results of a batch that finished before another request of it failed are
(backends attach them to the error). No secret ever enters a key or a value.

**Calls stream in** (:meth:`~subrational.backends.base.Backend.each`): answers are committed
as they finish, every :data:`FLUSH_ANSWERS` answers or :data:`FLUSH_SECONDS` seconds,
whichever comes first, from the thread that owns the SQLite connection, so a run killed
half-way (a crash, Ctrl-C) loses at most the last second of answers. A call that failed after
its retries with a transient kind comes back as a :class:`~subrational.backends.base.FailedCall`
in its place (never cached: the next run asks again) and is listed in
:attr:`CachedBackend.failures`; a systematic error stops the run once the calls in flight have
ended. A circuit breaker stops a run whose calls mostly fail (:data:`BREAKER_MIN_FAILURES`).
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .backends.base import (
    USAGE_KEYS,
    Backend,
    FailedCall,
    GenerateRequest,
    OptionScores,
    ScoreRequest,
    invalid_scores,
    invalid_text,
    transient_kind,
)
from .errors import BackendError, CacheMissError, PathError
from .paths import CACHE_ENV, check_cache_dir, ensure_dir

__all__ = ["CACHE_FORMAT", "SCHEMA_VERSION", "Cache", "CachedBackend", "CallStats", "Entry",
           "Record", "cache_key", "FLUSH_ANSWERS", "FLUSH_SECONDS", "BREAKER_MIN_FAILURES",
           "BREAKER_SHARE"]

CACHE_FORMAT = 1
SCHEMA_VERSION = 2
"""Version of the ``calls`` table (module docstring): 2 added each entry's ``usage``."""
FLUSH_ANSWERS = 64
"""Answers held before they are committed (or :data:`FLUSH_SECONDS`, whichever comes first)."""
FLUSH_SECONDS = 1.0
BREAKER_MIN_FAILURES = 20
"""Failed calls before the circuit breaker may open (design choice, with :data:`BREAKER_SHARE`:
a few unlucky calls never stop a run, a dead server stops it after about twenty)."""
BREAKER_SHARE = 0.5
"""Share of the calls ended so far that must have failed for the breaker to open."""


def canonical_json(obj: Any) -> str:
    """Deterministic JSON used for hashing."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def cache_key(fields: dict[str, Any]) -> str:
    """SHA-256 hex digest of the canonical JSON of the key fields plus the cache format."""
    payload = canonical_json({"format": CACHE_FORMAT, **fields})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class Cache:
    """A key-value store of JSON values in SQLite (WAL, safe for concurrent readers).

    Opening checks the file at once, before any model call: a folder or an unwritable folder in
    its place, a file that is not SQLite, a truncated file, or a table of another schema is one
    :class:`~subrational.errors.PathError` line, never a failure half-way through a run.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        if path:
            self.path = Path(path)
            ensure_dir(self.path.parent, what="the cache directory")
        else:
            self.path = check_cache_dir() / "calls.sqlite"
        if self.path.is_dir():
            raise PathError(f"the cache file {self.path} is a directory; remove it or set "
                            f"${CACHE_ENV} to another folder")
        _check_size(self.path)
        try:
            self._db = sqlite3.connect(self.path, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, op TEXT, "
                             "value TEXT NOT NULL, created REAL, usage TEXT)")
            columns = self._columns()
            if columns == list(_COLUMNS[:-1]):
                columns = self._migrate()
            schema = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if columns == list(_COLUMNS) and schema < SCHEMA_VERSION:
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                schema = SCHEMA_VERSION
            if columns == list(_COLUMNS):
                self._db.execute("SELECT key, value, usage FROM calls LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise self._damaged(exc) from None
        if columns != list(_COLUMNS):
            self._db.close()
            raise PathError(f"the cache {self.path} holds a 'calls' table of another schema "
                            f"(columns {', '.join(columns)}; expected {', '.join(_COLUMNS)}): it "
                            f"is not a subrational cache; move it away or set ${CACHE_ENV} to "
                            "another folder")
        if schema > SCHEMA_VERSION:
            self._db.close()
            raise PathError(f"the cache {self.path} was written by a newer subrational (cache "
                            f"schema {schema}; this version reads up to {SCHEMA_VERSION}): "
                            f"upgrade subrational, or set ${CACHE_ENV} to another folder")

    def _columns(self) -> list[str]:
        return [row[1] for row in self._db.execute("PRAGMA table_info(calls)")]

    def _migrate(self) -> list[str]:
        """Schema 1 -> 2: add ``usage`` (NULL: unknown) in place; another process may race us."""
        try:
            with self._db:
                self._db.execute("ALTER TABLE calls ADD COLUMN usage TEXT")
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc):
                raise
        return self._columns()

    def _damaged(self, exc: sqlite3.Error) -> PathError:
        reason = str(exc) or type(exc).__name__
        if "full" in reason:
            return PathError(f"cannot write the cache {self.path}: {reason}; free some space or "
                             f"set ${CACHE_ENV} to another folder")
        if "readonly" in reason:
            return PathError(f"cannot write the cache {self.path}: {reason}; make it writable "
                             f"or set ${CACHE_ENV} to another folder")
        return PathError(f"the cache {self.path} is damaged or not a subrational cache "
                         f"({reason}); delete it (it only holds cached model answers) or set "
                         f"${CACHE_ENV} to another folder")

    def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        """Values found for ``keys`` (missing keys are absent)."""
        return {k: r.value for k, r in self.get_records(keys).items()}

    def get_records(self, keys: Sequence[str]) -> dict[str, Record]:
        """Entries found for ``keys``, values with their calls' usage (missing keys are absent)."""
        return {e.key: Record(e.value, e.usage) for e in self._select(keys)}

    def _select(self, keys: Sequence[str]) -> list[Entry]:
        """The stored entries of ``keys``, read 500 keys a query (SQLite's variable limit)."""
        found: list[Entry] = []
        try:
            for i in range(0, len(keys), 500):
                chunk = list(keys[i:i + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, op, value, usage FROM calls WHERE key IN ({marks})", chunk)
                found.extend(Entry(k, op, json.loads(v), _read_usage(u)) for k, op, v, u in rows)
        except sqlite3.Error as exc:
            raise self._damaged(exc) from None
        return found

    def put_many(self, op: str, items: dict[str, Any],
                 usage: Mapping[str, Mapping[str, int] | None] | None = None) -> None:
        """Store values (with their calls' ``usage`` by key, where known) and commit at once.

        A crash after this loses nothing stored.
        """
        now, known = time.time(), usage or {}
        rows = [_row(k, op, v, now, known.get(k)) for k, v in items.items()]
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO calls VALUES (?, ?, ?, ?, ?)", rows)
        except sqlite3.Error as exc:
            raise self._damaged(exc) from None

    def entries(self, keys: Sequence[str]) -> list[Entry]:
        """The stored entries of ``keys`` with their ``op`` (missing keys are absent), by key."""
        return sorted(self._select(keys), key=lambda e: e.key)

    def add_missing(self, entries: Sequence[Entry]) -> int:
        """Store the entries whose key is not in the cache yet; returns how many were added.

        An existing entry is never replaced (an import cannot overwrite what a run answered).
        """
        now = time.time()
        rows = [_row(e.key, e.op, e.value, now, e.usage) for e in entries]
        try:
            with self._db:
                before = len(self)
                self._db.executemany("INSERT OR IGNORE INTO calls VALUES (?, ?, ?, ?, ?)", rows)
                return len(self) - before
        except sqlite3.Error as exc:
            raise self._damaged(exc) from None

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM calls").fetchone()[0])

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


def _row(key: str, op: str, value: Any, now: float,
         usage: Mapping[str, int] | None) -> tuple[Any, ...]:
    """One row of the ``calls`` table (:data:`_COLUMNS`)."""
    return (key, op, json.dumps(value), now,
            None if usage is None else json.dumps(_usage_record(usage)))


_COLUMNS = ("key", "op", "value", "created", "usage")
"""The columns of schema 2 (schema 1: all but ``usage``)."""


@dataclass(frozen=True)
class Record:
    """One cache entry as read back.

    Attributes:
        value: The stored JSON value.
        usage: Tokens its call was billed (:data:`~subrational.backends.base.USAGE_KEYS`), or
            ``None`` when unknown (an entry written before usage was recorded).
    """

    value: Any
    usage: dict[str, int] | None


@dataclass(frozen=True)
class Entry:
    """One cache entry with its key and operation (what a cache export file holds).

    Attributes:
        key: The cache key (64 hex digits, the contract in the module docstring).
        op: ``score``, ``generate`` or ``noise``.
        value: The stored JSON value.
        usage: Tokens its call was billed, or ``None`` when unknown.
    """

    key: str
    op: str
    value: Any
    usage: dict[str, int] | None


def _usage_record(usage: Mapping[str, int]) -> dict[str, int]:
    return {k: int(usage.get(k, 0)) for k in USAGE_KEYS}


def _read_usage(text: str | None) -> dict[str, int] | None:
    """A stored usage, or None when there is none or it is not one (never a made-up 0)."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(
            isinstance(data.get(k), int) and not isinstance(data.get(k), bool) for k in USAGE_KEYS):
        return None
    return {k: data[k] for k in USAGE_KEYS}


def _check_size(path: Path) -> None:
    """Refuse a SQLite file shorter than its header says (truncated by a crash or a copy)."""
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
        size = path.stat().st_size
    except FileNotFoundError:
        return
    except OSError as exc:
        raise PathError(f"cannot read the cache {path}: {exc.strerror}; check its permissions "
                        f"or set ${CACHE_ENV} to another folder") from None
    if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
        if size == 0:
            return  # an empty file is a new database
        raise PathError(f"the cache {path} is not a SQLite database; delete it (it only holds "
                        f"cached model answers) or set ${CACHE_ENV} to another folder")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if pages and size < page_size * pages:
        raise PathError(f"the cache {path} is truncated ({size} of {page_size * pages} bytes); "
                        f"delete it (it only holds cached model answers) or set ${CACHE_ENV} to "
                        "another folder")


@dataclass
class CallStats:
    """What the cached backend did.

    Attributes:
        hits: Requests answered from the cache.
        calls: Requests answered by the model.
        seconds: Time spent in model calls.
        retries: The backend's retries by kind (``http-503``, ``timeout``, ...), so far.
        paid: Tokens this run's model calls were billed, by kind
            (:data:`~subrational.backends.base.USAGE_KEYS`): every request sent, answered or
            not (a request that failed after being billed, a reply that was no answer).
        replayed: Tokens the cache hits' calls were billed when they were made (hits whose
            usage is known).
        replayed_unknown: Cache hits whose usage is unknown (entries from before usage was
            recorded).
        failed: Requests that failed after their retries (transient faults; not cached).
    """

    hits: int = 0
    calls: int = 0
    seconds: float = 0.0
    retries: dict[str, int] = field(default_factory=dict)
    paid: Counter[str] = field(default_factory=lambda: Counter(dict.fromkeys(USAGE_KEYS, 0)))
    replayed: Counter[str] = field(
        default_factory=lambda: Counter(dict.fromkeys(USAGE_KEYS, 0)))
    replayed_unknown: int = 0
    failed: int = 0

    @property
    def total_retries(self) -> int:
        """All retries, of any kind."""
        return sum(self.retries.values())

    def copy(self) -> CallStats:
        """An independent copy (to take the difference after some work: :meth:`since`)."""
        return CallStats(self.hits, self.calls, self.seconds, dict(self.retries),
                         Counter(self.paid), Counter(self.replayed), self.replayed_unknown,
                         self.failed)

    def since(self, earlier: CallStats) -> CallStats:
        """What was done after ``earlier`` (a :meth:`copy` taken before); retries as now."""
        def minus(a: Counter[str], b: Counter[str]) -> Counter[str]:
            return Counter({k: a[k] - b[k] for k in USAGE_KEYS})

        return CallStats(self.hits - earlier.hits, self.calls - earlier.calls,
                         self.seconds - earlier.seconds, dict(self.retries),
                         minus(self.paid, earlier.paid), minus(self.replayed, earlier.replayed),
                         self.replayed_unknown - earlier.replayed_unknown,
                         self.failed - earlier.failed)


def _encode_scores(s: OptionScores) -> dict[str, Any]:
    return {"logprobs": [lp if math.isfinite(lp) else None for lp in s.logprobs],
            "detail": dict(s.detail)}


def _decode_scores(v: dict[str, Any]) -> OptionScores:
    return OptionScores(tuple(-math.inf if lp is None else lp for lp in v["logprobs"]),
                        v.get("detail", {}))


@dataclass(frozen=True)
class _Op:
    """How one operation is called, checked, stored and read back."""

    name: str
    call: Callable[[Sequence[Any]], list[Any]]
    key: Callable[[Any], str]
    invalid: Callable[[Any, Any], str | None]  # (request, result) -> why it is no answer
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]
    # (result) -> why the caller cannot use it: neither cached nor an error, a FailedCall
    reject: Callable[[Any], str | None] | None = None


class CachedBackend:
    """Wraps a backend: answers from the cache, calls the model for misses only, as a stream.

    Attributes:
        failures: One record per call that failed after its retries: ``op``, ``experiment``,
            ``persona``, ``state`` (from the prompt's meta), ``kind`` and ``reason``.

    Args:
        backend: The model backend (loaded lazily by itself on its first call).
        cache: The cache, or ``None`` to disable caching.
        offline: Replay-only: raise :class:`CacheMissError` instead of calling the model.
        on_progress: Called with the number of requests finished (hits, answers and failed
            calls) as they are stored.
        on_spend: Called with :attr:`stats` each time answers are stored (a spending limit
            raises here: :mod:`subrational.accounting`).
    """

    def __init__(self, backend: Backend, cache: Cache | None, *, offline: bool = False,
                 on_progress: Callable[[int], None] | None = None,
                 on_spend: Callable[[CallStats], None] | None = None) -> None:
        self.backend = backend
        self.cache = cache if backend.capabilities.cacheable else None
        self.offline = offline
        self.on_progress = on_progress or (lambda n: None)
        self.on_spend = on_spend or (lambda stats: None)
        self.stats = CallStats()
        self.failures: list[dict[str, Any]] = []
        self._fingerprint: dict[str, Any] | None = None

    @property
    def fingerprint(self) -> dict[str, Any]:
        """The backend fingerprint, computed once."""
        if self._fingerprint is None:
            self._fingerprint = self.backend.fingerprint()
        return self._fingerprint

    def _score_key(self, r: ScoreRequest) -> str:
        return cache_key({"op": "score", "model": self.fingerprint,
                          "messages": r.prompt.as_dicts(), "options": list(r.options)})

    def _generate_key(self, r: GenerateRequest) -> str:
        return cache_key({"op": "generate", "model": self.fingerprint,
                          "messages": r.prompt.as_dicts(), "temperature": r.temperature,
                          "max_tokens": r.max_tokens, "seed": r.seed})

    def score(self, requests: Sequence[ScoreRequest]) -> list[OptionScores]:
        """Scores for every request, from the cache where possible."""
        return self._run(_Op("score", self.backend.score, self._score_key,
                             lambda r, s: invalid_scores(s, len(r.options)),
                             _encode_scores, _decode_scores), requests)

    def generate(self, requests: Sequence[GenerateRequest], *,
                 accept: Callable[[str], str | None] | None = None) -> list[str]:
        """Texts for every request, from the cache where possible.

        ``accept(text)`` (optional) says why a text is of no use to the caller (e.g. a recall
        probe's answer with no number): such a text is never cached, and comes back as a
        :class:`~subrational.backends.base.FailedCall` of kind ``unparsed``.
        """
        return self._run(_Op("generate", self.backend.generate, self._generate_key,
                             lambda r, t: invalid_text(t), lambda t: {"text": t},
                             lambda v: v.get("text"), accept), requests)

    def _cached(self, op: _Op, requests: Sequence[Any], keys: list[str]) -> dict[str, Any]:
        """Stored answers for ``keys``, decoded; a stored value that is no answer is left out.

        Counts the hits and what their calls cost when they were made.
        """
        if self.cache is None:
            return {}
        stored = self.cache.get_records(keys)
        by_key = dict(zip(keys, requests, strict=True))
        found = {}
        for key, record in stored.items():
            result = op.decode(record.value)
            if op.invalid(by_key[key], result) is None and not (op.reject and op.reject(result)):
                found[key] = result
                if record.usage is None:
                    self.stats.replayed_unknown += 1
                else:
                    self.stats.replayed.update(record.usage)
        self.stats.hits += len(found)
        return found

    def _run(self, op: _Op, requests: Sequence[Any]) -> list[Any]:
        keys = ([op.key(r) for r in requests] if self.cache is not None
                else [str(i) for i in range(len(requests))])
        found = self._cached(op, requests, keys)
        self.on_progress(len(found))
        missing = [i for i, k in enumerate(keys) if k not in found]
        # A backend that cannot score refuses before any call, offline too: the run then falls
        # back to sampling as it did when the cache was filled.
        refuses = op.name == "score" and not self.backend.capabilities.logprobs
        if missing and self.offline and not refuses:
            where = self.cache.path if self.cache is not None else "caching disabled"
            raise CacheMissError(f"--offline: {len(missing)} of {len(requests)} {op.name} calls "
                                 f"for {self.backend.describe()} are not in the cache ({where}); "
                                 "run once without --offline to fill it")
        if missing:
            found.update(self._call(op, [requests[i] for i in missing],
                                    [keys[i] for i in missing]))
        return [found[k] for k in keys]

    def _call(self, op: _Op, requests: list[Any], keys: list[str]) -> dict[str, Any]:
        """Call the model for ``requests``, storing answers as they finish (module docstring).

        A failed call's key maps to a :class:`~subrational.backends.base.FailedCall`. Every
        request's usage is what this run paid (failed requests and non-answers included).

        Raises:
            BackendError: A systematic failure (after the calls in flight ended), results
                that are not answers, or the circuit breaker.
        """
        t0 = time.perf_counter()
        got: dict[str, Any] = {}
        pending: dict[str, Any] = {}
        pending_usage: dict[str, Any] = {}
        invalid: list[str] = []
        systematic: BaseException | None = None
        last = [time.monotonic(), 0]  # when last stored, failed calls since

        def flush(spend: bool) -> None:
            if self.cache is not None and pending:
                self.cache.put_many(op.name, {k: op.encode(v) for k, v in pending.items()},
                                    usage=pending_usage)
            self.on_progress(len(pending) + last[1])
            pending.clear()
            pending_usage.clear()
            last[:] = [time.monotonic(), 0]
            if spend:
                self.on_spend(self.stats)

        stream = self.backend.each(op.name, requests)
        try:
            for outcome in stream:
                if outcome is not None:
                    self.stats.paid.update({k: (outcome.usage or {}).get(k, 0)
                                            for k in USAGE_KEYS})
                    key, request = keys[outcome.index], requests[outcome.index]
                    if outcome.error is not None:
                        kind = transient_kind(outcome.error)
                        if kind is None:
                            systematic = systematic or outcome.error
                            continue
                        got[key] = self._failed(op, request, outcome.error, kind)
                        last[1] += 1
                    else:
                        self.stats.calls += 1
                        reason = op.invalid(request, outcome.result)
                        why = op.reject(outcome.result) if op.reject and reason is None else None
                        if why is not None:
                            got[key] = FailedCall(why, "unparsed")
                        elif reason is None:
                            got[key] = pending[key] = outcome.result
                            pending_usage[key] = outcome.usage
                        else:
                            invalid.append(reason)
                    self.on_spend(self.stats)  # a spending limit stops at once: finally stores
                if len(pending) >= FLUSH_ANSWERS or (
                        (pending or last[1]) and time.monotonic() - last[0] >= FLUSH_SECONDS):
                    flush(spend=False)
        finally:
            stream.close()  # cancels what is still in flight (an error, Ctrl-C)
            self.stats.seconds += time.perf_counter() - t0
            self.stats.retries = self.backend.retry_counts()
            flush(spend=False)
        if systematic is not None:
            raise systematic
        self.on_spend(self.stats)
        if invalid:
            raise BackendError(f"{self.backend.describe()} returned {len(invalid)} of "
                               f"{len(requests)} results that are not answers (first: "
                               f"{invalid[0]}); they were not cached; run again, and check the "
                               "model if it persists")
        return got

    def _failed(self, op: _Op, request: Any, error: BaseException, kind: str) -> FailedCall:
        """Record one failed call; open the circuit breaker when most calls fail."""
        self.stats.failed += 1
        meta = request.prompt.meta
        persona = meta.get("persona")
        self.failures.append({"op": op.name, "experiment": meta.get("experiment"),
                              "persona": getattr(persona, "name", persona),
                              "state": meta.get("state"),
                              "kind": kind, "reason": str(error)})
        ended = self.stats.calls + self.stats.failed
        if self.stats.failed >= BREAKER_MIN_FAILURES and \
                self.stats.failed > BREAKER_SHARE * ended:
            raise BackendError(f"{self.stats.failed} of the {ended} calls to "
                               f"{self.backend.describe()} ended so far failed after their "
                               f"retries (last: {error}); stopped: check the server, then run "
                               "the same command again (the answers so far are cached)")
        return FailedCall(str(error), kind)
