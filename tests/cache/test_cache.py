import math

import pytest

from subrational.backends.base import Message, OptionScores, Prompt, ScoreRequest
from subrational.backends.scripted import ScriptedBackend
from subrational.cache import Cache, CachedBackend, cache_key
from subrational.errors import CacheMissError


def test_cache_key_is_canonical_and_sensitive_to_every_field():
    base = {"op": "score", "model": {"backend": "x", "model": "m", "sha256": "ab"},
            "messages": [{"role": "user", "content": "hi"}], "options": ["A", "B"]}
    reordered = dict(reversed(list(base.items())))
    assert cache_key(base) == cache_key(reordered)
    for field, value in [("options", ["B", "A"]), ("messages", [{"role": "user", "content": "ho"}]),
                         ("model", {"backend": "x", "model": "m", "sha256": "cd"})]:
        assert cache_key({**base, field: value}) != cache_key(base)


class CountingBackend(ScriptedBackend):
    """A cacheable scripted backend that counts calls and can fail on demand."""

    def __init__(self, fail: bool = False):
        super().__init__("count", probs_fn=lambda persona, state: [0.25, 0.75], cacheable=True,
                         batch_size=2)
        self.fail = fail

    def score(self, requests):
        if self.fail:
            raise RuntimeError("server exploded")
        return super().score(requests)


def _requests(n):
    meta = {"persona": None, "state": None, "actions": ("A", "B")}
    return [ScoreRequest(Prompt((Message("user", f"q{i}"),), meta), ("A", "B")) for i in range(n)]


def test_second_identical_call_is_served_from_the_cache(tmp_path):
    cache = Cache(tmp_path / "c.sqlite")
    first = CachedBackend(CountingBackend(), cache)
    out1 = first.score(_requests(5))
    assert first.stats.calls == 5 and first.backend.calls == 5
    second = CachedBackend(CountingBackend(), Cache(tmp_path / "c.sqlite"))
    out2 = second.score(_requests(5))
    assert second.backend.calls == 0 and second.stats.hits == 5
    assert out1 == out2
    assert out2[0].logprobs[1] == pytest.approx(math.log(0.75))


def test_offline_mode_fails_loudly_on_a_miss(tmp_path):
    cached = CachedBackend(CountingBackend(), Cache(tmp_path / "c.sqlite"), offline=True)
    with pytest.raises(CacheMissError, match="--offline: 3 of 3 score calls"):
        cached.score(_requests(3))
    assert cached.backend.calls == 0


def test_errors_are_never_cached_and_finished_batches_survive(tmp_path):
    cache = Cache(tmp_path / "c.sqlite")
    CachedBackend(CountingBackend(), cache).score(_requests(2))  # one finished batch
    with pytest.raises(RuntimeError):
        CachedBackend(CountingBackend(fail=True), cache).score(_requests(4))
    assert len(cache) == 2


def test_minus_infinity_round_trips_through_json(tmp_path):
    def certain():
        return ScriptedBackend("x", probs_fn=lambda persona, state: [1.0, 0.0], cacheable=True)

    cache = Cache(tmp_path / "c.sqlite")
    first = CachedBackend(certain(), cache).score(_requests(1))[0]
    again = CachedBackend(certain(), cache)
    assert again.score(_requests(1))[0].logprobs == first.logprobs == (0.0, -math.inf)
    assert again.backend.calls == 0


def test_scripted_backends_are_not_cached_unless_asked():
    assert not ScriptedBackend("x", probs_fn=lambda p, s: [0.5, 0.5]).capabilities.cacheable


class FaultyBackend(ScriptedBackend):
    """Scores NaN for one prompt, or fails part of a batch after finishing the rest."""

    def __init__(self, *, nan_for=None, partial=False):
        super().__init__("faulty", probs_fn=lambda persona, state: [0.25, 0.75], cacheable=True,
                         batch_size=4)
        self.nan_for, self.partial = nan_for, partial

    def score(self, requests):
        out = super().score(requests)
        if self.partial:
            from subrational.backends.base import attach_completed
            from subrational.errors import BackendError

            raise attach_completed(BackendError("one request failed"), dict(enumerate(out[1:], 1)))
        return [OptionScores((math.nan, s.logprobs[1])) if r.prompt.messages[0].content
                == self.nan_for else s for r, s in zip(requests, out, strict=True)]


def test_a_nan_score_is_an_error_and_never_cached(tmp_path):
    from subrational.errors import BackendError

    cache = Cache(tmp_path / "c.sqlite")
    with pytest.raises(BackendError, match=r"1 of 3 results that are not answers .*nan"):
        CachedBackend(FaultyBackend(nan_for="q1"), cache).score(_requests(3))
    assert len(cache) == 2  # the two valid answers of the batch are kept
    healthy = CachedBackend(FaultyBackend(), cache)
    healthy.score(_requests(3))
    assert healthy.stats.hits == 2 and healthy.backend.calls == 1  # only the NaN one is asked again


def test_the_finished_part_of_a_failed_batch_is_cached(tmp_path):
    from subrational.errors import BackendError

    cache = Cache(tmp_path / "c.sqlite")
    cached = CachedBackend(FaultyBackend(partial=True), cache)
    with pytest.raises(BackendError, match="one request failed"):
        cached.score(_requests(4))
    assert len(cache) == 3 and cached.stats.calls == 3


def test_an_empty_text_stored_by_an_older_version_is_asked_again(tmp_path):
    from subrational.backends.base import GenerateRequest

    cache = Cache(tmp_path / "c.sqlite")
    meta = {"persona": None, "state": None, "actions": ("A", "B")}
    reqs = [GenerateRequest(Prompt((Message("user", "q"),), meta), options=("A", "B"))]
    first = CachedBackend(CountingBackend(), cache)
    cache.put_many("generate", {first._generate_key(reqs[0]): {"text": ""}})
    assert first.generate(reqs)[0].startswith("Let me think")
    assert (first.stats.hits, first.stats.calls) == (0, 1)
    replay = CachedBackend(CountingBackend(), cache, offline=True)
    assert replay.generate(reqs)[0].startswith("Let me think")
