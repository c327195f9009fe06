"""Recall probes: strict parsing, invalid answers never cached, pinned wordings, the verdict."""

from __future__ import annotations

import numpy as np
import pytest

from subrational.backends.scripted import ScriptedBackend
from subrational.cache import Cache, CachedBackend
from subrational.controls.headline import Cells
from subrational.controls.personas import ECONOMIST, NO_PERSONA, PLACEBOS
from subrational.controls.recall import (
    DRAWS,
    PROBES,
    ask_probes,
    parse_percent,
    probe_block,
    probe_prompt,
)
from subrational.experiments import make


@pytest.mark.parametrize("text, share", [
    ("I remember roughly half.\nAnswer: 50%", 0.5),
    ("Answer: 41.5", 0.415),
    ("**Answer:** 84 %", 0.84),
    ("answer: 0%\n\n", 0.0),
])
def test_a_final_answer_line_with_one_percentage_parses(text, share):
    assert parse_percent(text) == (pytest.approx(share), "")


@pytest.mark.parametrize("text", [
    "About 40%.", "Answer: 30-40%", "Answer: 140%", "Answer: forty", "Answer: 40% or 50%",
    "Answer: 40%\nActually I am not sure.", "", None,
])
def test_anything_else_is_invalid_and_never_guessed(text):
    value, why = parse_percent(text)
    assert value is None and why


def test_invalid_answers_are_not_cached_and_are_asked_again():
    answers = iter(["Answer: 40%", "no idea", "Answer: 60%", "Answer: 30-40%", "Answer: 50%"]
                   + ["Answer: 45%"] * 20)
    backend = ScriptedBackend("r", probs_fn=lambda p, s: [0.5, 0.5], cacheable=True,
                              recall_fn=lambda probe, rng: next(answers))
    cache = Cache()
    probe = [p for p in PROBES if p.id == "ultimatum-reject-20"]
    got = ask_probes(probe, CachedBackend(backend, cache), seed=0, max_tokens=64)
    assert got["ultimatum-reject-20"] == [0.4, None, 0.6, None, 0.5]
    assert len(cache) == 3 and backend.calls == DRAWS
    again = ask_probes(probe, CachedBackend(backend, cache), seed=0, max_tokens=64)
    assert backend.calls == DRAWS + 2  # only the two invalid draws are asked again
    assert again["ultimatum-reject-20"] == [0.4, 0.45, 0.6, 0.45, 0.5]
    assert len(cache) == 5


def test_every_built_in_study_has_a_probe_with_a_cited_human_value():
    studies = {p.study for p in PROBES}
    assert studies == {"ultimatum", "marshmallow", "double_or_nothing", "procrastination"}
    assert all(0 < p.human < 1 and "[" in p.source for p in PROBES)


def test_wordings_are_pinned():
    messages = probe_prompt(PROBES[0]).messages
    assert messages[1].content == (
        "In ultimatum game experiments, what percentage of responders reject an offer of 20 % "
        "of the pie? Give your best estimate as a single percentage from 0 to 100. End with a "
        "final line of the form \"Answer: N%\".")
    assert NO_PERSONA == "Please read the following situation and decide."
    assert ECONOMIST.startswith("You are a rational economist")
    assert [(p.trait, p.levels) for p in PLACEBOS] == [("shoe_size", ("36", "45")),
                                                      ("favourite_colour", ("blue", "orange"))]


def _cells(exp, p_reject):
    """Every persona answers P(reject) = p_reject(offer) in two identical rows."""
    obs = {(p, f'{{"offer":{s.offer}}}'): np.array([[1 - p_reject(s.offer), p_reject(s.offer)]]
                                                     * 2)
           for p in exp.default_personas for s in exp.states()}
    return Cells(exp, list(exp.default_personas), {}, obs)


def test_a_simulation_that_follows_its_recollection_is_said_to():
    exp = make("ultimatum", step=0.1)
    probe = PROBES[0]  # human 0.415 at 20 %
    cells = _cells(exp, lambda offer: 0.9 if offer <= 0.2 else 0.0)
    row = probe_block(probe, [0.9, 0.85, 0.95, 0.9, 0.9], cells, n_boot=200, seed=0)
    assert row["simulated"]["value"] == pytest.approx(0.9)
    assert row["verdict"] == "closer to what it recalls"
    assert row["closer_to_recall_than_humans"]["interval"][0] > 0
    human_like = probe_block(probe, [0.9, 0.85, 0.95, 0.9, 0.9],
                             _cells(exp, lambda offer: 0.42 if offer <= 0.2 else 0.0),
                             n_boot=200, seed=0)
    assert human_like["verdict"] == "closer to humans"
    recalls_humans = probe_block(probe, [0.4, 0.42, 0.41, None, 0.43], cells, n_boot=200,
                                 seed=0)
    assert recalls_humans["verdict"].startswith("recalls the human value")
    assert recalls_humans["invalid"] == 1 and recalls_humans["recall"]["n"] == 4
    rounded = probe_block(probe, [0.42] * 5, cells, n_boot=200, seed=0)  # 41.5 % as "42 %"
    assert rounded["recall"]["interval"] == [0.42, 0.42]
    assert rounded["verdict"].startswith("recalls the human value")
    off = probe_block(probe, [0.44] * 5, cells, n_boot=200, seed=0)  # 2.5 points away: a recall
    assert off["verdict"] == "closer to what it recalls"


def test_population_placebo_rows_are_read_defensively():
    from subrational.controls.assess import _heterogeneity

    rows = [{"trait": "shoe_size", "kind": "placebo", "effect": 0.01, "interval": [-0.02, 0.04]},
            {"trait": "age", "kind": "trait", "effect": 0.2}]
    assert _heterogeneity({"population": {"heterogeneity": rows}}) == rows
    assert _heterogeneity({"population": {"heterogeneity": {"rows": rows}}}) == rows
    for absent in ({}, {"population": None}, {"population": {"heterogeneity": "n/a"}}):
        assert _heterogeneity(absent) == []


def test_the_control_prompts_are_pinned():
    from subrational.controls.personas import control_personas, placebo_personas
    from subrational.elicitation.prompts import render

    exp = make("ultimatum")
    personas = [exp.persona(n) for n in exp.default_personas]
    (blank,) = control_personas(exp, personas, "no-persona")
    assert blank.name == "no-persona"
    system = render(exp, blank, exp.states()[0], (0, 1), method="choice-probs").messages[0]
    assert system.content.startswith("Please read the following situation and decide. You are "
                                     "taking part in a one-shot decision.")
    placebos = placebo_personas(exp, personas)
    assert sorted(p.name for p in placebos.values())[:2] == ["fair/favourite_colour=blue",
                                                             "fair/favourite_colour=orange"]
    assert placebos[("shoe_size", "45", "selfish")].text == (
        "You are Jerry, a person who cares only about how much money you get. Your shoe size "
        "is 45.")
    ages = make("marshmallow")
    kids = [ages.persona(n) for n in ages.default_personas]
    assert len(control_personas(ages, kids, "economist")) == 1  # the ages were only in the text
    stakes = make("double_or_nothing")
    players = [stakes.persona(n) for n in stakes.default_personas]
    assert len(control_personas(stakes, players, "economist")) == len(players)  # stake stays
