"""Seeded generators derived from (run seed, parts): one derivation for the whole package.

Every random stream (a sampled draw's seed, an episode's coin flips, a bootstrap, a rollout)
is ``sha256("seed|part|part|...")``, so streams are independent of each other and of the order in
which they are used, and a replay gives the same numbers. The derivation is part of the cache
contract (a draw's seed is in its cache key): changing it would orphan every cached sample.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["derive_seed", "derived_rng"]


def derive_seed(seed: int, *parts: object, bits: int = 64) -> int:
    """A ``bits``-bit integer from ``"seed|part|..."`` (31 for the seeds sent to a model)."""
    text = "|".join(str(p) for p in (seed, *parts))
    digest = int.from_bytes(hashlib.sha256(text.encode()).digest()[:(bits + 7) // 8], "big")
    return digest >> ((8 - bits % 8) % 8)


def derived_rng(seed: int, *parts: object) -> np.random.Generator:
    """A NumPy generator for one stream, independent of every other (seed, parts)."""
    return np.random.default_rng(derive_seed(seed, *parts))
