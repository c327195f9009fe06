"""Bad inputs to `subrational export` and `cache export`: one line, exit code 2."""

import shutil
import sys

import pytest

from subrational.cli import main


def _one_line_error(capsys, *fragments):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err


def test_not_a_run_directory(tmp_path, capsys):
    (tmp_path / "junk").mkdir()
    assert main(["export", str(tmp_path / "junk"), "--to", "hf", str(tmp_path / "o")]) == 2
    _one_line_error(capsys, "is not a run directory")
    assert not (tmp_path / "o").exists()  # nothing made for a refused export
    assert main(["cache", "export", str(tmp_path / "junk"), str(tmp_path / "f.gz")]) == 2
    _one_line_error(capsys, "is not a run directory")
    assert not (tmp_path / "f.gz").exists()


def test_an_unfinished_run_is_refused(finished_run, tmp_path, capsys):
    copy = shutil.copytree(finished_run, tmp_path / "copy")
    (copy / "complete.json").unlink()
    assert main(["export", str(copy), "--to", "hf", str(tmp_path / "o")]) == 2
    _one_line_error(capsys, "unfinished run")


def test_out_exists_and_is_not_empty(finished_run, tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["export", str(finished_run), "--to", "hf", str(out)]) == 2
    _one_line_error(capsys, "exists and is not empty")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_unknown_format_and_bad_episodes(finished_run, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:  # argparse exits itself, with code 2
        main(["export", str(finished_run), "--to", "parquet", str(tmp_path / "o")])
    assert stopped.value.code == 2
    _one_line_error(capsys, "invalid choice: 'parquet'", "minari", "imitation", "hf")
    assert main(["export", str(finished_run), "--to", "hf", str(tmp_path / "o"),
                 "--episodes", "0"]) == 2
    _one_line_error(capsys, "--episodes must be from 1")


@pytest.mark.parametrize("to, module, extra", [("minari", "minari", "minari"),
                                               ("imitation", "datasets", "export")])
def test_a_missing_optional_dependency_names_its_pip_line(to, module, extra, finished_run,
                                                          tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now fails
    assert main(["export", str(finished_run), "--to", to, str(tmp_path / "o")]) == 2
    _one_line_error(capsys, f"pip install 'subrational[{extra}]'")
