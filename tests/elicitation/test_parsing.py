import pytest

from subrational.elicitation import parse_answer

OPTIONS = ("Accept", "Reject")
CHILD = ("Eat", "Wait")


@pytest.mark.parametrize(("text", "expected"), [
    ("I think it's unfair.\nAnswer: Reject", 1),
    ("Hmm.\n**Answer:** accept.", 0),
    ("Answer - REJECT!", 1),
    ("Answer: Accept\n...wait.\nAnswer: Reject", 1),  # the model's last word counts
    ("Reject", 1),
    ("It is unfair.\n*Reject*", 1),
    ("Answer: Reject the offer.", 1),
    ("Final answer: Accept", 0),
    ("**Answer: \"Accept\"**", 0),
])
def test_parses_the_final_answer_line(text, expected):
    assert parse_answer(text, OPTIONS).option == expected


@pytest.mark.parametrize(("text", "options", "reason"), [
    ("", OPTIONS, "empty"),
    ("I could accept or reject, hard to say", OPTIONS, "no answer line"),
    ("It is a fair offer, so I accept", OPTIONS, "no answer line"),
    ("I'm not sure what to do.", OPTIONS, "no answer line"),
    ("Answer: maybe", OPTIONS, "names no single option"),
    ("Answer:", OPTIONS, "empty"),
    # the review's reproducers: each was read as an answer before
    ("Answer: Not Eat", CHILD, "negation"),
    ("I thought about it.\nhe would not accept", OPTIONS, "no answer line"),
    ("Answer: he would not accept", OPTIONS, "negation"),
    ("Answer: Accept or Reject? Reject.", OPTIONS, "several options"),
    ("Answer: I don't eat it, I wait", CHILD, "negation"),
    ("Answer: I would wait", CHILD, "does not start with the option"),
    ("Answer: Eat, then wait", CHILD, "several options"),
    ("Answer: won't eat", CHILD, "negation"),
])
def test_failures_are_reported_with_a_reason_never_guessed(text, options, reason):
    result = parse_answer(text, options)
    assert result.option is None, text
    assert reason in result.reason


def test_multi_word_options_match_as_a_whole():
    options = ("Give $0", "Give $5")
    assert parse_answer("Answer: Give $5.", options).option == 1
    assert parse_answer("Answer: Give", options).option is None
