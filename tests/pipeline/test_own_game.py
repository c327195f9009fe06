"""A game defined outside the package goes through the whole public pipeline."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
from gymnasium.utils.env_checker import check_env

import subrational
from subrational.backends.scripted import ScriptedBackend
from subrational.config import RunConfig
from subrational.pipeline import run

EXAMPLE = Path(__file__).parents[2] / "examples" / "sure_thing.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("sure_thing_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_external_game_runs_end_to_end_and_its_policy_reloads(tmp_path):
    module = _load_example()
    exp = subrational.make("sure_thing")
    check_env(subrational.GameEnv(exp, "bold"), skip_render_check=True)

    def truth(persona, state):  # bold flips more, and more so for larger prizes
        p_flip = min(0.95, state.prize / 30 + (0.3 if persona.name == "bold" else 0.0))
        return [1 - p_flip, p_flip]

    result = run(RunConfig(experiments=["sure_thing"], model="scripted:x", out=tmp_path),
                 out=tmp_path, backend=ScriptedBackend("x", probs_fn=truth))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert "sure_thing-v1" in summary["experiments"]
    policy = subrational.load_policy(tmp_path / "sure_thing" / "policy.pt")
    bold = policy.action_probs(module.Prize(30.0), "bold")
    cautious = policy.action_probs(module.Prize(2.0), "cautious")
    assert bold[1] > 0.85 and cautious[1] < 0.2
    assert list((tmp_path / "figures").glob("sure_thing-*.png"))
    assert result.results[0].training["fidelity_tv"] < 0.03
    np.testing.assert_allclose(bold.sum(), 1.0, rtol=1e-6)
