"""Populations: the built-in samplers keep their stated marginals; people become personas by
each study's template; traits are encoded for the policy only when a population is given."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from subrational.errors import ConfigError
from subrational.experiments import make
from subrational.experiments.checks import check_experiment
from subrational.experiments.population import (
    ADULT_MARGINALS,
    CHILD_AGES,
    load_population,
)

STUDIES = ("ultimatum", "marshmallow", "double_or_nothing", "procrastination")


def _shares(values: list[str]) -> dict[str, float]:
    return {v: values.count(v) / len(values) for v in set(values)}


@pytest.mark.parametrize("size", [50, 10_000])
def test_builtin_adults_reproduce_their_stated_marginals(size):
    people = load_population("builtin:adults", size=size, seed=7).people
    assert len(people) == size and len({p.id for p in people}) == size
    ages = [p.traits["age"] for p in people]
    assert min(ages) >= 18 and max(ages) <= 84
    drawn = {"gender": [p.traits["gender"] for p in people],
             "education": [p.traits["education"] for p in people],
             "age_band": ["65-84" if a >= 65 else "18-64" for a in ages]}
    for trait, shares in ADULT_MARGINALS.items():
        got = _shares(drawn[trait])
        assert set(got) <= set(shares), trait
        for value, p in shares.items():
            se = math.sqrt(p * (1 - p) / size)
            assert abs(got.get(value, 0.0) - p) <= 3 * se, (trait, value, got, p)


def test_builtin_populations_are_seeded():
    a = load_population("builtin:adults", size=20, seed=3)
    assert a == load_population("builtin:adults", size=20, seed=3)
    assert a.sha256 != load_population("builtin:adults", size=20, seed=4).sha256


def test_builtin_children_span_the_marshmallow_ages():
    people = load_population("builtin:children", size=700, seed=0).people
    ages = [int(p.traits["age"]) for p in people]
    assert set(ages) == set(CHILD_AGES)
    for age in CHILD_AGES:  # uniform: 100 expected each, SE about 9.3
        assert abs(ages.count(age) - 100) <= 3 * math.sqrt(700 * (1 / 7) * (6 / 7))


def test_csv_toml_and_json_give_the_same_people(tmp_path):
    (tmp_path / "p.csv").write_text("id,age,gender,income\nann,34,female,\"55,000\"\n"
                                    "bob,61,male,120000\n")
    (tmp_path / "p.toml").write_text("[[people]]\nid = 'ann'\nage = 34\ngender = 'female'\n"
                                     "income = 55000\n[[people]]\nid = 'bob'\nage = 61\n"
                                     "gender = 'male'\nincome = 120000\n")
    (tmp_path / "p.json").write_text(json.dumps({"people": [
        {"id": "ann", "age": 34, "gender": "female", "income": 55000},
        {"id": "bob", "age": 61, "gender": "male", "income": 120000.0}]}))
    loaded = [load_population(str(tmp_path / f"p.{s}")).people for s in ("csv", "toml", "json")]
    assert loaded[0] == loaded[1] == loaded[2]
    assert loaded[0][0].traits == {"age": 34.0, "gender": "female", "income": 55000.0}


def test_rows_without_ids_are_numbered(tmp_path):
    (tmp_path / "p.csv").write_text("age\n30\n40\n")
    assert [p.id for p in load_population(str(tmp_path / "p.csv")).people] == ["p1", "p2"]


def _population(tmp_path, text: str) -> list[dict]:
    (tmp_path / "p.csv").write_text(text)
    return load_population(str(tmp_path / "p.csv")).rows()


def test_a_person_without_the_axis_is_crossed_with_the_study_values(tmp_path):
    rows = _population(tmp_path, "id,age,gender\nann,34,female\nbob,61,male\n")
    exp = make("procrastination", population=rows)
    assert list(exp.personas) == [f"{who}/gpa-{g}" for who in ("ann", "bob")
                                  for g in ("2.0", "2.5", "3.0", "3.5", "4.0")]
    persona = exp.persona("bob/gpa-3.5")
    assert persona.values == {"gpa": 3.5}
    assert persona.text == ("You are a college student with a GPA of 3.5. You are a "
                            "61-year-old man.")
    own = make("procrastination", population=_population(tmp_path, "id,gpa\nann,3.25\n"))
    assert list(own.personas) == ["ann"]
    assert own.persona("ann").text == ("You are a college student with a GPA of 3.25. You are "
                                       "a person.")


def test_the_templates_write_every_trait(tmp_path):
    rows = _population(tmp_path, "id,age,gender,country,education,income,occupation,openness\n"
                                 "ann,80,female,Germany,graduate degree,55000,nurse,4.5\n")
    text = make("ultimatum", population=rows).persona("ann").text
    assert text == ("You are Jerry, an 80-year-old woman from Germany (education: graduate "
                    "degree; occupation: nurse; household income: $55,000 a year; personality "
                    "on a 1-5 scale: openness 4.5).")
    stake = make("double_or_nothing", population=rows).persona("ann/stake-100").text
    assert stake.startswith("You are a contestant on a TV game show, and you have just won $100")
    assert stake.endswith("You are an 80-year-old woman from Germany (education: graduate "
                          "degree; occupation: nurse; household income: $55,000 a year; "
                          "personality on a 1-5 scale: openness 4.5).")


def test_a_child_with_only_an_age_reads_as_the_default_persona(tmp_path):
    rows = _population(tmp_path, "id,age\nkid,5\n")
    exp, plain = make("marshmallow", population=rows), make("marshmallow")
    assert exp.persona("kid").text == plain.persona("age-5").text
    assert exp.instructions(exp.persona("kid")) == plain.instructions(plain.persona("age-5"))


def test_traits_are_encoded_scaled_and_one_hot(tmp_path):
    rows = _population(tmp_path, "id,age,gender,income,country\na,20,female,0,Chile\n"
                                 "b,80,male,999999,Chile\n")
    exp = make("ultimatum", population=rows)
    assert exp.feature_names() == ["offer", "trait.age", "trait.gender=female",
                                   "trait.gender=male", "trait.income"]  # one country: no column
    state = exp.states()[0]
    a, b = (exp.encode(state, exp.persona(n)) for n in "ab")
    assert a.tolist() == pytest.approx([0.0, 20 / 120, 1.0, 0.0, 0.0])
    assert b.tolist() == pytest.approx([0.0, 80 / 120, 0.0, 1.0, 6 / 7], abs=1e-6)


@pytest.mark.parametrize("study", STUDIES)
def test_without_a_population_the_encoding_is_unchanged(study):
    exp = make(study)
    assert exp.trait_encoding is None
    assert not any(n.startswith("trait.") for n in exp.feature_names())
    persona = next(iter(exp.personas.values()))
    assert len(exp.encode(exp.states()[0], persona)) == len(exp.feature_names())


@pytest.mark.parametrize("study", STUDIES)
def test_a_study_with_a_population_keeps_the_contract(study):
    spec = "builtin:children" if study == "marshmallow" else "builtin:adults"
    exp = make(study, population=load_population(spec, size=3, seed=0).rows())
    report = check_experiment(exp, full=False)
    assert report.ok, report.problems
    for persona in exp.personas.values():
        x = exp.encode(exp.states()[0], persona)
        assert x.shape == (len(exp.feature_names()),) and np.all((0 <= x) & (x <= 1))


def test_an_option_row_error_names_the_option():
    with pytest.raises(ConfigError, match=r"study option ultimatum.population row 1, column"):
        make("ultimatum", population=[{"id": "a", "age": -1}])
