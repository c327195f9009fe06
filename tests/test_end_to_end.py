"""End to end with the real embedded model (SmolLM2-135M) through the CLI.

Slow (the model loads and de-quantises once per session, then is cached), still run in CI. The
other real-model runs are in ``test_end_to_end_more.py``: two files, so that two test workers
(``make test``) share them.
"""

import json
import re

import pytest

from support import cli

pytestmark = pytest.mark.slow


# A reduced grid: two persona values per study (the full grid is `make run`).
REDUCED = ["fair", "typical", "age-2", "age-5", "stake-10", "stake-10000", "gpa-2.0", "gpa-4.0"]
STUDIES = ("ultimatum-v2", "marshmallow-v2", "double_or_nothing-v2", "procrastination-v2")
CALLS = 2 * 21 * 2 + 2 * 20 * 2 + 2 * 25 * 2 + 2 * 84 * 2  # personas x states x option orders


def test_four_studies_on_the_real_model_through_the_cli_then_offline_replay(tmp_path, cache_env):
    args = ["run", "--no-progress", "--episodes", "300", "--paraphrases", "1",
            "--bootstrap", "20"]
    for persona in REDUCED:
        args += ["--persona", persona]
    out = cli(*args, "--out", str(tmp_path / "a"))
    assert "report:" in out and f"{CALLS} model calls" in out
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert set(summary["experiments"]) == set(STUDIES)
    for vid, exp in summary["experiments"].items():
        paper = [f for f in exp["findings"] if f["kind"] == "paper"]
        assert {f["source"] for f in paper} >= {"demonstrations", "policy"}, vid
        assert exp["diagnostics"]["failed_rows"] == 0, vid
        assert 0.0 < exp["diagnostics"]["option_mass_mean"] <= 1.0, vid
        assert exp["training"]["fidelity_tv"] < 0.05, vid
        distance = exp["metrics"]["distance_to_humans"]
        assert distance["measure"] and distance["demonstrations"] is not None, vid
    per_persona = summary["experiments"]["ultimatum-v2"]["metrics"]["per_persona"]
    curve = per_persona["demonstrations"]["fair"]["p_accept"]
    assert len(curve) == 21 and all(0.0 <= p <= 1.0 for p in curve)
    html = (tmp_path / "a" / "report.html").read_text()
    assert "SmolLM2-135M" in html
    for vid in STUDIES:
        assert f'id="{vid}"' in html
    figures = {p.name.split("-")[0] for p in (tmp_path / "a" / "figures").glob("*.png")}
    assert figures == {"ultimatum", "marshmallow", "double_or_nothing", "procrastination"}
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["model"]["sha256"].startswith("b179c952")

    # Replay-only: every call comes from the cache, same summary.
    replay = cli(*args, "--offline", "--out", str(tmp_path / "b"))
    assert re.search(rf"^0 model calls \(.* s in the model\), {CALLS} from the cache", replay,
                     re.M)
    summaries = [(tmp_path / run / "summary.json").read_text() for run in ("a", "b")]
    assert summaries[0] == summaries[1]
