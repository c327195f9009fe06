"""A population run writes population results: a scripted responder whose minimum acceptable
offer rises with the age in its prompt is recovered as an age effect, the other traits are
not flagged, held-out people are scored, and the report shows the section."""

from __future__ import annotations

import json

import pytest
from test_values_battery import BASE

from subrational.cli import main

PLUGIN = '''
import re
from scipy.special import expit
from subrational.backends.scripted import register_script


def by_age(persona, state):
    """Accepts offers above 0.05 + 0.35 (age - 18) / 66, the age read from the prompt."""
    age = float(re.search(r"(\\d+)-year-old", persona.text).group(1))
    p = float(expit(40 * (state.offer - (0.05 + 0.35 * (age - 18) / 66))))
    return [p, 1 - p]


register_script("by-age", by_age)
'''


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("population-results")
    (tmp / "plugin.py").write_text(PLUGIN)
    out = tmp / "out"
    code = main(["run", "ultimatum", "--model", "scripted:by-age", *BASE[2:], "--import",
                 str(tmp / "plugin.py"), "--population", "builtin:adults",
                 "--population-size", "12", "--out", str(out)])
    assert code == 0
    return out, json.loads((out / "summary.json").read_text())["experiments"]["ultimatum-v2"]


def test_population_statistics_sit_next_to_the_human_numbers_with_intervals(run):
    _, block = run
    pop = block["population"]
    assert pop["people"] == 12 and pop["personas"] == 12
    rows = {r["statistic"]: r for r in pop["sources"]["demonstrations"]["statistics"]}
    assert rows["never_reject_share"]["human"] == pytest.approx(0.218)
    assert rows["mao_median"]["human"] == pytest.approx(0.20)
    for r in rows.values():
        lo, hi = r["interval"]
        assert lo <= r["value"] <= hi
    # nobody of 18+ accepts below 5 %, everyone accepts above 40 %: no one never rejects
    assert rows["never_reject_share"]["value"] < 0.2
    assert 0.05 <= rows["mao_median"]["value"] <= 0.45
    mass = sum(pop["sources"]["demonstrations"]["distribution"]["p"])
    assert mass == pytest.approx(1.0, abs=1e-4)


def test_the_age_rule_is_recovered_and_other_traits_are_not_flagged(run):
    _, block = run
    rows = [r for r in block["population"]["heterogeneity"]
            if r["source"] == "demonstrations" and r["outcome"] == "mao"]
    age = next(r for r in rows if r["trait"] == "age")
    assert age["kind"] == "trait" and age["effect"] > 0.8 and age["interval"][0] > 0
    assert age["p_holm"] < 0.05
    others = [r for r in rows if r["trait"] != "age"]
    assert others and all(r["p_holm"] > 0.05 and not r["flag"] for r in others), others


def test_homogenisation_compares_people_with_their_own_noise(run):
    _, block = run
    (h,) = block["population"]["sources"]["demonstrations"]["homogenisation"]
    assert h["outcome"] == "acceptance"
    assert h["between_sd"]["value"] > 0 and h["within_sd"]["value"] > 0
    assert h["ratio"]["interval"] is not None and h["sentence"]


def test_held_out_people_are_scored_against_the_baselines(run):
    _, block = run
    held = block["population"]["held_out"]
    assert held == block["training"]["generalisation"]
    assert held["kind"] == "people" and len(held["held_out"]) == 2  # 20 % of 12, at least 2
    assert held["held_out_tv"] is not None and held["nearest_tv"] is not None
    assert held["trait_range"]["trait"] == "age"


def test_the_report_shows_the_population_section_with_its_figure(run):
    out, _ = run
    html = (out / "report.html").read_text()
    assert "Population results" in html and "Held-out people" in html
    assert (out / "figures" / "ultimatum-population.png").exists()
    assert "No population" not in html


def test_without_a_population_there_is_no_block_and_the_report_says_how(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "ultimatum", *BASE, "--persona", "typical", "--out", str(out)]) == 0
    block = json.loads((out / "summary.json").read_text())["experiments"]["ultimatum-v2"]
    assert "population" not in block
    assert "No population: run with" in (out / "report.html").read_text()
