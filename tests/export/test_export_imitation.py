"""`subrational export --to imitation`: imitation's TrajectoryWithRew columns, read back."""

import json
import sys

import numpy as np
import pytest

from conftest import PERSONAS, export_to

datasets = pytest.importorskip("datasets")


@pytest.fixture(scope="module")
def exported(finished_run, tmp_path_factory):
    return export_to(finished_run, tmp_path_factory, "imitation", 5)


def _trajectories(folder):
    """What imitation's ``huggingface_utils`` rebuilds from the dataset (its layout)."""
    dataset = datasets.load_from_disk(str(folder))
    out = []
    for row in dataset:
        out.append({"obs": np.asarray(row["obs"]), "acts": np.asarray(row["acts"]),
                    "infos": [json.loads(i) for i in row["infos"]], "terminal": row["terminal"],
                    "rews": np.asarray(row["rews"], dtype=float)})
    return dataset, out


@pytest.mark.parametrize("exp_id", list(PERSONAS))
def test_columns_and_shapes_are_imitations(exported, exp_id):
    dataset, trajectories = _trajectories(exported / exp_id / "policy")
    assert dataset.column_names == ["obs", "acts", "infos", "terminal", "rews"]
    assert len(trajectories) == 5 * len(PERSONAS[exp_id])
    for traj in trajectories:
        steps = len(traj["acts"])
        # TrajectoryWithRew's own checks: obs has one row more than acts; infos, rews one each.
        assert traj["obs"].ndim == 2 and traj["obs"].shape[0] == steps + 1
        assert len(traj["infos"]) == steps == traj["rews"].shape[0]
        assert traj["acts"].dtype.kind == "i" and traj["terminal"] is True
        assert {i["persona"] for i in traj["infos"]} <= set(PERSONAS[exp_id])
    assert "imitation" not in sys.modules


def test_the_marshmallow_rewards_and_probabilities_are_the_games(exported, finished_run):
    from subrational.demonstrations import TablePolicy, read_demonstrations
    from subrational.experiments import make

    game = make("marshmallow-v1")
    table = TablePolicy(game, read_demonstrations(finished_run / "marshmallow" /
                                                  "demonstrations.parquet"))
    _, trajectories = _trajectories(exported / "marshmallow-v1" / "demonstrations")
    for traj in trajectories:
        eats = traj["acts"][-1] == 0
        # Eating ends it with one marshmallow; waiting every minute earns two at the end.
        assert traj["rews"].sum() == (1.0 if eats else 2.0)
        assert (traj["acts"][:-1] == 1).all() and traj["rews"][:-1].sum() == 0
        for info in traj["infos"]:
            persona = game.persona(info["persona"])
            state = game.state_from_dict(info["state"])
            np.testing.assert_allclose(info["probs"], table.action_probs(state, persona))
