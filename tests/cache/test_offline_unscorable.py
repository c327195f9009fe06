"""Offline, a backend that cannot score refuses as it does live, so the run falls back."""

import pytest

from subrational.backends.base import Message, Prompt, ScoreRequest
from subrational.cache import Cache, CachedBackend
from subrational.errors import CacheMissError, LogprobsUnavailableError


def _requests():
    return [ScoreRequest(Prompt((Message("user", f"q{i}"),), {}), ("A", "B")) for i in range(3)]


def test_an_unscorable_backend_offline_refuses_scoring_instead_of_missing(tmp_path):
    pytest.importorskip("anthropic")
    from subrational.backends.anthropic_api import AnthropicBackend

    backend = AnthropicBackend("claude-test", offline=True)
    cached = CachedBackend(backend, Cache(tmp_path / "c.sqlite"), offline=True)
    with pytest.raises(LogprobsUnavailableError, match="no log-probabilities"):
        cached.score(_requests())
    assert cached.stats.calls == 0 and backend.usage_totals()["calls"] == 0


def test_a_scorable_backend_offline_still_fails_loudly_on_a_miss(tmp_path):
    from subrational.backends.scripted import ScriptedBackend

    backend = ScriptedBackend("uniform", cacheable=True)
    cached = CachedBackend(backend, Cache(tmp_path / "c.sqlite"), offline=True)
    with pytest.raises(CacheMissError, match="--offline: 3 of 3 score calls"):
        cached.score(_requests())
