"""``subrational compare`` puts two runs side by side."""

import json

import pytest

from subrational.backends.scripted import ScriptedBackend
from subrational.cli import main
from subrational.config import RunConfig
from subrational.pipeline import run
from support import human_logistic, persona_logistic


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for name, script in (("human", human_logistic), ("persona", persona_logistic)):
        config = RunConfig(experiments=["ultimatum"], personas=["fair", "typical"],
                           model=f"scripted:{name}", paraphrases=1, bootstrap=20,
                           out=root / name)
        run(config, backend=ScriptedBackend(name, probs_fn=script))
    return root / "human", root / "persona"


def test_compare_writes_one_page_with_both_runs(two_runs, tmp_path, capsys):
    out = tmp_path / "cmp" / "compare.html"
    assert main(["compare", *map(str, two_runs), "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    html = out.read_text()
    for path in two_runs:
        assert f"{path.name}: scripted:{path.name}" in html
    assert html.count("Ultimatum game (responder)") >= 2  # a scorecard row per run
    assert "Fehr-Schmidt inequity aversion · alpha" in html
    # The two scripts differ: the fair persona's alpha differs between the columns.
    alphas = [json.loads((p / "summary.json").read_text())["experiments"]["ultimatum-v2"]
              for p in two_runs]
    values = [{(f["source"], f["persona"]): f["estimates"][0]["value"] for f in a["fits"]
               if f["model"].startswith("Fehr")} for a in alphas]
    assert values[0][("demonstrations", "fair")] != pytest.approx(
        values[1][("demonstrations", "fair")], abs=0.05)
    assert len(list(out.parent.glob("compare-ultimatum-v2-*.png"))) == 1
    assert html.count("data:image/png;base64,") == 1


def test_compare_rejects_a_directory_that_is_not_a_run(tmp_path, capsys):
    assert main(["compare", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not a run directory" in err and len(err.strip().splitlines()) == 1


def test_compare_rejects_a_run_of_an_older_format(two_runs, tmp_path, capsys):
    old = tmp_path / "old"
    old.mkdir()
    summary = json.loads((two_runs[0] / "summary.json").read_text())
    (old / "summary.json").write_text(json.dumps({**summary, "format_version": 1}))
    (old / "manifest.json").write_text((two_runs[0] / "manifest.json").read_text())
    assert main(["compare", str(old)]) == 2
    assert "older subrational" in capsys.readouterr().err
