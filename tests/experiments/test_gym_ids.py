"""Every registered study is a Gymnasium id, and `check_env` passes on it without warnings."""

from __future__ import annotations

import subprocess
import sys
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import subrational.envs
from subrational.errors import ConfigError, UnknownNameError
from subrational.experiments import names, register
from subrational.experiments.env import GameEnv
from support import BusStop


def _check_quietly(env: gymnasium.Env) -> None:
    """check_env, failing on any warning it gives (the deprecation of an old version aside)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    problems = [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)]
    assert problems == []


def test_the_ids_are_those_of_the_registry():
    assert subrational.envs.ids() == [f"subrational/{vid}" for vid in names()]
    assert "subrational/marshmallow-v1" in subrational.envs.ids()


@pytest.mark.parametrize("vid", names())
def test_every_registered_study_makes_and_passes_check_env(vid):
    env = gymnasium.make(f"subrational/{vid}")
    assert env.spec is not None and env.spec.id == f"subrational/{vid}"
    assert isinstance(env.unwrapped, GameEnv) and env.unwrapped.experiment.id == vid
    _check_quietly(env)
    _check_quietly(gymnasium.make(f"subrational/{vid}", render_mode="ansi"))


def test_persona_and_options_reach_the_game():
    env = gymnasium.make("subrational/marshmallow-v1", persona="age-4")
    assert env.unwrapped.persona.name == "age-4"
    obs, info = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape and info["state"].minute == 0
    two = gymnasium.make("subrational/double_or_nothing-v1", win_probs=[0.5, 0.8])
    assert two.unwrapped.experiment.options == {"win_probs": [0.5, 0.8]}


def test_default_persona_is_the_studys_first_default():
    env = gymnasium.make("subrational/ultimatum-v2")
    assert env.unwrapped.persona.name == env.unwrapped.experiment.default_personas[0]


def test_a_mistyped_persona_or_option_is_one_line_with_the_choices():
    with pytest.raises(UnknownNameError, match="did you mean 'age-4'"):
        gymnasium.make("subrational/marshmallow-v1", persona="age-44")
    with pytest.raises(ConfigError, match="unknown option 'bogus'"):
        gymnasium.make("subrational/marshmallow-v1", bogus=1)


def test_a_plugin_game_gets_an_id_when_registered():
    class GymBus(BusStop):
        name = "gym-bus"

    register(GymBus)
    env = gymnasium.make("subrational/gym-bus-v1", persona="patience-2")
    assert env.unwrapped.experiment.name == "gym-bus"
    _check_quietly(env)
    obs, _ = env.reset(seed=1)
    _, reward, terminated, _, _ = env.step(0)  # walk home now
    assert reward == 1.0 and terminated
    register(GymBus, replace=True)  # registering again keeps the id, with no override warning
    assert "subrational/gym-bus-v1" in gymnasium.registry


def test_a_0d_integer_array_is_an_action():
    env = gymnasium.make("subrational/ultimatum-v2")
    env.reset(seed=0)
    *_, terminated, _, _ = env.step(np.array(1))
    assert terminated


def test_the_module_prefix_works_in_a_fresh_process_and_the_face_stays_lazy():
    code = ("import gymnasium, sys\n"
            "env = gymnasium.make('subrational.envs:subrational/marshmallow-v1', persona='age-5')\n"
            "print(env.unwrapped.persona.name)\n"
            "import subrational\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["age-5"]
    lazy = subprocess.run([sys.executable, "-c", "import subrational, sys; "
                           "print('gymnasium' in sys.modules)"], capture_output=True, text=True,
                          check=True).stdout
    assert lazy.strip() == "False"
