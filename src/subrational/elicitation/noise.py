"""A run's numerical noise floor: a fixed sample of its own prompts, measured once and cached.

:func:`numerical_noise` picks :data:`NOISE_PROMPTS` cells of the choice-probs plan at random
with a fixed seed (so they span personas, states, wordings and option orders, and are the same
in every run of the same plan, whatever the run's ``--seed``), and measures
:func:`~subrational.backends.noise.measure_noise_floor` on them.

**Cached like a call.** A run answered from the cache never loads the model, and must write the
same ``summary.json`` as the run that filled it; measuring again would load the model for nothing
(and, on another machine, could measure something else). So the result is stored in the call
cache under a key of the same contract (:mod:`subrational.cache`): the SHA-256 of the canonical
JSON of ``op = "noise"``, the backend fingerprint (which holds the dtype), the method, the batch
size (the batches are what is varied) and the requests (messages and options, in order). A
replay reads it, ``--offline`` included. Under ``--offline`` a cache filled before this
measurement existed has no entry: the floor is then *not measured* and says so, rather than
failing a replay for a diagnostic. A backend the cache does not store (scripted by default) is
measured afresh each time; it is deterministic, so the result repeats.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ..backends.base import ScoreRequest
from ..backends.noise import BATCH_METHOD, NoiseFloor, measure_noise_floor
from ..cache import CachedBackend, cache_key
from ..experiments.core import Experiment, Persona
from ..seeding import derived_rng
from .elicit import _cells

__all__ = ["NOISE_PROMPTS", "noise_requests", "numerical_noise"]

NOISE_PROMPTS = 16
"""Prompts compared per study: one batch of the default batch size; the measurement costs one
batched pass and 16 single ones (about 10 s for SmolLM2-135M in float32 on a 2-core CPU)."""


def noise_requests(experiment: Experiment, personas: Sequence[Persona], *,
                   paraphrases: int | None = None, n: int = NOISE_PROMPTS) -> list[ScoreRequest]:
    """``n`` choice-probs requests of the plan (all of it when smaller), the same every run."""
    cells = _cells(experiment, personas, paraphrases)
    if len(cells) > n:
        # Evenly spaced picks alias with the plan's nesting (states x wordings x orders).
        picks = derived_rng(0, "noise-floor", experiment.id).choice(len(cells), n, replace=False)
        cells = [cells[i] for i in sorted(picks)]
    return [ScoreRequest(c.prompt(experiment, "choice-probs"), experiment.actions)
            for c in cells]


def _key(cached: CachedBackend, requests: Sequence[ScoreRequest]) -> str:
    return cache_key({"op": "noise", "model": cached.fingerprint, "method": BATCH_METHOD,
                      "batch": cached.backend.capabilities.max_concurrency,
                      "requests": [{"messages": r.prompt.as_dicts(), "options": list(r.options)}
                                   for r in requests]})


def numerical_noise(experiment: Experiment, personas: Sequence[Persona], cached: CachedBackend,
                    *, method: str, paraphrases: int | None = None) -> NoiseFloor:
    """The noise floor of ``cached``'s backend on this study's prompts, from the cache if there.

    Only for the choice-probs method: sampled answers carry sampling noise far above rounding,
    and their intervals already count it.
    """
    dtype = cached.fingerprint.get("dtype")
    if method != "choice-probs":
        return NoiseFloor(None, None, 0, dtype, f"the {method} method: sampling noise, counted "
                          "in the intervals, dwarfs rounding")
    requests = noise_requests(experiment, personas, paraphrases=paraphrases)
    cache = cached.cache
    if cache is None or not cached.backend.capabilities.local_scoring:
        # Nothing cached to replay: a remote backend's floor is unknown online and offline alike.
        return measure_noise_floor(cached.backend, requests, dtype=dtype)
    key = _key(cached, requests)
    stored = cache.get_many([key]).get(key)
    if stored is not None:
        return NoiseFloor.from_dict(stored)
    if cached.offline:
        return NoiseFloor(None, None, 0, dtype, "--offline and not in the cache (filled by an "
                          "older version); run once without --offline to measure it")
    start = time.perf_counter()
    floor = measure_noise_floor(cached.backend, requests, dtype=dtype)
    cached.stats.seconds += time.perf_counter() - start
    if floor.measured:
        cache.put_many("noise", {key: floor.to_dict()})
    return floor
