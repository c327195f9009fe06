"""The de-quantised model cache never fails a run and never leaks its temporary directory.

No model is loaded: a fake model and tokenizer stand in for transformers' objects, so these
tests check the saving logic (space check, failures, stale temp dirs) in milliseconds.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest

from subrational.backends import model_files

Usage = namedtuple("Usage", "total used free")


class Weights:
    def __init__(self, n: int) -> None:
        self.n = n

    def numel(self) -> int:
        return self.n

    def element_size(self) -> int:
        return 4


class FakeModel:
    """135 M float32 parameters, like SmolLM2 de-quantised (~540 MB)."""

    def __init__(self, save=None) -> None:
        self.saved: list[Path] = []
        self._save = save
        self.config = type("Config", (), {})()

    def parameters(self):
        return [Weights(100_000_000), Weights(35_000_000)]

    def save_pretrained(self, folder) -> None:
        self.saved.append(Path(folder))
        if self._save is not None:
            self._save(Path(folder))
        else:
            (Path(folder) / "model.safetensors").write_bytes(b"w" * 100)
            (Path(folder) / "config.json").write_text("{}")


class FakeTokenizer:
    def save_pretrained(self, folder) -> None:
        (Path(folder) / "tokenizer.json").write_text("{}")


class SafetensorError(Exception):
    """What safetensors raises on a full disk: not an OSError."""


@pytest.fixture
def models(tmp_path) -> Path:
    return tmp_path / "models"


def _leftovers(models: Path) -> list[str]:
    return sorted(p.name for p in models.iterdir() if p.name.startswith(".tmp"))


def test_saves_and_renames_into_place(models):
    model = FakeModel()
    model_files._save_dequantised(FakeTokenizer(), model, models / "abc")
    assert (models / "abc" / "config.json").is_file()
    assert (models / "abc" / "tokenizer.json").is_file()
    assert model.saved and model.saved[0].parent == models  # temp dir inside the cache dir
    assert _leftovers(models) == []


def test_too_little_space_carries_on_without_caching(models, monkeypatch, caplog):
    monkeypatch.setattr(model_files.shutil, "disk_usage", lambda p: Usage(10**12, 0, 300 << 20))
    model = FakeModel()
    with caplog.at_level(logging.WARNING, logger=model_files.__name__):
        model_files._save_dequantised(FakeTokenizer(), model, models / "abc")
    assert model.saved == []  # not even tried: it would fill the disk
    assert not (models / "abc").exists() and _leftovers(models) == []
    assert "300 MB free" in caplog.text and "MB needed" in caplog.text


def test_just_enough_space_is_used(models, monkeypatch):
    monkeypatch.setattr(model_files.shutil, "disk_usage", lambda p: Usage(10**12, 0, 700 << 20))
    model_files._save_dequantised(FakeTokenizer(), FakeModel(), models / "abc")
    assert (models / "abc" / "config.json").is_file()


@pytest.mark.parametrize("error", [SafetensorError("Error while serializing: IoError(No space "
                                                   "left on device)"),
                                   OSError(28, "No space left on device"),
                                   RuntimeError("anything else")])
def test_a_failing_save_leaves_no_temp_dir_and_no_traceback(models, error, caplog):
    def fail(folder: Path) -> None:
        (folder / "model.safetensors").write_bytes(b"half")
        raise error

    with caplog.at_level(logging.WARNING, logger=model_files.__name__):
        model_files._save_dequantised(FakeTokenizer(), FakeModel(save=fail), models / "abc")
    assert not (models / "abc").exists() and _leftovers(models) == []
    assert "could not cache the dequantised model" in caplog.text


def test_a_killed_save_is_cleaned_up_on_the_next_start(models):
    models.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = models / f".tmp-abcdefabcdef-{int(dead.stdout)}-x1y2"
    (stale / "model.safetensors").parent.mkdir()
    (stale / "model.safetensors").write_bytes(b"half a model")
    running = models / f".tmp-abcdefabcdef-{os.getpid()}-z9"  # another live save: kept
    running.mkdir()
    model_files.remove_stale_temp_dirs(models)
    assert not stale.exists() and running.is_dir()


def test_load_gguf_returns_the_model_when_the_cache_cannot_be_written(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(tmp_path / "cache"))
    model = FakeModel(save=lambda folder: (_ for _ in ()).throw(SafetensorError("disk full")))
    monkeypatch.setattr(model_files, "from_pretrained", lambda *a, **k: (FakeTokenizer(), model))
    stale = tmp_path / "cache" / "models" / ".tmp-abcdefabcdef-999999999-q"
    stale.mkdir(parents=True)
    tokenizer, loaded = model_files.load_gguf(tmp_path / "m.gguf", "f" * 64)
    assert loaded is model and model.saved
    assert not (tmp_path / "cache" / "models" / ("f" * 64)).exists()
    assert _leftovers(tmp_path / "cache" / "models") == []
