"""``subrational.run`` and ``subrational.load_run``: a run from Python, read back as tidy frames."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import subrational
from subrational import notebook, rundir
from subrational.errors import ConfigError, RunDirError, UnknownNameError
from subrational.rundir import COMPLETE, STARTED, SUMMARY_FORMATS

PERSONAS = ["fair", "selfish"]
SETTINGS = {"model": "scripted:persona-logistic", "persona": PERSONAS, "paraphrases": 2,
            "bootstrap": 20, "seed": 3}


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """One tiny offline run into the default (timestamped) folder under a fresh cwd."""
    cwd = tmp_path_factory.mktemp("cwd")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        mp.setenv("SUBRATIONAL_CACHE_DIR", str(tmp_path_factory.mktemp("nbcache")))
        result = subrational.run("ultimatum", **SETTINGS)
    return cwd, result


def test_the_default_folder_is_new_and_timestamped(ran):
    cwd, result = ran
    assert result.path.parent == cwd / "runs"  # absolute: the Run outlives a chdir
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d{6}-ultimatum", result.path.name)
    assert (result.path / COMPLETE).is_file()


def test_a_second_run_in_the_same_second_gets_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(rundir.time, "strftime", lambda fmt: "2026-12-02T150102")
    first = notebook._new_dir(tmp_path, ["ultimatum"])
    second = notebook._new_dir(tmp_path, ["ultimatum"])
    assert first.name == "2026-12-02T150102-ultimatum"
    assert second.name == "2026-12-02T150102-ultimatum-2"


def test_load_run_reads_the_same_frames_that_run_returned(ran):
    _, result = ran
    again = subrational.load_run(str(result.path))
    assert again.studies == result.studies == ["ultimatum-v2"]
    for name in ("findings", "bands", "scorecard", "curves", "fits", "robustness",
                 "demonstrations", "calls"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(result, name))


def test_demonstrations_are_flat_columns_with_the_scripted_truth(ran):
    demos = ran[1].demonstrations
    assert len(demos) == 21 * len(PERSONAS) * 2 * 2  # offers x personas x wordings x orders
    assert {"offer", "p_accept", "p_reject", "logp_accept", "persona", "study"} <= set(demos)
    assert not {"state", "probs", "logprobs"} & set(demos)
    assert demos["offer"].dtype.kind == "f" and demos["p_accept"].dtype.kind == "f"
    np.testing.assert_allclose(demos["p_accept"] + demos["p_reject"], 1.0, atol=1e-9)
    fair = demos[(demos["persona"] == "fair")]
    np.testing.assert_allclose(fair["p_reject"], expit(4.5 - 15.0 * fair["offer"]), atol=1e-6)
    selfish = demos[demos["persona"] == "selfish"]
    np.testing.assert_allclose(selfish["p_reject"], expit(-4.0), atol=1e-6)
    assert isinstance(demos["texts"].iloc[0], list)  # decoded, not a JSON string


def test_findings_and_bands_split_every_finding_of_the_summary(ran):
    result = ran[1]
    summary = result.summary["experiments"]["ultimatum-v2"]["findings"]
    assert len(result.findings) + len(result.bands) == len(summary)
    assert set(result.bands["kind"]) <= set(notebook.BAND_KINDS) and len(result.bands)
    assert not set(result.findings["kind"]) & set(notebook.BAND_KINDS) and len(result.findings)
    by_claim = {(f["claim"], f["source"]): f for f in summary}
    for row in pd.concat([result.findings, result.bands]).itertuples():
        original = by_claim[(row.claim, row.source)]
        assert row.statistic == pytest.approx(original["statistic"], nan_ok=True)
        interval = original.get("interval")
        if interval:
            assert (row.ci_low, row.ci_high) == tuple(interval)


def test_the_fair_persona_finding_is_reproduced_by_the_scripted_truth(ran):
    findings = ran[1].findings
    row = findings[findings["claim"].str.startswith("fair persona rejects")
                   & (findings["source"] == "demonstrations")].iloc[0]
    assert row.statistic == pytest.approx(np.mean([expit(4.5 - 15.0 * s) for s in (0.05, 0.1)]),
                                          abs=1e-3)
    assert bool(row.reproduced)


def test_curves_fits_scorecard_robustness_and_calls_match_the_files(ran):
    result = ran[1]
    block = result.summary["experiments"]["ultimatum-v2"]
    assert len(result.curves) == sum(len(c["x"]) for c in block["curves"])
    human = result.curves[result.curves["source"] == "human"]
    first = next(c for c in block["curves"] if c["source"] == "human")
    assert human["y"].tolist()[:len(first["y"])] == first["y"]
    assert len(result.fits) == sum(len(f["estimates"]) for f in block["fits"])
    assert set(result.fits["parameter"]) >= {"threshold", "slope"}
    assert result.scorecard.loc[0, "verdict"] == block["scorecard"]["verdict"]
    assert (result.scorecard.loc[0, "paper_findings.demonstrations.checked"]
            == block["scorecard"]["paper_findings"]["demonstrations"]["checked"])
    assert set(result.robustness["term"]) == set(block["robustness"]["variance_shares"])
    assert "wording" in set(result.robustness["term"])
    cost = result.manifest["cost"]["studies"]["ultimatum-v2"]
    calls = result.calls.set_index("study").loc["ultimatum-v2"]
    assert calls["calls"] == cost["calls"] == 21 * 2 * 2 * 2
    assert calls["cost_usd"] == 0.0 and np.isnan(calls["seconds"])


def test_the_runs_policy_is_at_hand(ran):
    policy = ran[1].policy("ultimatum")
    assert policy.action_probs({"offer": 0.0}, "fair")[1] > 0.9
    with pytest.raises(ConfigError, match="no study 'ultimatun'.*did you mean 'ultimatum'"):
        ran[1].policy("ultimatun")


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"samples": 0}, ConfigError, "samples in subrational.run\\(\\): must be from 1"),
    ({"sed": 1}, ConfigError, "no setting 'sed'; did you mean 'seed'"),
    ({"persona": "fiar"}, UnknownNameError, "did you mean 'fair'"),
    ({"method": "sampel"}, UnknownNameError, "did you mean 'sample'"),
])
def test_a_bad_setting_is_one_line_and_leaves_no_folder(tmp_path, monkeypatch, kwargs, error,
                                                        message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=message) as caught:
        subrational.run("ultimatum", model="scripted:uniform", **kwargs)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_an_unknown_study_is_a_did_you_mean(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnknownNameError, match="did you mean 'ultimatum'"):
        subrational.run("ultimatun", model="scripted:uniform")


def test_load_run_refuses_what_is_not_a_finished_run_of_a_known_format(ran, tmp_path):
    with pytest.raises(ConfigError, match="is not a run directory"):
        subrational.load_run(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="not a run directory \\(no summary.json\\)"):
        subrational.load_run(tmp_path / "empty")
    unfinished = shutil.copytree(ran[1].path, tmp_path / "unfinished")
    (unfinished / COMPLETE).unlink()
    with pytest.raises(RunDirError, match="unfinished run"):
        subrational.load_run(unfinished)
    newer = shutil.copytree(ran[1].path, tmp_path / "newer")
    (newer / COMPLETE).unlink()
    (newer / STARTED).unlink()  # a run without markers: its format is read first
    summary = json.loads((newer / "summary.json").read_text())
    (newer / "summary.json").write_text(json.dumps({**summary, "format_version": 99}))
    with pytest.raises(ConfigError, match="newer subrational \\(summary format 99"):
        subrational.load_run(newer)


def test_the_readers_take_the_format_the_pipeline_writes():
    from subrational.pipeline import MANIFEST_FORMAT, SUMMARY_FORMAT

    assert SUMMARY_FORMAT == max(SUMMARY_FORMATS)
    assert MANIFEST_FORMAT == max(notebook.MANIFEST_FORMATS)


def test_the_face_stays_lazy_with_the_new_names():
    import subprocess
    import sys

    code = ("import subrational, sys; subrational.__dict__.get('run'); "
            "print(sorted(m for m in ('torch', 'scipy', 'pandas', 'gymnasium') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
    assert callable(subrational.run) and subrational.load_run is notebook.load_run


def test_sampled_demonstrations_get_count_columns_and_decoded_texts(tmp_path):
    result = subrational.run("ultimatum", model="scripted:persona-logistic", persona="fair",
                             method="sample", samples=3, paraphrases=1, bootstrap=10,
                             out=tmp_path / "sampled")
    demos = result.demonstrations
    assert {"n_accept", "n_reject", "p_accept"} <= set(demos) and "counts" not in demos
    assert ((demos["n_accept"] + demos["n_reject"] + demos["n_failed"]) == demos["n_draws"]).all()
    texts = demos["texts"].iloc[0]
    assert isinstance(texts, list) and len(texts) == 3 and texts[0].rstrip().endswith(
        ("Accept", "Reject"))
    assert result.path == tmp_path / "sampled"


def test_a_config_file_is_read_and_its_bad_value_named_by_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "settings.toml"
    config.write_text('model = "scripted:uniform"\nsamples = 0\n')
    with pytest.raises(ConfigError, match=f"samples in {re.escape(str(config))}: must be from 1"):
        subrational.run("ultimatum", config=config)
    with pytest.raises(ConfigError, match="samples in .*settings.toml: must be from 1"):
        subrational.run("ultimatum", config=config, seed=2)  # keywords override, file kept
    assert not (tmp_path / "runs").exists()
