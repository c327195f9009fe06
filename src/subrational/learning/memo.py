"""Trained rounds of seeds remembered on disk, keyed by everything the training reads.

Training is deterministic on a CPU (see :mod:`.train`): the same tensors, validation mask,
seeds, settings, code and library versions give the same weights bit for bit. A warm replay of
a run (every model call from the cache) therefore trained the same networks again, and that was
most of its time (procrastination: two trainings of 3,000 full-batch epochs). A round's result
is now stored under ``<cache dir>/trained/<key>.pt`` once and read back on the next identical
round, so a replay reports exactly the numbers a fresh training gives, without the epochs.

The key is a SHA-256 over the training tensors' bytes, dtypes and shapes, the validation mask,
the seeds, the round and its patience, every :class:`~.train.TrainConfig` field, the source of
the modules that train (this package's ``train``, ``replicas``, ``losses``, ``network`` and
``dataset``), and the torch and numpy versions: a change to any of them trains afresh. Files
hold plain tensors and numbers only (read with ``weights_only=True``), are written atomically
(a temporary file renamed into place), and a file that cannot be read is ignored and
rewritten. A cache that cannot be written only costs the time: training never fails for it.
``SUBRATIONAL_NO_TRAINED_CACHE=1`` turns the memo off (benchmarks that time the training).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..paths import cache_dir, write_bytes_atomic

__all__ = ["FORMAT", "DISABLE_ENV", "round_key", "load_round", "save_round"]

log = logging.getLogger(__name__)

FORMAT = 1
"""Version of the stored files; part of the key, so a new format never reads an old file."""

DISABLE_ENV = "SUBRATIONAL_NO_TRAINED_CACHE"

_SOURCES = ("train.py", "replicas.py", "losses.py", "network.py", "dataset.py")


@functools.lru_cache(maxsize=1)
def _code_digest() -> str:
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in _SOURCES:
        digest.update(name.encode())
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def _tensor(digest: Any, t: torch.Tensor) -> None:
    digest.update(f"{t.dtype}{tuple(t.shape)}".encode())
    digest.update(t.detach().contiguous().cpu().numpy().tobytes())


def enabled() -> bool:
    """Whether rounds are remembered (not when ``$SUBRATIONAL_NO_TRAINED_CACHE`` is set)."""
    return not os.environ.get(DISABLE_ENV)


def round_key(tensors: list[torch.Tensor], *, seeds: list[int], config: Any, round_: int,
              patience: int) -> str:
    """The SHA-256 key of one round: its inputs, settings, the training code and versions."""
    digest = hashlib.sha256()
    for t in tensors:
        _tensor(digest, t)
    digest.update(json.dumps({
        "format": FORMAT, "seeds": seeds, "round": round_, "patience": patience,
        "config": dataclasses.asdict(config), "code": _code_digest(),
        "torch": torch.__version__, "numpy": np.__version__}, sort_keys=True,
        default=str).encode())
    return digest.hexdigest()


def _path(key: str) -> Path:
    return cache_dir() / "trained" / f"{key}.pt"


def load_round(key: str) -> list[dict[str, Any]] | None:
    """The stored round under ``key``, or ``None`` (absent, disabled, or unreadable)."""
    if not enabled():
        return None
    try:
        path = _path(key)
        if not path.is_file():
            return None
        stored = torch.load(path, weights_only=True)
        if stored.get("format") != FORMAT or stored.get("key") != key:
            return None
        return list(stored["fitted"])
    except Exception as exc:  # noqa: BLE001 - a damaged file only costs a training
        log.debug("ignoring the stored training %s: %s", key, exc)
        return None


def save_round(key: str, fitted: list[dict[str, Any]]) -> None:
    """Store a round under ``key`` atomically; a failure is logged and otherwise ignored."""
    if not enabled():
        return
    try:
        buffer = io.BytesIO()
        torch.save({"format": FORMAT, "key": key, "fitted": fitted}, buffer)
        path = _path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, buffer.getvalue(), what="a stored training")
    except Exception as exc:  # noqa: BLE001 - read-only or full cache: train again next time
        log.debug("not storing the training %s: %s", key, exc)
