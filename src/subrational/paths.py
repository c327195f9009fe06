"""Where subrational keeps things on disk, and how it writes them.

Every output file is written **atomically**: the bytes go to a temporary file in the same folder,
are flushed to disk, and the temporary file is renamed over the target (``os.replace``). A run
killed at any moment leaves either the old file or the new one, never a truncated one, plus at
worst a ``.tmp-*`` file that no reader looks at. Any ``OSError`` on the way (disk full, read-only,
a file where a folder should be) becomes one :class:`~subrational.errors.PathError` line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

import platformdirs

from .errors import PathError

__all__ = ["cache_dir", "check_cache_dir", "ensure_dir", "write_bytes_atomic",
           "write_text_atomic", "explain"]

#: Environment variable that overrides the cache location (tests point it at a temp dir).
CACHE_ENV = "SUBRATIONAL_CACHE_DIR"
TMP_PREFIX = ".tmp-"


def _cache_location() -> Path:
    return Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("subrational"))


def cache_dir() -> Path:
    """The user cache directory (``$SUBRATIONAL_CACHE_DIR`` or the platform default), created."""
    return ensure_dir(_cache_location(), what=f"the cache directory (${CACHE_ENV})")


def explain(exc: OSError) -> str:
    """A short reason and what to do about it, for an ``OSError`` while writing."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{reason}: free some space or write somewhere else"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{reason}: check its permissions or write somewhere else"
    return reason


def ensure_dir(path: Path, *, what: str) -> Path:
    """Create the folder ``path`` (and its parents) and check it is writable; return it.

    Raises:
        PathError: ``path`` or a parent is a file, or the folder cannot be created or written.
    """
    path = Path(path)
    blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        where = "" if blocker == path else f" ({blocker} is a file)"
        raise PathError(f"{what} {path} cannot be a folder{where}; remove the file or choose "
                        "another path")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PathError(f"cannot create {what} {path}: {explain(exc)}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise PathError(f"{what} {path} is not writable; check its permissions or choose "
                        "another path")
    return path


def check_cache_dir() -> Path:
    """The cache directory, created and proven writable by writing (and removing) a probe file."""
    path = cache_dir()
    try:
        fd, tmp = tempfile.mkstemp(dir=path, prefix=f"{TMP_PREFIX}probe-")
        try:
            _write_all(fd, b"probe")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(tmp)
    except OSError as exc:
        raise PathError(f"cannot write in the cache directory (${CACHE_ENV}) {path}: "
                        f"{explain(exc)}") from None
    return path


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_bytes_atomic(path: Path, data: bytes, *, what: str = "") -> Path:
    """Write ``data`` to ``path`` atomically (temporary file + ``os.replace``); return the path.

    Raises:
        PathError: The file cannot be written (disk full, read-only, not a folder, ...).
    """
    path = Path(path)
    label = f"{what} {path}" if what else str(path)
    if path.is_dir():
        raise PathError(f"cannot write {label}: it is a directory; remove it or choose a file")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TMP_PREFIX}{path.name}-")
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise PathError(f"cannot write {label}: {explain(exc)}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return path


def write_text_atomic(path: Path, text: str, *, what: str = "") -> Path:
    """:func:`write_bytes_atomic` of ``text`` encoded as UTF-8."""
    return write_bytes_atomic(path, text.encode("utf-8"), what=what)

