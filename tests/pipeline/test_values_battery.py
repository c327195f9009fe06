"""Bad values are one line, exit code 2, no traceback, and fail before any model call.

Each case gives ``subrational run`` one bad study option, run setting, config-file key or
imported game, with the scripted backend, which raises :class:`ModelCalled` on its first
request: a case that reaches a model call fails loudly instead of running (or hanging, or
filling the memory) to the end.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from subrational.backends.scripted import ScriptedBackend
from subrational.cli import main

BASE = ["--model", "scripted:human-logistic", "--paraphrases", "1", "--bootstrap", "5",
        "--episodes", "50", "--no-progress"]


class ModelCalled(BaseException):
    """A request reached the backend: the bad value was not refused before the first call."""


@pytest.fixture
def no_model_calls(monkeypatch) -> None:
    def refuse(self, requests):
        raise ModelCalled(f"{len(requests)} requests")

    monkeypatch.setattr(ScriptedBackend, "score", refuse)
    monkeypatch.setattr(ScriptedBackend, "generate", refuse)


@pytest.fixture
def fresh_registry():
    """Games a case imports are forgotten afterwards (the registry is process-wide)."""
    import sys

    from subrational.experiments import registry

    registry._catalogue()
    saved, modules = dict(registry._REGISTRY), set(sys.modules)
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved)
    for name in set(sys.modules) - modules:
        if name.startswith("subrational_plugin_"):
            del sys.modules[name]


def _option(study: str, spec: str) -> list[str]:
    return [study, "--option", f"{study}.{spec}"]


OPTION_CASES = {
    # ultimatum
    "ultimatum.pie=abc": (_option("ultimatum", "pie=abc"), "ultimatum.pie"),
    "ultimatum.pie=-5": (_option("ultimatum", "pie=-5"), "ultimatum.pie"),
    "ultimatum.pie=0": (_option("ultimatum", "pie=0"), "ultimatum.pie"),
    "ultimatum.pie=NaN": (_option("ultimatum", "pie=NaN"), "ultimatum.pie"),
    "ultimatum.pie=Infinity": (_option("ultimatum", "pie=Infinity"), "ultimatum.pie"),
    "ultimatum.pie=true": (_option("ultimatum", "pie=true"), "ultimatum.pie"),
    "ultimatum.pie=1e12": (_option("ultimatum", "pie=1e12"), "ultimatum.pie"),
    "ultimatum.pie=[10]": (_option("ultimatum", "pie=[10]"), "ultimatum.pie"),
    "ultimatum.step=0": (_option("ultimatum", "step=0"), "ultimatum.step"),
    "ultimatum.step=-0.1": (_option("ultimatum", "step=-0.1"), "ultimatum.step"),
    "ultimatum.step=1e-7": (_option("ultimatum", "step=1e-7"), "ultimatum.step"),
    "ultimatum.step=abc": (_option("ultimatum", "step=abc"), "ultimatum.step"),
    "ultimatum.step=NaN": (_option("ultimatum", "step=NaN"), "ultimatum.step"),
    "ultimatum.step=2": (_option("ultimatum", "step=2"), "ultimatum.step"),
    "ultimatum.step=0.6": (_option("ultimatum", "step=0.6"), "ultimatum.step"),
    "ultimatum.pi=5 (unknown option)": (_option("ultimatum", "pi=5"), "did you mean 'pie'"),
    "ultimatum.framing=bogus": (_option("ultimatum", "framing=bogus"), "ultimatum.framing"),
    "ultimatum.framing=1": (_option("ultimatum", "framing=1"), "ultimatum.framing"),
    # marshmallow
    "marshmallow.horizon=abc": (_option("marshmallow", "horizon=abc"), "marshmallow.horizon"),
    "marshmallow.horizon=1": (_option("marshmallow", "horizon=1"), "marshmallow.horizon"),
    "marshmallow.horizon=-3": (_option("marshmallow", "horizon=-3"), "marshmallow.horizon"),
    "marshmallow.horizon=2.5": (_option("marshmallow", "horizon=2.5"), "marshmallow.horizon"),
    "marshmallow.horizon=true": (_option("marshmallow", "horizon=true"), "marshmallow.horizon"),
    "marshmallow.horizon=NaN": (_option("marshmallow", "horizon=NaN"), "marshmallow.horizon"),
    "marshmallow.horizon=1000000": (_option("marshmallow", "horizon=1000000"),
                                    "marshmallow.horizon"),
    "marshmallow.ages=abc": (_option("marshmallow", "ages=abc"), "marshmallow.ages"),
    "marshmallow.ages=[]": (_option("marshmallow", "ages=[]"), "marshmallow.ages"),
    "marshmallow.ages=9": (_option("marshmallow", "ages=9"), "marshmallow.ages"),
    "marshmallow.ages=3,abc": (_option("marshmallow", "ages=3,abc"), "marshmallow.ages"),
    "marshmallow.ages=2.5": (_option("marshmallow", "ages=2.5"), "marshmallow.ages"),
    "marshmallow.ages=NaN": (_option("marshmallow", "ages=NaN"), "marshmallow.ages"),
    "marshmallow.ages={}": (_option("marshmallow", 'ages={"a": 3}'), "marshmallow.ages"),
    # double or nothing
    "double_or_nothing.framing=Disguised": (_option("double_or_nothing", "framing=Disguised"),
                                            "double_or_nothing.framing"),
    "double_or_nothing.loss_win_probs=1.5": (_option("double_or_nothing", "loss_win_probs=1.5"),
                                             "double_or_nothing.loss_win_probs"),
    "double_or_nothing.loss_win_probs=abc": (_option("double_or_nothing", "loss_win_probs=abc"),
                                             "double_or_nothing.loss_win_probs"),
    "double_or_nothing.win_probs=1.5": (_option("double_or_nothing", "win_probs=1.5"),
                                        "double_or_nothing.win_probs"),
    "double_or_nothing.win_probs=0": (_option("double_or_nothing", "win_probs=0"),
                                      "double_or_nothing.win_probs"),
    "double_or_nothing.win_probs=abc": (_option("double_or_nothing", "win_probs=abc"),
                                        "double_or_nothing.win_probs"),
    "double_or_nothing.win_probs=NaN": (_option("double_or_nothing", "win_probs=NaN"),
                                        "double_or_nothing.win_probs"),
    "double_or_nothing.win_probs=[]": (_option("double_or_nothing", "win_probs=[]"),
                                       "double_or_nothing.win_probs"),
    "double_or_nothing.win_probs=0.5,0.5": (_option("double_or_nothing", "win_probs=0.5,0.5"),
                                            "double_or_nothing.win_probs"),
    "double_or_nothing.win_probs x 5000": (
        _option("double_or_nothing", "win_probs=" + json.dumps(
            [round(0.0001 + i * 0.0001998, 7) for i in range(5000)])),
        "double_or_nothing.win_probs"),
    "double_or_nothing.stakes=abc": (_option("double_or_nothing", "stakes=abc"),
                                     "double_or_nothing.stakes"),
    "double_or_nothing.stakes=5": (_option("double_or_nothing", "stakes=5"),
                                   "double_or_nothing.stakes"),
    "double_or_nothing.stakes=1e9": (_option("double_or_nothing", "stakes=1e9"),
                                     "double_or_nothing.stakes"),
    "double_or_nothing.stakes=NaN": (_option("double_or_nothing", "stakes=NaN"),
                                     "double_or_nothing.stakes"),
    "double_or_nothing.stakes=[]": (_option("double_or_nothing", "stakes=[]"),
                                    "double_or_nothing.stakes"),
    "double_or_nothing.stakes=true": (_option("double_or_nothing", "stakes=true"),
                                      "double_or_nothing.stakes"),
    "double_or_nothing.max_flips=0": (_option("double_or_nothing", "max_flips=0"),
                                      "double_or_nothing.max_flips"),
    "double_or_nothing.max_flips=abc": (_option("double_or_nothing", "max_flips=abc"),
                                        "double_or_nothing.max_flips"),
    "double_or_nothing.max_flips=2.5": (_option("double_or_nothing", "max_flips=2.5"),
                                        "double_or_nothing.max_flips"),
    "double_or_nothing.max_flips=1000": (_option("double_or_nothing", "max_flips=1000"),
                                         "double_or_nothing.max_flips"),
    "double_or_nothing.max_flips=true": (_option("double_or_nothing", "max_flips=true"),
                                         "double_or_nothing.max_flips"),
    # procrastination
    "procrastination.deadline=100000": (_option("procrastination", "deadline=100000"),
                                        "procrastination.deadline"),
    "procrastination.deadline=abc": (_option("procrastination", "deadline=abc"),
                                     "procrastination.deadline"),
    "procrastination.deadline=1": (_option("procrastination", "deadline=1"),
                                   "procrastination.deadline"),
    "procrastination.deadline=7.5": (_option("procrastination", "deadline=7.5"),
                                     "procrastination.deadline"),
    "procrastination.deadline=true": (_option("procrastination", "deadline=true"),
                                      "procrastination.deadline"),
    "procrastination.sessions=0": (_option("procrastination", "sessions=0"),
                                   "procrastination.sessions"),
    "procrastination.sessions=abc": (_option("procrastination", "sessions=abc"),
                                     "procrastination.sessions"),
    "procrastination.sessions=true": (_option("procrastination", "sessions=true"),
                                      "procrastination.sessions"),
    "procrastination.sessions=1000": (_option("procrastination", "sessions=1000"),
                                      "procrastination.sessions"),
    "procrastination.gpas=abc": (_option("procrastination", "gpas=abc"),
                                 "procrastination.gpas"),
    "procrastination.gpas=5": (_option("procrastination", "gpas=5"), "procrastination.gpas"),
    "procrastination.gpas=NaN": (_option("procrastination", "gpas=NaN"),
                                 "procrastination.gpas"),
    "procrastination.gpas=[]": (_option("procrastination", "gpas=[]"),
                                "procrastination.gpas"),
    "procrastination.gpas=3.2,3.24": (_option("procrastination", "gpas=3.2,3.24"),
                                      "procrastination.gpas"),
}

SETTING_CASES = {
    "--seed -1": (["ultimatum", "--seed", "-1"], "--seed"),
    "--seed 2**64": (["ultimatum", "--seed", str(2**64)], "--seed"),
    "--samples 10**9": (["ultimatum", "--method", "sample", "--samples", str(10**9)],
                        "--samples"),
    "--samples 0": (["ultimatum", "--samples", "0"], "--samples"),
    "--episodes 10**9": (["ultimatum", "--episodes", str(10**9)], "--episodes"),
    "--bootstrap 10**9": (["ultimatum", "--bootstrap", str(10**9)], "--bootstrap"),
    "--concurrency 0": (["ultimatum", "--concurrency", "0"], "--concurrency"),
    "--concurrency 10**9": (["ultimatum", "--concurrency", str(10**9)], "--concurrency"),
    "--max-tokens 0": (["ultimatum", "--max-tokens", "0"], "--max-tokens"),
    "--max-tokens 10**9": (["ultimatum", "--max-tokens", str(10**9)], "--max-tokens"),
    "--paraphrases 0": (["ultimatum", "--paraphrases", "0"], "--paraphrases"),
    "--paraphrases 99": (["ultimatum", "--paraphrases", "99"], "--paraphrases"),
    "--paraphrases 10**9": (["ultimatum", "--paraphrases", str(10**9)], "--paraphrases"),
    "--temperature nan": (["ultimatum", "--temperature", "nan"], "--temperature"),
    "plan of 23 million sampled calls": (
        ["ultimatum", "marshmallow", "double_or_nothing", "procrastination", "--method",
         "sample", "--samples", "10000", "--paraphrases", "4"], "model calls"),
    "plan of 3.7 million grid calls": (
        ["procrastination", "--paraphrases", "4", "--option", "procrastination.deadline=365",
         "--option", "procrastination.sessions=60", "--option",
         "procrastination.gpas=" + ",".join(f"{2 + i / 10:.1f}" for i in range(21))],
        "model calls"),
}

CONFIG_CASES = {
    "seed = -1 in a file": ("seed = -1", "seed"),
    "max_concurrency = 0 in a file": ("max_concurrency = 0", "max_concurrency"),
    "samples = 1e9 in a file": ('method = "sample"\nsamples = 1e9', "samples"),
    "seed = 'abc' in a file": ('seed = "abc"', "seed"),
    "max_tokens = true in a file": ("max_tokens = true", "max_tokens"),
    "options.ultimatum.pie = 'abc' in a file": ('[options.ultimatum]\npie = "abc"',
                                                "ultimatum.pie"),
}

GAME = '''
from dataclasses import dataclass
import subrational
from subrational import Experiment, Persona, Step


@dataclass(frozen=True)
class S:
    x: int


class {cls}(Experiment):
    name = "{name}"
    version = 1
    title = "A broken game"
    actions = ("Yes", "No")
    state_type = S

    def __init__(self, *, size: int = 3):
        self.size = size

    @property
    def personas(self):
        return {{"p": Persona("p", "You are a person.")}}

    def states(self):
        return [S(i) for i in range(self.size)]

    def initial_state(self, persona, *, rng):
        return S(0)

    def step(self, state, action, persona):
        return Step(None, 1.0, True)

    def state_features(self, state):
        return {{"x": state.x / 2}}

    def instructions(self, persona):
        return persona.text + " Answer yes or no."

    def situation(self, state, persona):
        return f"State {{state.x}}. Yes or no?"
{broken}

subrational.register({cls})
'''

BROKEN_GAMES = {
    "states() is empty": ("    def states(self):\n        return []\n", "states()"),
    "a feature is not a number": ("    def state_features(self, state):\n"
                                  "        return {'x': 'high'}\n", "state_features()"),
    "a feature is NaN": ("    def state_features(self, state):\n"
                         "        return {'x': float('nan')}\n", "state_features()"),
    "situation() raises": ("    def situation(self, state, persona):\n"
                           "        raise RuntimeError('no text')\n", "situation()"),
    "step() never ends": ("    def step(self, state, action, persona):\n"
                          "        return Step(S((state.x + 1) % 3), 0.0, False)\n", "step()"),
    "step() raises": ("    def step(self, state, action, persona):\n"
                      "        raise KeyError(action)\n", "step()"),
    "initial_state() raises": ("    def initial_state(self, persona, *, rng):\n"
                               "        raise ValueError('no start')\n", "initial_state()"),
}


def _game_file(tmp: Path, case: str, broken: str) -> Path:
    slug = "".join(c if c.isalnum() else "_" for c in case.lower()).strip("_")
    path = tmp / f"broken_{slug}.py"
    path.write_text(GAME.format(cls=f"Broken{abs(hash(case)) % 10**8}", name=f"broken_{slug}",
                                broken=textwrap.indent(textwrap.dedent(broken), "    ")))
    return path


def assert_one_line(code: int, err: str, needle: str) -> None:
    assert "Traceback" not in err, err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("subrational: error: "), err
    assert needle in lines[0], err


def _cli(args: list[str], tmp_path: Path, capsys) -> tuple[int, str]:
    try:
        code = main(["run", *BASE, *args, "--out", str(tmp_path / "out")])
    except SystemExit as exc:  # argparse's one-line errors
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("case", list(OPTION_CASES))
def test_a_bad_study_option_is_refused_by_its_study(case, tmp_path, capsys, no_model_calls):
    args, needle = OPTION_CASES[case]
    code, err = _cli(args, tmp_path, capsys)
    assert_one_line(code, err, needle)
    if "unknown" not in case:
        assert "must be" in err and "; got " in err, err  # what is allowed, what was given


@pytest.mark.parametrize("case", list(SETTING_CASES))
def test_a_bad_run_setting_names_its_flag_and_bound(case, tmp_path, capsys, no_model_calls):
    args, needle = SETTING_CASES[case]
    code, err = _cli(args, tmp_path, capsys)
    assert_one_line(code, err, needle)
    assert "max_concurrency" not in err  # the flag the user typed, not the field


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_a_bad_config_file_key_names_the_key_and_the_file(case, tmp_path, capsys,
                                                          no_model_calls):
    text, needle = CONFIG_CASES[case]
    (tmp_path / "run.toml").write_text(text + "\n")
    code, err = _cli(["ultimatum", "--config", str(tmp_path / "run.toml")], tmp_path, capsys)
    assert_one_line(code, err, needle)
    if "options" not in case:
        assert "run.toml" in err, err


@pytest.mark.parametrize("case", list(BROKEN_GAMES))
def test_an_imported_game_that_breaks_at_run_time_is_one_line(case, tmp_path, capsys,
                                                              no_model_calls, fresh_registry):
    broken, method = BROKEN_GAMES[case]
    path = _game_file(tmp_path, case, broken)
    name = path.stem
    code, err = _cli([name, "--import", str(path)], tmp_path, capsys)
    assert_one_line(code, err, method)
    assert f"{name}-v1" in err, err


def test_a_plugin_constructor_that_rejects_an_option_value_is_one_line(
        tmp_path, capsys, no_model_calls, fresh_registry):
    path = _game_file(tmp_path, "rejects size", "    def __init__(self, *, size: int = 3):\n"
                      "        self.size = int(size)\n")
    name = path.stem
    code, err = _cli([name, "--import", str(path), "--option", f"{name}.size=abc"], tmp_path,
                     capsys)
    assert_one_line(code, err, "size")
    assert "unknown option" not in err and "takes the options" not in err, err
