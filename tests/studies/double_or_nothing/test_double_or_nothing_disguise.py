"""The disguised framing of double-or-nothing: same game, no textbook cue, pinned words."""

import hashlib
import re

import pytest

from subrational.errors import ConfigError
from subrational.experiments import make
from subrational.experiments.core import Persona
from subrational.studies.double_or_nothing.game import DoubleOrNothing, FramedState
from support import prompt_messages

CUES = re.compile(r"double[- ]or[- ]nothing|\bcoins?\b|gambl|\bbet|\bbets\b|wager|game show",
                  re.IGNORECASE)
# framing version 1 of double_or_nothing-v2 (update together with a framing_version bump)
GOLDEN = {("double_or_nothing-v2", 1):
          "72f4f72a9a4c54172366e839274df4881ad5537bf0b8c2de4d09c499d6042176"}


def test_disguised_prompts_are_pinned_to_the_framing_version():
    exp = make("double_or_nothing", framing="disguised")
    h = hashlib.sha256()
    for m in prompt_messages(exp):
        h.update(f"{m.role}\x00{m.content}\x01".encode())
    assert exp.framing_version == 1
    assert h.hexdigest() == GOLDEN[(exp.id, exp.framing_version)], (
        "disguised prompt text changed: bump framing_version, then update GOLDEN")


def test_disguised_prompts_have_no_textbook_cue():
    exp = DoubleOrNothing(framing="disguised")
    hits = {CUES.search(m.content).group(0) for m in prompt_messages(exp) if CUES.search(m.content)}
    assert not hits
    assert exp.actions == ("Keep", "Cross")
    standard = {m.content for m in prompt_messages(DoubleOrNothing())}  # the cue check can fail
    assert any(CUES.search(t) for t in standard)


def test_disguised_game_has_the_same_states_and_payoffs():
    std, dis = DoubleOrNothing(), DoubleOrNothing(framing="disguised")
    assert std.states() == dis.states() and list(std.personas) == list(dis.personas)
    for name in std.personas:
        a, b = std.persona(name), dis.persona(name)
        assert a.values == b.values and a.text != b.text
        for state in std.states():
            for action in (0, 1):
                assert std.transitions(state, action, a) == dis.transitions(state, action, b)
    assert std.feature_names() == dis.feature_names()


def test_disguised_story_uses_unusual_amounts_and_keeps_the_persona_sentence():
    exp = DoubleOrNothing(framing="disguised")
    courier = exp.persona("stake-10")
    assert "37 silver marks" in courier.text
    text = exp.situation(FramedState(2, 0.7, "gain"), exp.persona("stake-1000"))
    assert "14,800 silver marks" in text and "70 in 100" in text and "3 more times" in text
    loss = exp.situation(FramedState(0, 0.5, "loss"), exp.persona("stake-1000"))
    assert "credits you 7,400 silver marks" in loss and "lose 3,700 silver marks for sure" in loss
    control = Persona("control", "You are a person.", values=dict(courier.values))
    for text in exp.paraphrases(control):  # a control helper swaps the persona's text
        assert text.startswith("You are a person. ")


def test_population_people_get_the_disguised_sentence():
    exp = make("double_or_nothing", framing="disguised",
               population=[{"id": "ann", "age": 34.0, "stake": 100.0}])
    (person,) = exp.personas.values()
    assert person.text.startswith("You are a courier") and "370 silver marks" in person.text


@pytest.mark.parametrize("bad", ["Disguised", "novel", 1, None])
def test_a_bad_framing_is_a_one_line_error(bad):
    with pytest.raises(ConfigError) as exc:
        make("double_or_nothing", framing=bad)
    message = str(exc.value)
    assert "double_or_nothing.framing" in message and "'disguised'" in message
    assert "\n" not in message


def test_the_disguised_game_passes_the_conformance_checks():
    from subrational.experiments.checks import check_experiment

    assert check_experiment(DoubleOrNothing(framing="disguised")).problems == []
