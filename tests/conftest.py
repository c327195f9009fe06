"""Shared fixtures: an explicit rng, an isolated cache dir, scripted backends with known truth."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/support.py, tests/openai_server.py

from support import human_logistic, persona_logistic  # noqa: E402


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets its own cache dir (never the user's)."""
    path = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(path))
    return path


@pytest.fixture(autouse=True, scope="session")
def registered_scripts():
    from subrational.backends.scripted import register_script

    register_script("human-logistic", human_logistic)
    register_script("persona-logistic", persona_logistic)
