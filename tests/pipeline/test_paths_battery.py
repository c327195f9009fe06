"""Bad paths are one line, exit code 2, no traceback, and fail before any model call.

Each case breaks one thing on disk (the run directory, the cache, the disk itself) and runs the
CLI with the scripted backend, whose call counter must stay at zero. Tests run as root, where
``chmod`` does not stop a write: "read-only" is simulated by making ``os.access`` say no, and a
full disk by making every open-for-writing under a folder raise ``ENOSPC``.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from subrational.backends.scripted import ScriptedBackend
from subrational.cli import main

TINY = ["ultimatum", "--model", "scripted:human-logistic", "--persona", "fair",
        "--paraphrases", "1", "--bootstrap", "5", "--episodes", "50", "--no-progress"]


@pytest.fixture
def model_calls(monkeypatch) -> list[int]:
    """Counts every request that reaches a scripted backend."""
    calls: list[int] = []
    score, generate = ScriptedBackend.score, ScriptedBackend.generate

    def counted(method):
        def wrapper(self, requests):
            calls.append(len(requests))
            return method(self, requests)
        return wrapper

    monkeypatch.setattr(ScriptedBackend, "score", counted(score))
    monkeypatch.setattr(ScriptedBackend, "generate", counted(generate))
    return calls


def _under(path: object, folder: Path) -> bool:
    try:
        return Path(os.fsdecode(path)).resolve().is_relative_to(folder.resolve())
    except (TypeError, ValueError):
        return False


def full_disk(monkeypatch, folder: Path) -> None:
    """Every open for writing under ``folder`` fails with ENOSPC (as on a full disk)."""
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    real_os_open, real_io_open = os.open, io.open
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND

    def os_open(path, flags, *args, **kwargs):
        if flags & writing and _under(path, folder):
            raise full
        return real_os_open(path, flags, *args, **kwargs)

    def io_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)) and set(mode) & set("wax+") \
                and _under(file, folder):
            raise full
        return real_io_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(io, "open", io_open)
    monkeypatch.setattr("builtins.open", io_open)


def read_only(monkeypatch, folder: Path) -> None:
    """``os.access(folder, W_OK)`` is False, as for a read-only folder of a non-root user."""
    real = os.access

    def access(path, mode, *args, **kwargs):
        if mode & os.W_OK and _under(path, folder):
            return False
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


def _sqlite_with_rows(path: Path, rows: int = 2000) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE calls (key TEXT PRIMARY KEY, op TEXT, value TEXT NOT NULL, "
               "created REAL)")
    db.executemany("INSERT INTO calls VALUES (?, 'score', ?, 0)",
                   [(f"k{i:05d}", json.dumps({"logprobs": [0.0] * 20})) for i in range(rows)])
    db.commit()
    db.close()


def _out_is_a_file(tmp, cache, mp):
    (tmp / "out").write_text("x")
    return tmp / "out"


def _parent_is_a_file(tmp, cache, mp):
    (tmp / "parent").write_text("x")
    return tmp / "parent" / "out"


def _out_read_only(tmp, cache, mp):
    (tmp / "out").mkdir()
    read_only(mp, tmp / "out")
    return tmp / "out"


def _out_parent_read_only(tmp, cache, mp):
    (tmp / "ro").mkdir()
    read_only(mp, tmp / "ro")
    return tmp / "ro" / "out"


def _out_disk_full(tmp, cache, mp):
    (tmp / "full").mkdir()
    full_disk(mp, tmp / "full")
    return tmp / "full" / "out"


def _cache_is_a_file(tmp, cache, mp):
    shutil.rmtree(cache)
    cache.write_text("x")
    return tmp / "out"


def _cache_read_only(tmp, cache, mp):
    read_only(mp, cache)
    return tmp / "out"


def _cache_disk_full(tmp, cache, mp):
    full_disk(mp, cache)
    return tmp / "out"


def _cache_garbage(tmp, cache, mp):
    (cache / "calls.sqlite").write_bytes(os.urandom(4096))
    return tmp / "out"


def _cache_text(tmp, cache, mp):
    (cache / "calls.sqlite").write_text("not a database\n" * 100)
    return tmp / "out"


def _cache_truncated(tmp, cache, mp):
    path = cache / "calls.sqlite"
    _sqlite_with_rows(path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    return tmp / "out"


def _cache_foreign_schema(tmp, cache, mp):
    db = sqlite3.connect(cache / "calls.sqlite")
    db.execute("CREATE TABLE calls (id INTEGER PRIMARY KEY, url TEXT)")
    db.commit()
    db.close()
    return tmp / "out"


def _cache_is_a_directory(tmp, cache, mp):
    (cache / "calls.sqlite").mkdir()
    return tmp / "out"


def _out_holds_something_else(tmp, cache, mp):
    (tmp / "out").mkdir()
    (tmp / "out" / "thesis.tex").write_text("do not overwrite me")
    return tmp / "out"


RUN_CASES = {
    "out is a file": _out_is_a_file,
    "parent of out is a file": _parent_is_a_file,
    "out is read-only": _out_read_only,
    "parent of out is read-only": _out_parent_read_only,
    "disk full in out": _out_disk_full,
    "cache dir is a file": _cache_is_a_file,
    "cache dir is read-only": _cache_read_only,
    "disk full in the cache": _cache_disk_full,
    "calls.sqlite is random bytes": _cache_garbage,
    "calls.sqlite is a text file": _cache_text,
    "calls.sqlite is truncated": _cache_truncated,
    "calls.sqlite has a foreign schema": _cache_foreign_schema,
    "calls.sqlite is a directory": _cache_is_a_directory,
    "out is a non-empty folder that is no run": _out_holds_something_else,
}


def assert_one_line(code: int, err: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("subrational: error: "), err


@pytest.mark.parametrize("case", list(RUN_CASES))
def test_bad_path_is_one_line_exit_2_before_any_model_call(case, tmp_path, isolated_cache,
                                                           monkeypatch, capsys, model_calls):
    out = RUN_CASES[case](tmp_path, isolated_cache, monkeypatch)
    code = main(["run", *TINY, "--out", str(out)])
    assert_one_line(code, capsys.readouterr().err)
    assert model_calls == []


# ----------------------------------------------------------------------------- compare


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("battery") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SUBRATIONAL_CACHE_DIR", str(tmp_path_factory.mktemp("battery-cache")))
        assert main(["run", *TINY, "--out", str(out)]) == 0
    return out


def _summary(run: Path, value: object) -> None:
    (run / "summary.json").write_text(json.dumps(value))


def _without(key: str):
    def damage(run: Path, mp) -> None:
        summary = json.loads((run / "summary.json").read_text())
        del summary[key]
        _summary(run, summary)
    return damage


COMPARE_CASES = {
    "binary summary.json": lambda run, mp: (run / "summary.json").write_bytes(os.urandom(512)),
    "summary.json is a list": lambda run, mp: _summary(run, [1, 2]),
    "summary.json is a number": lambda run, mp: _summary(run, 3),
    "summary.json truncated": lambda run, mp: (run / "summary.json").write_text(
        (run / "summary.json").read_text()[:100]),
    "summary.json without model": _without("model"),
    "summary.json without experiments": _without("experiments"),
    "string format_version": lambda run, mp: _summary(
        run, {**json.loads((run / "summary.json").read_text()), "format_version": "2"}),
    "manifest.json is a list": lambda run, mp: (run / "manifest.json").write_text("[]"),
    "summary.json is a directory": lambda run, mp: ((run / "summary.json").unlink(),
                                                    (run / "summary.json").mkdir()),
}


@pytest.mark.parametrize("case", list(COMPARE_CASES))
def test_compare_on_a_damaged_run_is_one_line_exit_2(case, finished_run, tmp_path, monkeypatch,
                                                     capsys):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    COMPARE_CASES[case](run, monkeypatch)
    code = main(["compare", str(run), "--out", str(tmp_path / "cmp.html")])
    assert_one_line(code, capsys.readouterr().err)
    assert not (tmp_path / "cmp.html").exists()


def _out_dir(tmp, mp):
    (tmp / "cmp").mkdir()
    return tmp / "cmp"


def _out_ro(tmp, mp):
    (tmp / "ro").mkdir()
    read_only(mp, tmp / "ro")
    return tmp / "ro" / "cmp.html"


def _out_parent_file(tmp, mp):
    (tmp / "f").write_text("x")
    return tmp / "f" / "cmp.html"


def _out_full(tmp, mp):
    (tmp / "full").mkdir()
    full_disk(mp, tmp / "full")
    return tmp / "full" / "cmp.html"


COMPARE_OUT_CASES = {"--out is a directory": _out_dir, "--out is read-only": _out_ro,
                     "parent of --out is a file": _out_parent_file,
                     "disk full at --out": _out_full}


@pytest.mark.parametrize("case", list(COMPARE_OUT_CASES))
def test_compare_to_a_bad_out_is_one_line_exit_2(case, finished_run, tmp_path, monkeypatch,
                                                 capsys):
    out = COMPARE_OUT_CASES[case](tmp_path, monkeypatch)
    code = main(["compare", str(finished_run), "--out", str(out)])
    assert_one_line(code, capsys.readouterr().err)
