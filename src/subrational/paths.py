"""Where subrational keeps things on disk."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["cache_dir"]

#: Environment variable that overrides the cache location (tests point it at a temp dir).
CACHE_ENV = "SUBRATIONAL_CACHE_DIR"


def cache_dir() -> Path:
    """The user cache directory (``$SUBRATIONAL_CACHE_DIR`` or the platform default), created."""
    path = Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("subrational"))
    path.mkdir(parents=True, exist_ok=True)
    return path
