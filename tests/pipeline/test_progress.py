"""Progress: a bar on a terminal, a periodic line elsewhere, silence with --no-progress; and
Ctrl-C at any point of start-up is one line and exit code 130."""

from __future__ import annotations

import builtins
import io
import re

import pytest

import subrational.cli as cli
from subrational.cli import main

TINY = ["ultimatum", "--model", "scripted:human-logistic", "--persona", "fair",
        "--paraphrases", "1", "--bootstrap", "5", "--episodes", "50"]
LINE = re.compile(r"^subrational: \d+/\d+ model calls \(\d+ %\), \d+ s$")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_lines_come_every_interval_and_once_at_the_end():
    clock, stream = FakeClock(), io.StringIO()
    lines = cli._ProgressLines(stream, interval=10.0, clock=clock)
    for done, t in [(10, 1), (50, 9.9), (120, 14), (200, 16), (300, 24.5), (2344, 25)]:
        clock.now = 100.0 + t
        lines.update(done, 2344, "model calls")
    clock.now += 60
    lines.update(2344, 2344, "model calls")  # the cache may report the end twice
    lines.close()
    assert stream.getvalue().splitlines() == [
        "subrational: 120/2344 model calls (5 %), 14 s",
        "subrational: 300/2344 model calls (12 %), 24 s",
        "subrational: 2344/2344 model calls (100 %), 25 s",
    ]


def test_a_fast_run_prints_no_line():
    clock, stream = FakeClock(), io.StringIO()
    lines = cli._ProgressLines(stream, interval=10.0, clock=clock)
    lines.update(504, 504, "model calls")
    lines.close()
    assert stream.getvalue() == ""


def test_a_terminal_gets_the_bar_and_a_pipe_the_lines():
    update, close = cli._progress_bar(True, stream=io.StringIO())
    assert isinstance(update.__self__, cli._ProgressLines)
    update, close = cli._progress_bar(True, stream=Terminal())
    update(3, 10, "model calls")
    close()
    assert not isinstance(getattr(update, "__self__", None), cli._ProgressLines)
    assert cli._progress_bar(False, stream=Terminal())[0] is None


@pytest.mark.parametrize("quiet", [False, True])
def test_a_run_whose_stderr_is_no_terminal_reports_progress_in_lines(quiet, tmp_path, capsys,
                                                                    monkeypatch):
    made = cli._ProgressLines
    monkeypatch.setattr(cli, "_ProgressLines", lambda stream: made(stream, interval=0.0))
    args = ["run", *TINY, "--out", str(tmp_path / "out")] + (["--no-progress"] if quiet else [])
    assert main(args) == 0
    err = capsys.readouterr().err.splitlines()
    if quiet:
        assert err == []
    else:
        assert err and all(LINE.match(line) for line in err), err
        assert err[-1].startswith("subrational: 42/42 model calls (100 %)"), err
        assert len([line for line in err if "42/42" in line]) == 1, err


# ----------------------------------------------------------------------------- Ctrl-C


def _one_line_130(code: int, err: str) -> None:
    assert code == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "interrupted" in lines[0] and "Traceback" not in err, err


@pytest.mark.parametrize("module", ["config", "pipeline"])
def test_ctrl_c_while_run_imports_its_modules_exits_130(module, monkeypatch, capsys, tmp_path):
    real = builtins.__import__

    def importing(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 1 and name == module and (globals or {}).get("__name__") == "subrational.cli":
            raise KeyboardInterrupt
        return real(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", importing)
    _one_line_130(main(["run", *TINY, "--out", str(tmp_path / "out")]), capsys.readouterr().err)


@pytest.mark.parametrize("where", ["resolve_experiments", "check_plan", "run"])
def test_ctrl_c_while_starting_the_run_exits_130(where, monkeypatch, capsys, tmp_path):
    import subrational.pipeline as pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, where, interrupted)
    _one_line_130(main(["run", *TINY, "--no-progress", "--out", str(tmp_path / "out")]),
                  capsys.readouterr().err)
