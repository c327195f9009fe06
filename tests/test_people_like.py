"""The people-like test model reads every built-in prompt's situation right, in both framings,
and behaves by its rule: the disguise and the placebo traits change nothing."""

from __future__ import annotations

import pytest

from people_like import people_like, situation_of
from subrational.controls.personas import ECONOMIST
from subrational.elicitation.prompts import render
from subrational.experiments.population import load_population
from subrational.experiments.registry import make

STUDIES = ("ultimatum", "marshmallow", "double_or_nothing", "procrastination")


def _game(study, framing):
    people = load_population("builtin:children" if study == "marshmallow" else "builtin:adults",
                             size=3, seed=1)
    return make(study, population=people.rows(), framing=framing)


def _messages(game, persona, state, order=(0, 1)):
    prompt = render(game, persona, state, order, method="choice-probs")
    return [{"role": m.role, "content": m.content} for m in prompt.messages]


def _truth(study, state):
    if study == "ultimatum":
        return {"share": pytest.approx(state.offer, abs=1e-3)}
    if study == "marshmallow":
        return {"unreliable": not state.reliable}
    if study == "double_or_nothing":
        return {"p": pytest.approx(state.win_prob), "round": state.round,
                "loss": state.frame == "loss"}
    return {"days": 14 - state.day + 1, "remain": 3 - state.done, "spaced": state.spaced}


@pytest.mark.parametrize("framing", ["standard", "disguised"])
@pytest.mark.parametrize("study", STUDIES)
def test_every_state_is_read_from_the_words(study, framing):
    game = _game(study, framing)
    for persona in game.personas.values():
        for state in game.states():
            msgs = _messages(game, persona, state)
            found, said = situation_of(msgs[0]["content"], msgs[1]["content"])
            assert found == study, msgs
            truth = _truth(study, state)
            assert {k: said[k] for k in truth} == truth, (state, said)


@pytest.mark.parametrize("study", STUDIES)
def test_the_disguise_and_the_option_order_change_nothing(study):
    standard, disguised = _game(study, "standard"), _game(study, "disguised")
    for name, persona in standard.personas.items():
        for state in standard.states():
            a = people_like(_messages(standard, persona, state))
            b = people_like(_messages(disguised, disguised.personas[name], state, (1, 0)))
            assert sorted(a.values()) == pytest.approx(sorted(b.values())), (name, state)


def test_age_and_reliability_move_the_child_and_placebo_traits_do_not():
    game = _game("marshmallow", "standard")
    persona = next(iter(game.personas.values()))
    state = game.states()[0]
    base = _messages(game, persona, state)
    ring = people_like(base)["Ring"]
    older = [dict(m) for m in base]
    older[0]["content"] = older[0]["content"].replace(f"{persona.values['age']}-year-old",
                                                      f"{persona.values['age'] + 2}-year-old")
    assert people_like(older)["Ring"] < ring
    placebo = [dict(m) for m in base]
    placebo[0]["content"] = placebo[0]["content"].replace(
        "-year-old girl", "-year-old girl (shoe size: EU 30)").replace(
        "-year-old boy", "-year-old boy (shoe size: EU 30)")
    assert people_like(placebo)["Ring"] == pytest.approx(ring)


def test_the_economist_accepts_any_positive_offer_and_the_recall_probe_is_answered():
    game = _game("ultimatum", "standard")
    persona = next(iter(game.personas.values()))
    low = [s for s in game.states() if 0 < s.offer <= 0.1][0]
    msgs = _messages(game, persona, low)
    msgs[0]["content"] = msgs[0]["content"].replace(persona.text, ECONOMIST)
    assert people_like(msgs)["Accept"] > 0.9
    probe = [{"role": "user", "content": "What percentage of responders reject an offer of "
              "20 % of the pie? End with a line 'Answer: N%'."}]
    assert people_like(probe) == {"42%": 1.0}
