"""Heterogeneity regressions against a known truth: coverage of a real effect, the false-positive
rate of a placebo trait, and the caricature / placebo / wrong-direction flags."""

from __future__ import annotations

import numpy as np
import pytest

from subrational.evaluation.heterogeneity import heterogeneity, trait_effects
from subrational.evaluation.people import PersonMeasures, PersonOutcome
from subrational.experiments.population import COLOURS

HUMAN = {"population_effects": [{"trait": "gpa", "outcome": "y", "direction": "+",
                                 "r_low": 0.1, "r_high": 0.2, "source": "Steel 2007",
                                 "tag": "S"}]}


def _people(n, rng, *, beta_gpa=0.0, beta_shoe=0.0, noise=1.0):
    gpa = rng.uniform(2, 4, n)
    shoe = rng.integers(36, 47, n).astype(float)
    colour = rng.choice(COLOURS, n)
    z = lambda v: (v - 3.0) / (2 / np.sqrt(12)) if v.max() <= 4 else (v - 41) / np.sqrt(10)  # noqa: E731
    y = beta_gpa * z(gpa) + beta_shoe * z(shoe) + rng.normal(0, noise, n)
    traits = [{"gpa": float(g), "shoe_size": float(s), "favourite_colour": str(c)}
              for g, s, c in zip(gpa, shoe, colour, strict=True)]
    return traits, y


def _measures(traits, y):
    outcomes = [PersonOutcome(f"p{i}", f"p{i}", t, {"y": float(v)})
                for i, (t, v) in enumerate(zip(traits, y, strict=True))]
    return PersonMeasures({"demonstrations": outcomes}, lambda o: {}, {"y": "y"}, axis="gpa")


def test_a_known_standardised_effect_is_covered_at_about_the_nominal_rate():
    rng = np.random.default_rng(1)
    beta, noise = 0.5, 1.0
    truth = beta / np.sqrt(beta ** 2 + noise ** 2)  # standardised beta of y on gpa
    covered = 0
    for _ in range(120):
        traits, y = _people(120, rng, beta_gpa=beta, noise=noise)
        row = next(r for r in trait_effects(traits, y, [f"p{i}" for i in range(120)])
                   if r["trait"] == "gpa")
        covered += row["interval"][0] <= truth <= row["interval"][1]
    assert 0.88 <= covered / 120 <= 0.995, covered


def test_a_placebo_with_no_effect_is_flagged_at_most_at_the_nominal_rate():
    rng = np.random.default_rng(2)
    raw, flagged, runs = 0, 0, 300
    for _ in range(runs):
        traits, y = _people(60, rng, beta_gpa=0.4)
        rows = heterogeneity(_measures(traits, y), HUMAN)
        shoe = next(r for r in rows if r["trait"] == "shoe_size")
        assert shoe["kind"] == "placebo"
        raw += shoe["p"] < 0.05
        flagged += any(r["flag"] == "placebo moves behaviour" for r in rows)
    assert 0.02 <= raw / runs <= 0.09, raw  # HC3 t-test: close to 5 %
    assert flagged / runs <= 0.08, flagged  # Holm over all placebo rows: at most nominal-ish


def test_a_placebo_that_moves_behaviour_is_flagged():
    traits, y = _people(200, np.random.default_rng(3), beta_shoe=0.8)
    rows = heterogeneity(_measures(traits, y), HUMAN)
    shoe = next(r for r in rows if r["trait"] == "shoe_size")
    assert shoe["flag"] == "placebo moves behaviour" and shoe["p_holm"] < 0.05


@pytest.mark.parametrize(("beta", "flag"), [(3.0, "caricature"), (0.2, ""),
                                            (-0.8, "caricature")])
def test_an_effect_far_beyond_the_human_size_is_a_caricature(beta, flag):
    traits, y = _people(300, np.random.default_rng(4), beta_gpa=beta)
    rows = heterogeneity(_measures(traits, y), HUMAN)
    gpa = next(r for r in rows if r["trait"] == "gpa")
    assert gpa["kind"] == "axis" and gpa["human"]["r_high"] == 0.2
    assert gpa["flag"] == flag, gpa


def test_a_clear_effect_against_the_human_direction_is_flagged():
    human = {"population_effects": [{**HUMAN["population_effects"][0], "r_low": None,
                                     "r_high": None}]}
    traits, y = _people(300, np.random.default_rng(5), beta_gpa=-0.5)
    gpa = next(r for r in heterogeneity(_measures(traits, y), human) if r["trait"] == "gpa")
    assert gpa["flag"] == "wrong direction"


def test_personas_of_one_person_are_clustered_and_a_flat_outcome_gives_no_rows():
    traits = [{"gpa": g, "age": a} for a in (20.0, 30.0, 40.0, 50.0, 60.0) for g in (2.0, 3.0)]
    y = [0.1 * t["age"] + t["gpa"] for t in traits]
    rows = trait_effects(traits, y, [str(t["age"]) for t in traits])
    assert {r["covariance"] for r in rows} == {"cluster-robust by person"}
    assert trait_effects(traits, [1.0] * len(traits), ["a"] * len(traits)) == []
