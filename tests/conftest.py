"""Shared fixtures: an explicit rng, an isolated cache dir, scripted backends with known truth."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

sys.path.insert(0, str(Path(__file__).parent))  # tests/openai_server.py


def human_logistic(persona, state) -> list[float]:
    """P(reject | s) = sigmoid(1.59 - 10.42 s) (Heffner & FeldmanHall 2022) for every persona."""
    p_reject = float(expit(1.59 - 10.42 * state.offer))
    return [1.0 - p_reject, p_reject]


def persona_logistic(persona, state) -> list[float]:
    """A fair persona with a high threshold, a typical human one, a selfish one that accepts."""
    a, b = {"fair": (4.5, -15.0), "typical": (1.59, -10.42), "selfish": (-4.0, 0.0)}[persona.name]
    p_reject = float(expit(a + b * state.offer))
    return [1.0 - p_reject, p_reject]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets its own cache dir (never the user's)."""
    path = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(path))
    return path


@pytest.fixture
def scripted_human():
    from subrational.backends.scripted import ScriptedBackend

    return ScriptedBackend("human", probs_fn=human_logistic)


class CacheableScripted:
    """Factory of scripted backends that the on-disk cache may store (to test caching)."""

    @staticmethod
    def make(fn):
        from subrational.backends.base import Capabilities
        from subrational.backends.scripted import ScriptedBackend

        class _Backend(ScriptedBackend):
            @property
            def capabilities(self):
                return Capabilities(logprobs=True, max_concurrency=16, cacheable=True)

        return _Backend("cacheable", probs_fn=fn)


@pytest.fixture(autouse=True, scope="session")
def registered_scripts():
    from subrational.backends.scripted import register_script

    register_script("human-logistic", human_logistic)
    register_script("persona-logistic", persona_logistic)
