import json
from pathlib import Path

import pytest

from subrational.cli import main

EXAMPLE = Path(__file__).parents[2] / "examples" / "sure_thing.py"


def _run(capsys, *args):
    code = main(["run", *args, "--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_toml_config_with_flag_override(tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_text('experiments = ["ultimatum"]\nmodel = "scripted:persona-logistic"\n'
                   'personas = ["fair"]\nseed = 3\nloss = "kl"\n')
    code, out, err = _run(capsys, "--config", str(cfg), "--seed", "7", "--out", str(tmp_path / "r"))
    assert code == 0, err
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["config"]["seed"] == 7 and manifest["config"]["loss"] == "kl"
    assert manifest["config"]["personas"] == ["fair"]


@pytest.mark.parametrize(("text", "message"), [
    ("model = ", "not valid TOML"),
    ("modle = 'x'", "unknown setting 'modle'"),
    ("samples = 'ten'", "samples in"),
    ("samples = 0", "samples in "),
    ("samples = 0", "must be from 1 to 10,000"),
    ("method = 'vibes'", "unknown method 'vibes'"),
])
def test_malformed_config_is_one_line_and_exit_2(tmp_path, capsys, text, message):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    code, _, err = _run(capsys, "--config", str(cfg), "--out", str(tmp_path / "r"))
    assert code == 2 and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_config_file(tmp_path, capsys):
    code, _, err = _run(capsys, "--config", str(tmp_path / "nope.toml"))
    assert code == 2 and "does not exist" in err


def test_own_game_runs_through_the_cli_with_import(tmp_path, capsys):
    code, out, err = _run(capsys, "sure_thing", "--import", str(EXAMPLE), "--model",
                          "scripted:uniform", "--out", str(tmp_path / "r"))
    assert code == 0, err
    assert (tmp_path / "r" / "sure_thing" / "policy.pt").exists()
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert "sure_thing-v1" in summary["experiments"]


def test_broken_import_is_a_usage_error(tmp_path, capsys):
    bad = tmp_path / "broken.py"
    bad.write_text("raise RuntimeError('boom')\n")
    code, _, err = _run(capsys, "--import", str(bad), "--out", str(tmp_path / "r"))
    assert code == 2 and "--import" in err and "boom" in err
