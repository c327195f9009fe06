"""The numerical noise floor: how far an answer moves when only the arithmetic changes.

A model's option probabilities should depend on the prompt alone. In floating point they also
depend on how the prompt was computed: which other prompts shared its batch, how much left
padding it got, which kernels ran. In bfloat16 that rounding is large (SmolLM2-135M on a CPU:
up to 0.09 in P(accept) between batched and one-at-a-time scoring of the same prompt), and an
effect of the state or the persona smaller than it is indistinguishable from rounding.

:func:`measure_noise_floor` scores the same requests twice, once in the backend's own batches
and once one at a time, and reports the largest and the mean ``|ΔP(first option)|`` (options
normalised as the choice-probs method does). It is measured only where the scores are computed
in-process (``Capabilities.local_scoring``): a remote server batches requests with other users'
as it pleases and repeated calls cost money, so there the floor is *not measured* (``None``), not
0. A deterministic backend (scripted) measures exactly 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .base import Backend, OptionScores, ScoreRequest

__all__ = ["BATCH_METHOD", "NoiseFloor", "first_option_probability", "measure_noise_floor"]

BATCH_METHOD = "batched vs one at a time"
"""How :func:`measure_noise_floor` perturbs the computation: the name recorded with the result."""


@dataclass(frozen=True)
class NoiseFloor:
    """The spread of ``P(first option)`` that comes from arithmetic alone.

    Attributes:
        max: Largest ``|ΔP|`` over the prompts; ``None`` when not measured.
        mean: Mean ``|ΔP|`` over the prompts; ``None`` when not measured.
        n_prompts: Prompts compared (those with any mass on their options).
        dtype: The backend's weights and activations (``float32``, ``bfloat16``), ``None`` when
            the backend does not say (a script, a server).
        method: How it was measured (:data:`BATCH_METHOD` with the batch size), or why not.
    """

    max: float | None
    mean: float | None
    n_prompts: int
    dtype: str | None
    method: str

    @property
    def measured(self) -> bool:
        """Whether the numbers exist (a remote backend's floor is unknown, not zero)."""
        return self.max is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields, as stored in the cache and in ``summary.json``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> NoiseFloor:
        """Inverse of :meth:`to_dict`."""
        return cls(value.get("max"), value.get("mean"), int(value.get("n_prompts", 0)),
                   value.get("dtype"), str(value.get("method", "")))

    def describe(self) -> str:
        """One line for the report, e.g. ``max |ΔP| 0.094, mean 0.024 (bfloat16, ...)``."""
        if not self.measured:
            return f"not measured ({self.method})"
        where = ", ".join(x for x in (self.dtype, self.method) if x)
        return (f"max |ΔP| {self.max:.3f}, mean {self.mean:.3f} over {self.n_prompts} prompts "
                f"({where})")


def first_option_probability(scores: OptionScores) -> float:
    """``P(first option)`` normalised over the options; NaN when no option has any mass."""
    finite = [lp for lp in scores.logprobs if math.isfinite(lp)]
    if not finite or not math.isfinite(scores.logprobs[0]):
        return 0.0 if finite else math.nan
    top = max(finite)
    total = sum(math.exp(lp - top) for lp in finite)
    return math.exp(scores.logprobs[0] - top) / total


def measure_noise_floor(backend: Backend, requests: Sequence[ScoreRequest], *,
                        dtype: str | None = None) -> NoiseFloor:
    """Score ``requests`` batched and one at a time; ``|ΔP(first option)|`` max and mean.

    Args:
        backend: Any backend; only one with ``capabilities.local_scoring`` is measured.
        requests: The prompts to compare, in a fixed order (the result depends on the batches
            they form, so the same requests in the same order give the same result).
        dtype: Recorded with the result; default the backend fingerprint's ``dtype``.
    """
    dtype = dtype if dtype is not None else backend.fingerprint().get("dtype")
    if not backend.capabilities.local_scoring:
        return NoiseFloor(None, None, 0, dtype, f"{backend.name} scores remotely: its "
                          "batching is not ours to vary, so the floor is unknown")
    if not requests:
        return NoiseFloor(None, None, 0, dtype, "no prompts to compare")
    batched = backend.score(requests)
    single = [backend.score([request])[0] for request in requests]
    diffs = [abs(first_option_probability(b) - first_option_probability(s))
             for b, s in zip(batched, single, strict=True)]
    diffs = [d for d in diffs if math.isfinite(d)]
    size = backend.capabilities.max_concurrency
    method = f"{BATCH_METHOD} (batches of {min(size, len(requests))})"
    if not diffs:
        return NoiseFloor(None, None, 0, dtype, "no prompt put mass on its options")
    return NoiseFloor(max(diffs), sum(diffs) / len(diffs), len(diffs), dtype, method)
