"""`subrational export --to hf`: a dataset folder with a card that says the data are synthetic."""

import json

import pandas as pd
import pytest

from conftest import PERSONAS, export_to


@pytest.fixture(scope="module")
def exported(finished_run, tmp_path_factory):
    return export_to(finished_run, tmp_path_factory, "hf", 3)


def test_the_card_names_model_method_prompt_personas_and_says_synthetic(exported, finished_run):
    from subrational.experiments import make
    from subrational.export.hf import SYNTHETIC_STATEMENT

    card = (exported / "README.md").read_text()
    manifest = json.loads((finished_run / "manifest.json").read_text())
    summary = json.loads((finished_run / "summary.json").read_text())
    assert card.startswith("---\n") and "\nlicense: other\n" in card and "- synthetic" in card
    assert SYNTHETIC_STATEMENT in card and "not human data" in SYNTHETIC_STATEMENT.lower()
    assert f"`{summary['model']}`" in card and "**Method:** choice-probs" in card
    assert f"**Prompt version:** {manifest['prompt_version']}" in card
    for exp_id, names in PERSONAS.items():
        game = make(exp_id)
        for name in names:
            assert game.persona(name).text in card
        assert f'data_files: "data/{exp_id}/episodes.parquet"' in card


def test_the_files_hold_the_run_and_the_episodes(exported, finished_run):
    demos = pd.read_parquet(exported / "data" / "ultimatum-v2" / "demonstrations.parquet")
    original = pd.read_parquet(finished_run / "ultimatum" / "demonstrations.parquet")
    pd.testing.assert_frame_equal(demos, original)
    steps = pd.read_parquet(exported / "data" / "marshmallow-v1" / "episodes.parquet")
    assert set(steps["source"]) == {"demonstrations", "policy"}
    assert steps.groupby("source")["episode"].nunique().to_dict() == {"demonstrations": 6,
                                                                       "policy": 6}
    ends = steps.groupby(["source", "episode"])["terminated"].agg(["sum", "last"])
    assert (ends["sum"] == 1).all() and ends["last"].all()  # one end, at the last step
    assert ((steps["action_name"] == "Eat") == (steps["action"] == 0)).all()


def test_datasets_loads_the_folder_by_config(exported, monkeypatch, tmp_path):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    loaded = datasets.load_dataset(str(exported), "marshmallow-v1-episodes",
                                   cache_dir=str(tmp_path / "hf-cache"))
    steps = pd.read_parquet(exported / "data" / "marshmallow-v1" / "episodes.parquet")
    assert loaded["train"].num_rows == len(steps) > 0
    assert loaded["train"].column_names[:3] == ["source", "episode", "persona"]
