"""The factors' prompts, pinned: the persona in the user message, the direct and cot questions."""

from __future__ import annotations

import pytest

from subrational.elicitation import parse_answer, render
from subrational.elicitation.prompts import Layout, persona_removed
from subrational.experiments import make

ULTIMATUM_STORY = ("You are taking part in a one-shot decision. Another person, John, has "
                   "received $10 and proposes how to split it between the two of you. If you "
                   "accept, you get the amount John offers you and John keeps the rest. If you "
                   "reject, neither of you gets anything. You will never meet John again. "
                   "Answer as Jerry would.")
ULTIMATUM_SITUATION = ("John offers you $0.00 and keeps $10.00 for himself. Do you accept or "
                       "reject this offer?")
DIRECT = "Answer with exactly one word: Accept or Reject."
COT = ("Think it through in two or three sentences, as this person would. Then end with a "
       "final line of the form \"Answer: X\", where X is one of: Accept or Reject.")

# (study, system message, user message) with the persona moved, first persona and first state.
USER_PLACEMENT = [
    ("ultimatum", ULTIMATUM_STORY,
     "You are Jerry, a person who cares a lot about fairness.\n" + ULTIMATUM_SITUATION + "\n"
     + DIRECT),
    ("marshmallow",
     "An adult puts one marshmallow and a small bell on the table in front of you and says: "
     "\"I have to leave the room for a while. If you wait until I come back by myself, you will "
     "get two marshmallows. If you don't want to wait any more, ring the bell: I will come back "
     "right away and you can eat this one marshmallow, but then you will not get a second "
     "one.\" Then the adult leaves without saying how long she will be away, and you are alone "
     "with the marshmallow and the bell. Answer in character.",
     "You are Janice, a 2-year-old child.\nEarlier today this same adult gave you a few old "
     "crayons and promised to come back with a big set of new ones, and she came back with "
     "them. Now the adult has just left the room. The marshmallow is still in front of you. Do "
     "you ring the bell now or wait?\nAnswer with exactly one word: Ring or Wait."),
    ("double_or_nothing",
     "The host now offers you a double-or-nothing game with a coin. Each time, you can either "
     "keep and leave the show with the money the host names, or flip the coin and risk it. You "
     "may flip at most 5 times. Before each choice the host tells you exactly what you stand to "
     "gain or lose. Answer as you would.",
     "You are a contestant on a TV game show, and you have just won $10 in the first part of "
     "the show.\nYou started with $10 and have not flipped the coin yet, so you now have $10. "
     "Your chance of winning a flip is 50% (even odds, a fair coin). You have 5 flips left. If "
     "you flip and win, you will have $20; if you flip and lose, you leave with nothing. Do you "
     "keep the $10 or gamble it on a flip?\nAnswer with exactly one word: Keep or Gamble."),
    ("procrastination",
     "You have to write a report for one of your classes. It takes 3 work sessions, at most "
     "one a day, and each session is an effort on the day you do it. The report is due at the "
     "end of day 14: you get the credit for it then, whichever day you finished it, and a "
     "report not finished by then is late and earns nothing. Every day you decide whether to "
     "work on the report that day or to postpone it and do something more pleasant instead. "
     "Answer in character.",
     "You are a college student with a GPA of 2.0.\nThere is only the one final deadline: you "
     "may do the sessions whenever you like before it. It is day 1 of 14. Including today, you "
     "have 14 days left until the report is due. You have done 0 of the 3 work sessions, so 3 "
     "sessions remain. Do you work on the report today or postpone it?\nAnswer with exactly "
     "one word: Work or Postpone."),
]


def _first(name):
    exp = make(name)
    return exp, next(iter(exp.personas.values())), exp.states()[0]


@pytest.mark.parametrize("name, system, user", USER_PLACEMENT, ids=[u[0] for u in USER_PLACEMENT])
def test_the_user_placement_moves_the_persona_text_exactly(name, system, user):
    exp, persona, state = _first(name)
    order = tuple(range(len(exp.actions)))
    moved = render(exp, persona, state, order, method="choice-probs", layout=Layout("user"))
    assert [m.role for m in moved.messages] == ["system", "user"]
    assert moved.messages[0].content == system
    assert moved.messages[1].content == user
    # and the default layout is today's prompt: the persona opens the instructions
    today = render(exp, persona, state, order, method="choice-probs")
    assert today.messages[0].content == persona.text + " " + system
    assert today.messages[1].content == user.split("\n", 1)[1]


@pytest.mark.parametrize("method", ["choice-probs", "sample"])
def test_the_direct_and_cot_questions_are_pinned_under_either_method(method):
    exp, persona, state = _first("ultimatum")
    direct = render(exp, persona, state, (0, 1), method=method, layout=Layout(question="direct"))
    cot = render(exp, persona, state, (0, 1), method=method, layout=Layout(question="cot"))
    assert direct.messages[1].content == ULTIMATUM_SITUATION + "\n" + DIRECT
    assert cot.messages[1].content == ULTIMATUM_SITUATION + "\n" + COT
    assert direct.messages[0] == cot.messages[0] == render(
        exp, persona, state, (0, 1), method=method).messages[0]


@pytest.mark.parametrize("name", ["ultimatum", "marshmallow", "double_or_nothing",
                                  "procrastination"])
def test_the_default_layout_renders_todays_prompts_byte_for_byte(name):
    exp = make(name)
    for persona in list(exp.personas.values())[:2]:
        for state in exp.states()[:3]:
            for method, own in (("choice-probs", "direct"), ("sample", "cot")):
                today = render(exp, persona, state, (1, 0), method=method)
                assert render(exp, persona, state, (1, 0), method=method,
                              layout=Layout()) == today
                assert render(exp, persona, state, (1, 0), method=method,
                              layout=Layout("system", own)).messages == today.messages


def test_a_persona_not_in_its_instructions_cannot_be_moved():
    assert persona_removed("A story about you.", "You are Ann.") is None
    assert persona_removed("Story. You are Ann. More.", "You are Ann.") == "Story. More."
    assert persona_removed("Story.\n\nYou are Ann.", "You are Ann.") == "Story."
    exp, persona, state = _first("ultimatum")
    woven = make("ultimatum")
    woven.instructions = lambda p: "A story in which " + p.text.lower()  # type: ignore[method-assign]
    with pytest.raises(ValueError, match="not in the instructions"):
        render(woven, persona, state, (0, 1), method="choice-probs", layout=Layout("user"))


def test_a_bare_one_word_answer_parses_and_so_do_todays_answers():
    options = ["Accept", "Reject"]
    assert parse_answer("Reject", options).option == 1
    assert parse_answer("Accept.", options).option == 0
    assert parse_answer("**Reject**", options).option == 1
    assert parse_answer("I think so.\nAnswer: Accept", options).option == 0
    assert parse_answer("Maybe accept, maybe not", options).option is None
