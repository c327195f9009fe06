"""Run directories: unique by default, written atomically, marked finished, never mixed."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import subrational
from subrational import paths, rundir
from subrational.cli import main
from subrational.errors import RunDirError
from subrational.rundir import check_finished

TINY = ["ultimatum", "--model", "scripted:human-logistic", "--persona", "fair",
        "--paraphrases", "1", "--bootstrap", "5", "--episodes", "50", "--no-progress"]
TESTS = Path(__file__).parents[1]
SRC = Path(subrational.__file__).parents[1]


def assert_one_line(code: int, err: str, expected: int = 2) -> str:
    assert code == expected, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def _target_of(fd: int) -> str:
    """The file an atomic write is for (its temp file is ``.tmp-<name>-XXXX``)."""
    name = Path(os.readlink(f"/proc/self/fd/{fd}")).name
    return name.removeprefix(paths.TMP_PREFIX).rsplit("-", 1)[0]


def fail_writing(monkeypatch, name: str, error: BaseException) -> list[str]:
    """Writing ``name`` stops half-way with ``error``; returns the names written before."""
    written: list[str] = []
    real = paths._write_all

    def write(fd: int, data: bytes) -> None:
        target = _target_of(fd)
        if target == name:
            real(fd, data[:len(data) // 2])
            raise error
        written.append(target)
        real(fd, data)

    monkeypatch.setattr(paths, "_write_all", write)
    return written


# ----------------------------------------------------------------------------- unique directories


def test_runs_started_in_the_same_second_get_their_own_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(rundir.time, "strftime", lambda fmt, *a: "20250101-120000")
    assert main(["run", *TINY]) == 0
    assert main(["run", *TINY, "--seed", "1"]) == 0
    dirs = sorted((tmp_path / "runs").iterdir())
    assert len(dirs) == 2 and all(d.name.startswith("20250101-120000-") for d in dirs)
    for d in dirs:
        check_finished(d)
    seeds = {json.loads((d / "summary.json").read_text())["seed"] for d in dirs}
    assert seeds == {0, 1}


def test_new_run_dir_is_unique_across_threads(tmp_path, monkeypatch):
    monkeypatch.setattr(rundir.time, "strftime", lambda fmt, *a: "20250101-120000")
    made: list[Path] = []
    threads = [threading.Thread(target=lambda: made.append(rundir.new_run_dir(tmp_path)))
               for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 32 and all(p.is_dir() for p in made)


RUNNER = f"""
import sys
sys.path[:0] = [{str(SRC)!r}, {str(TESTS)!r}]
from subrational.backends.scripted import register_script
from support import human_logistic
register_script("human-logistic", human_logistic)
from subrational.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _start(args: list[str], cwd: Path, cache: Path, code: str = RUNNER) -> subprocess.Popen:
    env = {**os.environ, "SUBRATIONAL_CACHE_DIR": str(cache)}
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_concurrent_default_runs_both_survive(tmp_path, isolated_cache):
    procs = [_start(["run", *TINY], tmp_path, isolated_cache) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    dirs = sorted((tmp_path / "runs").iterdir())
    assert len(dirs) == 2
    for d in dirs:
        check_finished(d)
        assert (d / "ultimatum" / "policy.pt").stat().st_size > 0


def test_a_refused_default_run_leaves_no_empty_directory(tmp_path, monkeypatch, capsys,
                                                         isolated_cache):
    monkeypatch.chdir(tmp_path)
    (isolated_cache / "calls.sqlite").write_text("garbage" * 100)
    assert_one_line(main(["run", *TINY]), capsys.readouterr().err)
    assert list((tmp_path / "runs").iterdir()) == []


# ----------------------------------------------------------------------------- atomic + marker


@pytest.fixture
def finished(tmp_path, capsys) -> Path:
    out = tmp_path / "run"
    assert main(["run", *TINY, "--out", str(out)]) == 0
    capsys.readouterr()
    return out


def test_a_finished_run_lists_the_digest_of_every_file(finished):
    done = json.loads((finished / "complete.json").read_text())
    assert {"summary.json", "manifest.json", "report.html", "ultimatum/policy.pt",
            "ultimatum/demonstrations.parquet"} <= set(done["files"])
    assert any(name.startswith("figures/") for name in done["files"])
    assert done["config_sha256"] == json.loads((finished / "run.json").read_text())[
        "config_sha256"]
    check_finished(finished)
    assert not list(finished.rglob(".tmp-*"))


@pytest.mark.parametrize("name", ["demonstrations.parquet", "policy.pt", "summary.json",
                                  "report.html", "complete.json"])
@pytest.mark.parametrize("error", [KeyboardInterrupt(), OSError(errno.ENOSPC, "No space left")],
                         ids=["interrupted", "disk-full"])
def test_a_run_stopped_while_writing_reads_as_unfinished(name, error, tmp_path, monkeypatch,
                                                         capsys):
    out = tmp_path / "run"
    real = paths._write_all
    fail_writing(monkeypatch, name, error)
    code = main(["run", *TINY, "--out", str(out)])
    expected = 130 if isinstance(error, KeyboardInterrupt) else 2
    line = assert_one_line(code, capsys.readouterr().err, expected)
    if expected == 2:
        assert "No space left" in line and name in line
    assert not (out / "complete.json").exists()
    for path in out.rglob("*"):  # nothing half-written under a real name
        assert not path.name.startswith(".tmp-")
        if path.is_file():
            assert path.stat().st_size > 0
    with pytest.raises(RunDirError, match="unfinished run"):
        check_finished(out)
    assert_one_line(main(["compare", str(out), "--out", str(tmp_path / "c.html")]),
                    capsys.readouterr().err)
    if (out / "ultimatum" / "policy.pt").exists():
        with pytest.raises(RunDirError, match="unfinished run"):
            subrational.load_policy(out / "ultimatum" / "policy.pt")
    monkeypatch.setattr(paths, "_write_all", real)
    assert main(["run", *TINY, "--out", str(out)]) == 0  # the same command finishes it
    check_finished(out)


KILLER = RUNNER.replace("from subrational.cli import main", """
import os, signal
from pathlib import Path
from subrational import paths
real = paths._write_all
def write(fd, data):
    name = Path(os.readlink(f"/proc/self/fd/{fd}")).name
    if name.startswith(".tmp-" + os.environ["KILL_AT"] + "-"):
        real(fd, data[:len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    real(fd, data)
paths._write_all = write
from subrational.cli import main""")


@pytest.mark.parametrize("name", ["policy.pt", "report.html"])
def test_sigkill_while_writing_leaves_a_recognisably_unfinished_run(name, tmp_path,
                                                                    isolated_cache, monkeypatch,
                                                                    capsys):
    out = tmp_path / "run"
    monkeypatch.setenv("KILL_AT", name)
    proc = _start(["run", *TINY, "--out", str(out)], tmp_path, isolated_cache, KILLER)
    proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL
    assert list(out.rglob(f".tmp-{name}-*"))  # the half-written temp file, under no real name
    assert not list(out.rglob(name))  # and nothing truncated under the real name
    assert_one_line(main(["compare", str(out), "--out", str(tmp_path / "c.html")]),
                    capsys.readouterr().err)
    assert main(["run", *TINY, "--out", str(out)]) == 0  # resumes: same config
    check_finished(out)
    assert not list(out.rglob(".tmp-*"))


# ----------------------------------------------------------------------------- running again


def test_running_again_into_a_finished_run_of_the_same_config_rewrites_it(finished, capsys):
    before = json.loads((finished / "complete.json").read_text())
    assert main(["run", *TINY, "--out", str(finished)]) == 0
    check_finished(finished)
    assert json.loads((finished / "complete.json").read_text())["files"]["summary.json"] == \
        before["files"]["summary.json"]


def test_a_directory_of_another_run_is_refused_and_left_alone(finished, capsys, model_calls):
    before = (finished / "complete.json").read_text()
    line = assert_one_line(main(["run", *TINY, "--seed", "7", "--out", str(finished)]),
                           capsys.readouterr().err)
    assert "holds a run of another config" in line
    assert (finished / "complete.json").read_text() == before and model_calls == []
    check_finished(finished)


@pytest.fixture
def model_calls(monkeypatch) -> list[int]:
    from subrational.backends.scripted import ScriptedBackend

    calls: list[int] = []
    real = ScriptedBackend.score
    monkeypatch.setattr(ScriptedBackend, "score",
                        lambda self, r: calls.append(len(r)) or real(self, r))
    return calls


@pytest.mark.parametrize("damage", ["edit summary", "delete complete", "swap policy",
                                    "delete run.json"])
def test_compare_and_load_policy_refuse_a_damaged_or_mixed_run(damage, finished, tmp_path,
                                                               capsys):
    if damage == "edit summary":
        summary = json.loads((finished / "summary.json").read_text())
        (finished / "summary.json").write_text(json.dumps({**summary, "seed": 3}))
    elif damage == "delete complete":
        (finished / "complete.json").unlink()
    elif damage == "swap policy":  # a policy of another run copied in
        other = tmp_path / "other"
        assert main(["run", *TINY, "--seed", "2", "--out", str(other)]) == 0
        (finished / "ultimatum" / "policy.pt").write_bytes(
            (other / "ultimatum" / "policy.pt").read_bytes())
    else:
        (finished / "run.json").unlink()
    capsys.readouterr()
    assert_one_line(main(["compare", str(finished), "--out", str(tmp_path / "c.html")]),
                    capsys.readouterr().err)
    with pytest.raises(RunDirError):
        subrational.load_policy(finished / "ultimatum" / "policy.pt")


# ----------------------------------------------------------------------------- Ctrl-C at start-up


def test_ctrl_c_while_starting_up_exits_130_with_one_line(monkeypatch, capsys):
    import subrational.cli as cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_parser", interrupted)
    line = assert_one_line(main(["run", *TINY]), capsys.readouterr().err, 130)
    assert "interrupted" in line
