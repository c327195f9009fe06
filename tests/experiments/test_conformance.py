"""Every registered study obeys the contract (Gymnasium's `tests/envs/test_envs.py` pattern).

The checks themselves live in :func:`subrational.check_experiment`, so that authors of their own
games run the same ones; here they run over the registry, and each check is shown able to fail.
"""

import pytest

import subrational
from subrational.experiments import Persona, Step, names
from support import BusState, BusStop

STUDIES = names()


def test_the_four_paper_studies_are_registered():
    short = {vid.rpartition("-v")[0] for vid in STUDIES}
    assert {"ultimatum", "marshmallow", "double_or_nothing", "procrastination"} <= short


@pytest.mark.parametrize("vid", STUDIES)
def test_every_registered_study_conforms(vid):
    report = subrational.check_experiment(vid)
    assert report.problems == []
    assert report.checks[-1] == "environment and play"


def test_a_conforming_game_of_ones_own_passes():
    assert subrational.check_experiment(BusStop).ok


def _broken(**overrides):
    """A BusStop with one method replaced."""
    return type("Broken", (BusStop,), overrides)


CASES = {
    "features leave [0, 1]": (
        {"state_features": lambda self, s: {"minute": float(s.minute)}}, "outside [0, 1]"),
    "feature not a number": (
        {"state_features": lambda self, s: {"minute": "late"}}, "finite numbers"),
    "first words clash": ({"actions": ("Wait now", "Wait later")}, "first words must differ"),
    "same situation text": ({"situation": lambda self, s, p: "Walk or wait?"}, "same text"),
    "situation raises": (
        {"situation": lambda self, s, p: 1 / 0}, "situation() raised ZeroDivisionError"),
    "no states": ({"states": lambda self: []}, "states() is empty"),
    "duplicate states": ({"states": lambda self: [BusState(0), BusState(0)]}, "distinct"),
    "off-grid step": (
        {"step": lambda self, s, a, p: Step(BusState(99), 0.0, False)}, "not in states()"),
    "not a distribution": (
        {"transitions": lambda self, s, a, p: [(0.5, Step(None, 1.0, True))]},
        "not a distribution"),
    "never ends": (
        {"step": lambda self, s, a, p: Step(s, 0.0, False)}, "did not end"),
    "persona outside its axis": (
        {"personas": property(lambda self: {"x": Persona("x", "You.", "rider",
                                                         {"patience": 9.0})})},
        "outside persona_axes"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_check_reports_a_broken_game_in_one_line(case):
    overrides, expected = CASES[case]
    report = subrational.check_experiment(_broken(**overrides))
    assert not report.ok
    assert any(expected in line for line in report.problems), report.problems
    assert all("\n" not in line for line in report.problems)
    with pytest.raises(subrational.errors.ConfigError, match="bus-stop-v1"):
        report.raise_if_failed()
