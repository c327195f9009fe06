"""Populations through ``subrational run``: bad files are one line before any call; a scripted
responder that reads a trait from its prompt gives each person the behaviour the rule says."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from test_values_battery import BASE, _cli, assert_one_line, no_model_calls  # noqa: F401

from subrational.cli import main

GOOD = "id,age,gender,conscientiousness\nann,34,female,1\nbob,61,male,5\ncy,25,nonbinary,3\n"

BAD_FILES = {
    "empty CSV": ("people.csv", "id,age\n", "population is empty"),
    "empty file": ("people.csv", "", "population is empty"),
    "unknown trait": ("people.csv", "id,age,shoesize\nann,34,42\n", "column 'shoesize'"),
    "misspelt trait": ("people.csv", "id,gendr\nann,female\n", "did you mean 'gender'"),
    "age not a number": ("people.csv", "id,age\nann,34\nbob,old\n", "row 2, column 'age'"),
    "age not whole": ("people.csv", "id,age\nann,34.5\n", "row 1, column 'age'"),
    "age out of range": ("people.csv", "id,age\nann,340\n", "row 1, column 'age'"),
    "unknown gender": ("people.csv", "id,gender\nann,feminine\n", "row 1, column 'gender'"),
    "empty cell": ("people.csv", "id,age,gender\nann,34,female\nbob,,male\n",
                   "row 2, column 'age'"),
    "short row": ("people.csv", "id,age,gender\nann,34\n", "row 1"),
    "duplicate id": ("people.csv", "id,age\nann,34\nbob,40\nann,50\n",
                     "row 3, column 'id'"),
    "bad id": ("people.csv", "id,age\nann smith,34\n", "row 1, column 'id'"),
    "JSON wrong type": ("people.json", json.dumps([{"id": "a", "age": "34"}]),
                        "row 1, column 'age'"),
    "JSON bool": ("people.json", json.dumps([{"id": "a", "income": True}]),
                  "row 1, column 'income'"),
    "JSON row not a table": ("people.json", json.dumps([{"id": "a"}, 3]), "row 2"),
    "JSON columns differ": ("people.json", json.dumps([{"id": "a", "age": 30}, {"id": "b"}]),
                            "row 2, column 'age'"),
    "JSON empty list": ("people.json", "[]", "population is empty"),
    "JSON invalid": ("people.json", "[{", "not valid JSON"),
    "TOML no people": ("people.toml", "[[persons]]\nid = 'a'\n", "'people'"),
    "TOML category a number": ("people.toml", "[[people]]\nid = 'a'\neducation = 12\n",
                               "row 1, column 'education'"),
    "too many people": ("people.csv", "id\n" + "".join(f"p{i}\n" for i in range(10_001)),
                        "10,001 people"),
    "unknown suffix": ("people.xlsx", "id\n", ".csv, .json or .toml"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_population_file_is_one_line_naming_file_row_and_column(case, tmp_path, capsys,
                                                                      no_model_calls):  # noqa: F811
    name, text, needle = BAD_FILES[case]
    path = tmp_path / name
    path.write_text(text)
    code, err = _cli(["ultimatum", "--population", str(path)], tmp_path, capsys)
    assert_one_line(code, err, needle)
    if "suffix" not in case:
        assert str(path) in err, err


SETTING_CASES = {
    "size beyond the limit": (["--population", "builtin:adults", "--population-size",
                               "10001"], "--population-size"),
    "size zero": (["--population", "builtin:adults", "--population-size", "0"],
                  "--population-size"),
    "builtin without a size": (["--population", "builtin:adults"], "--population-size"),
    "size without a population": (["--population-size", "5"], "--population"),
    "unknown builtin": (["--population", "builtin:adult", "--population-size", "5"],
                        "did you mean 'adults'"),
    "size with a file": (["--population", "PEOPLE", "--population-size", "5"],
                         "only with builtin"),
    "missing file": (["--population", "nowhere.csv"], "no such file"),
}


@pytest.mark.parametrize("case", list(SETTING_CASES))
def test_a_bad_population_setting_is_one_line(case, tmp_path, capsys, no_model_calls):  # noqa: F811
    (tmp_path / "people.csv").write_text(GOOD)
    args = [a.replace("PEOPLE", str(tmp_path / "people.csv")) for a in SETTING_CASES[case][0]]
    code, err = _cli(["ultimatum", *args], tmp_path, capsys)
    assert_one_line(code, err, SETTING_CASES[case][1])


def test_a_file_of_adults_in_the_marshmallow_test_is_refused_naming_it(
        tmp_path, capsys, no_model_calls):  # noqa: F811
    (tmp_path / "adults.csv").write_text("id,age\nann,34\n")
    code, err = _cli(["marshmallow", "--population", str(tmp_path / "adults.csv")],
                     tmp_path, capsys)
    assert_one_line(code, err, "row 1, column 'age'")
    assert "adults.csv" in err and "children" in err


@pytest.mark.parametrize("named, other", [("adults", "children"), ("children", "adults")])
def test_a_builtin_names_a_kind_of_people_and_each_study_draws_its_own(named, other):
    """One command runs all four studies: the marshmallow test draws children where the run
    names adults (and the others adults where it names children), same size and seed; the
    manifest says who drew what."""
    from subrational.config import RunConfig
    from subrational.experiments import split_id
    from subrational.pipeline import _population_record, resolve_experiments

    studies = ["ultimatum", "marshmallow", "double_or_nothing", "procrastination"]
    config = RunConfig(experiments=studies, population=f"builtin:{named}", population_size=7,
                       seed=3)
    experiments = {split_id(e.id)[0]: e for e in resolve_experiments(config)}
    assert sorted(experiments) == sorted(studies)
    for study_name, experiment in experiments.items():
        ages = {int({**p.traits, **p.values}["age"]) for p in experiment.personas.values()}
        assert (max(ages) <= 8) == (study_name == "marshmallow"), (study_name, ages)
    record = _population_record(config, list(experiments.values()))
    assert record["source"] == f"builtin:{named}" and record["people"] == 7
    drew = record.get("drawn_instead", {})
    assert {split_id(k)[0] for k in drew} == (
        {"marshmallow"} if named == "adults" else
        {"ultimatum", "double_or_nothing", "procrastination"})
    assert all(d["source"] == f"builtin:{other}" and d["people"] == 7 for d in drew.values())


def test_a_gpa_outside_the_axis_is_refused_with_its_row(tmp_path, capsys,
                                                        no_model_calls):  # noqa: F811
    (tmp_path / "p.csv").write_text("id,gpa\na,3.1\nb,1.5\n")
    code, err = _cli(["procrastination", "--population", str(tmp_path / "p.csv")], tmp_path,
                     capsys)
    assert_one_line(code, err, "row 2, column 'gpa'")  # 1.5 is a GPA, but not on the axis


PLUGIN = '''
import re
from scipy.special import expit
from subrational.backends.scripted import register_script


def by_conscientiousness(persona, state):
    """Accepts offers above 0.1 + 0.3 (c - 1) / 4, read from the prompt's persona sentence."""
    c = float(re.search(r"conscientiousness (\\d+(?:\\.\\d+)?)", persona.text).group(1))
    p = float(expit(40 * (state.offer - (0.1 + 0.3 * (c - 1) / 4))))
    return [p, 1 - p]


register_script("by-conscientiousness", by_conscientiousness)
'''


def _threshold(c: float) -> float:
    return 0.1 + 0.3 * (c - 1) / 4


def test_a_trait_driven_responder_gives_each_person_its_rule(tmp_path, capsys):
    (tmp_path / "plugin.py").write_text(PLUGIN)
    (tmp_path / "people.csv").write_text(GOOD)
    out = tmp_path / "out"
    code = main(["run", "ultimatum", *BASE[:1], "scripted:by-conscientiousness", *BASE[2:],
                 "--import", str(tmp_path / "plugin.py"),
                 "--population", str(tmp_path / "people.csv"), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    frame = pd.read_parquet(out / "ultimatum" / "demonstrations.parquet")
    assert sorted(frame["persona"].unique()) == ["ann", "bob", "cy"]  # one persona per person
    assert set(frame["persona_kind"]) == {"person"}
    consc = {"ann": 1.0, "bob": 5.0, "cy": 3.0}
    for _, row in frame.iterrows():
        offer = json.loads(row["state"])["offer"]
        want = 1 / (1 + math.exp(-40 * (offer - _threshold(consc[row["persona"]]))))
        assert row["probs"][0] == pytest.approx(want, abs=1e-6), (row["persona"], offer)
    # the rule moves the 50 % point with the trait: ann accepts 0.2, bob does not
    at = frame[frame["state"] == json.dumps({"offer": 0.2}, separators=(",", ":"))]
    accept = dict(zip(at["persona"], at["probs"].map(lambda p: p[0]), strict=True))
    assert accept["ann"] > 0.9 and accept["bob"] < 0.01
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["population"]["people"] == 3
    assert manifest["population"]["templates"] == {"ultimatum-v2": 1}
    from subrational.learning import load_policy

    policy = load_policy(out / "ultimatum" / "policy.pt")  # traits stored and encoded again
    assert "trait.conscientiousness" in policy.experiment.feature_names()
    assert policy.personas["bob"].traits["conscientiousness"] == 5.0
    low, high = (policy.action_probs({"offer": 0.2}, who)[0] for who in ("ann", "bob"))
    assert low > high  # the learned policy tells the two people apart by their traits
    assert np.isfinite([low, high]).all()
