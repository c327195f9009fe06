"""Shared fixtures: an explicit rng, an isolated cache dir, scripted backends with known truth."""

from __future__ import annotations

import os
import sys

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs one worker per core (pytest-xdist): each worker, and every process it
    # starts, gets its share of the cores, so two workers scoring with the real model at once do
    # not run four threads on two cores. Read by torch (and the BLAS) when they are imported.
    _workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // _workers)))
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/support.py, tests/openai_server.py

from support import human_logistic, persona_logistic, share_models  # noqa: E402


def pytest_collection_modifyitems(config, items) -> None:
    """Files with ``slow`` tests first (stable otherwise): with one worker per core
    (``make test``), the long files then start at once instead of last, where one would run
    alone while the other worker idles."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def shared_models(tmp_path_factory) -> Path:
    """One folder of de-quantised models for the whole session, shared by the xdist workers.

    Only the embedded model's float32 copy goes there: each test's cache links its ``models``
    folder here, so the model is de-quantised once per session (about 20 s each time), not once
    per test. Saving is atomic (a temporary folder renamed into place), so two workers that
    de-quantise at once both succeed. Tests of the de-quantised cache itself use a cache of
    their own (``tests/backends/test_hf.py``, ``test_model_cache.py``).
    """
    base = tmp_path_factory.getbasetemp()
    path = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-models"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch, shared_models) -> Path:
    """Every test gets its own cache dir (never the user's); de-quantised models are shared."""
    path = share_models(tmp_path_factory.mktemp("cache"), shared_models)
    monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(path))
    return path


@pytest.fixture(autouse=True, scope="session")
def registered_scripts():
    from subrational.backends.scripted import register_script

    register_script("human-logistic", human_logistic)
    register_script("persona-logistic", persona_logistic)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory, shared_models) -> Path:
    """One call cache for a module's tests (the end-to-end files), models shared as above."""
    return share_models(tmp_path_factory.mktemp("e2e-cache"), shared_models)


@pytest.fixture
def cache_env(shared_cache, monkeypatch) -> Path:
    """The module's shared call cache as this test's cache dir."""
    monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(shared_cache))
    return shared_cache
