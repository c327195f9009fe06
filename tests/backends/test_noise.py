"""The numerical noise floor: a known injected noise is recovered; exact backends measure 0."""

from __future__ import annotations

import math

import numpy as np
import pytest

from subrational.backends.base import (
    Backend,
    Capabilities,
    Message,
    OptionScores,
    Prompt,
    ScoreRequest,
)
from subrational.backends.noise import NoiseFloor, first_option_probability, measure_noise_floor
from subrational.backends.scripted import ScriptedBackend
from subrational.cache import Cache, CachedBackend
from subrational.elicitation.noise import NOISE_PROMPTS, noise_requests, numerical_noise
from subrational.experiments import make
from support import human_logistic

TRUE_P = [0.2, 0.5, 0.7, 0.9, 0.35, 0.6]
#: Added to P(first option) of prompt i when it is scored in a batch of more than one.
SHIFT = [0.03, -0.08, 0.01, -0.02, 0.05, 0.0]


def _logprobs(p: float) -> OptionScores:
    return OptionScores((math.log(p), math.log(1 - p)))


class BatchNoisy(Backend):
    """Exact alone; shifted by ``SHIFT[i]`` (times ``scale``) in a batch: a known noise floor."""

    name = "batchnoisy"

    def __init__(self, *, scale: float = 1.0, local: bool = True, batch: int = 8) -> None:
        super().__init__("fake")
        self.scale, self.local, self.batch, self.calls = scale, local, batch, 0

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(logprobs=True, max_concurrency=self.batch, local_scoring=self.local)

    def fingerprint(self):
        return {"backend": self.name, "model": self.model, "dtype": "bfloat16"}

    def score(self, requests):
        self.calls += len(requests)
        out = []
        for r in requests:
            i = int(r.prompt.messages[0].content)
            shift = self.scale * SHIFT[i] if len(requests) > 1 else 0.0
            out.append(_logprobs(TRUE_P[i] + shift))
        return out

    def generate(self, requests):
        raise NotImplementedError


REQUESTS = [ScoreRequest(Prompt((Message("user", str(i)),)), ("A", "B"))
            for i in range(len(TRUE_P))]


def test_an_injected_batch_noise_is_recovered():
    floor = measure_noise_floor(BatchNoisy(), REQUESTS)
    assert floor.max == pytest.approx(0.08, abs=1e-12)
    assert floor.mean == pytest.approx(np.mean(np.abs(SHIFT)), abs=1e-12)
    assert floor.n_prompts == len(TRUE_P) and floor.dtype == "bfloat16"
    assert floor.method == "batched vs one at a time (batches of 6)"
    # Ten times less noise reads ten times smaller: the floor scales with the truth.
    small = measure_noise_floor(BatchNoisy(scale=0.1), REQUESTS)
    assert small.max == pytest.approx(0.008, abs=1e-12)


def test_a_deterministic_backend_has_a_floor_of_exactly_zero():
    exp = make("ultimatum")
    requests = noise_requests(exp, list(exp.personas.values()))
    floor = measure_noise_floor(ScriptedBackend("x", probs_fn=human_logistic, batch_size=5),
                                requests)
    assert floor.measured and floor.max == 0.0 and floor.mean == 0.0
    assert floor.n_prompts == NOISE_PROMPTS and floor.dtype is None


def test_a_remote_backend_is_not_measured_and_not_called():
    backend = BatchNoisy(local=False)
    floor = measure_noise_floor(backend, REQUESTS)
    assert not floor.measured and floor.max is None and floor.mean is None
    assert "remotely" in floor.method and backend.calls == 0
    assert floor.describe().startswith("not measured (")


def test_noise_prompts_are_fixed_and_span_the_plan():
    exp = make("ultimatum")
    personas = list(exp.personas.values())
    first, again = noise_requests(exp, personas), noise_requests(exp, personas)
    assert first == again and len(first) == NOISE_PROMPTS
    metas = [r.prompt.meta for r in first]
    assert {m["persona"].name for m in metas} == set(exp.personas)
    assert len({m["state"] for m in metas}) >= 10
    assert len({r.prompt.messages for r in first}) == NOISE_PROMPTS  # no prompt twice
    # A plan smaller than the sample is taken whole.
    assert len(noise_requests(exp, personas[:1], paraphrases=1)) == NOISE_PROMPTS
    assert len(noise_requests(exp, personas[:1], paraphrases=1, n=100)) == 42


def test_first_option_probability_normalises_over_the_options():
    assert first_option_probability(OptionScores((math.log(0.2), math.log(0.2)))) == 0.5
    assert first_option_probability(OptionScores((-math.inf, -1.0))) == 0.0
    assert math.isnan(first_option_probability(OptionScores((-math.inf, -math.inf))))


class _Prompted(BatchNoisy):
    """BatchNoisy that reads the prompt index from the meta of real study prompts."""

    def score(self, requests):
        self.calls += len(requests)
        shifts = [0.05 * (i % 3) if len(requests) > 1 else 0.0 for i in range(len(requests))]
        return [_logprobs(0.4 + s) for s in shifts]


def test_the_run_measurement_is_cached_like_a_call_and_replays_offline(tmp_path):
    exp = make("ultimatum")
    personas = list(exp.personas.values())
    cache = Cache(tmp_path / "calls.sqlite")
    live = _Prompted()
    first = numerical_noise(exp, personas, CachedBackend(live, cache), method="choice-probs")
    assert first.measured and first.max == pytest.approx(0.10) and live.calls == 2 * 16
    replay = _Prompted()
    again = numerical_noise(exp, personas, CachedBackend(replay, cache, offline=True),
                            method="choice-probs")
    assert again == first and replay.calls == 0
    # The batch size is part of the key: other batches are another measurement.
    other = _Prompted(batch=4)
    missing = numerical_noise(exp, personas, CachedBackend(other, cache, offline=True),
                              method="choice-probs")
    assert not missing.measured and "--offline" in missing.method and other.calls == 0


def test_an_empty_cache_offline_is_not_measured_rather_than_an_error(tmp_path):
    exp = make("ultimatum")
    backend = _Prompted()
    floor = numerical_noise(exp, list(exp.personas.values()),
                            CachedBackend(backend, Cache(tmp_path / "c.sqlite"), offline=True),
                            method="choice-probs")
    assert floor == NoiseFloor(None, None, 0, "bfloat16", floor.method)
    assert "run once without --offline" in floor.method and backend.calls == 0


def test_the_sample_method_is_not_measured():
    exp = make("ultimatum")
    backend = _Prompted()
    floor = numerical_noise(exp, list(exp.personas.values()), CachedBackend(backend, None),
                            method="sample")
    assert not floor.measured and "sample" in floor.method and backend.calls == 0
