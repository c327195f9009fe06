import pytest

from subrational.elicitation import parse_answer

OPTIONS = ("Accept", "Reject")


@pytest.mark.parametrize(("text", "expected"), [
    ("I think it's unfair.\nAnswer: Reject", 1),
    ("Hmm.\n**Answer:** accept.", 0),
    ("Answer - REJECT!", 1),
    ("Answer: Accept\n...wait.\nAnswer: Reject", 1),
    ("It is a fair offer, so I accept", 0),
    ("Reject", 1),
])
def test_parses_answer_lines_and_single_mentions(text, expected):
    assert parse_answer(text, OPTIONS).option == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("I could accept or reject, hard to say", "ambiguous"),
    ("I'm not sure what to do.", "no option"),
    ("Answer: maybe", "names no single option"),
])
def test_failures_are_reported_with_a_reason(text, reason):
    result = parse_answer(text, OPTIONS)
    assert result.option is None
    assert reason in result.reason
