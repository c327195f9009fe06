"""The disguised ultimatum game: a harbour pilot's salvage fee, same game, no textbook cue."""

import hashlib
import re

import pytest

from subrational.errors import ConfigError
from subrational.experiments import make
from subrational.experiments.core import Persona
from subrational.studies.ultimatum.game import Ultimatum, UltimatumState
from support import prompt_messages

CUES = re.compile(r"ultimatum|offer|split|propos|respond|john|\$|dollar", re.IGNORECASE)
# framing version 1 of ultimatum-v2 (update together with a framing_version bump)
GOLDEN = {("ultimatum-v2", 1):
          "b66f382045c8dbc133333de89db9911099d92ff32c9cc3514bf0517cfe875f13"}


def _digest(exp):
    h = hashlib.sha256()
    for m in prompt_messages(exp):
        h.update(f"{m.role}\x00{m.content}\x01".encode())
    return h.hexdigest()


def test_disguised_prompts_are_pinned_to_the_framing_version():
    exp = make("ultimatum", framing="disguised")
    assert exp.framing_version == 1 and exp.version == 2
    assert _digest(exp) == GOLDEN[(exp.id, exp.framing_version)], (
        "disguised prompt text changed: bump framing_version, then update GOLDEN")


def test_the_standard_framing_leaves_the_prompts_as_they_were():
    assert _digest(Ultimatum(framing="standard")) == _digest(Ultimatum())
    assert Ultimatum().pie == 10.0 and Ultimatum(framing="disguised").pie == 37.0


def test_disguised_prompts_have_no_textbook_cue():
    hits = {CUES.search(m.content).group(0) for m in prompt_messages(Ultimatum(framing="disguised"))
            if CUES.search(m.content)}
    assert not hits
    assert any(CUES.search(m.content) for m in prompt_messages(Ultimatum()))  # the check can fail


def test_disguised_game_has_the_same_states_answers_and_payoffs():
    std, dis = Ultimatum(), Ultimatum(framing="disguised")
    assert std.states() == dis.states() and std.actions == dis.actions == ("Accept", "Reject")
    fair = dis.persona("fair")
    assert dis.step(UltimatumState(0.35), 0, fair).reward == pytest.approx(0.35 * 37)
    assert dis.step(UltimatumState(0.35), 1, fair).reward == 0.0
    text = dis.situation(UltimatumState(0.35), fair)
    assert text == ("The stranger says that 12.95 crowns of the fee will be yours and 24.05 "
                    "crowns the stranger's. Do you accept or reject?")
    assert "37 crowns" in dis.instructions(fair) and len(set(dis.paraphrases(fair))) == 4
    assert Ultimatum(framing="disguised", pie=53).situation(UltimatumState(0.5), fair) \
        .startswith("The stranger says that 26.50 crowns")


def test_the_persona_sentence_comes_first_in_every_disguised_wording():
    exp = Ultimatum(framing="disguised")
    control = Persona("control", "You are a person.")
    assert all(t.startswith("You are a person. ") for t in exp.paraphrases(control))
    people = make("ultimatum", framing="disguised",
                  population=[{"id": "ann", "age": 34.0, "gender": "female"}])
    assert people.instructions(people.persona("ann")).startswith("You are Jerry, a 34-year-old")


@pytest.mark.parametrize("bad", ["Disguised", "harbour", 2])
def test_a_bad_framing_is_a_one_line_error(bad):
    with pytest.raises(ConfigError) as exc:
        make("ultimatum", framing=bad)
    message = str(exc.value)
    assert "ultimatum.framing" in message and "'standard', 'disguised'" in message
    assert "\n" not in message


def test_version_1_has_no_framing_option():
    with pytest.raises(ConfigError, match="framing"):
        make("ultimatum-v1", framing="disguised")


def test_the_disguised_game_passes_the_conformance_checks():
    from subrational.experiments.checks import check_experiment

    assert check_experiment(Ultimatum(framing="disguised")).problems == []
