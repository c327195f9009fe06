"""Procrastination version 2: the credit at the deadline, spaced deadlines, OULAD, the disguise."""

import hashlib

import numpy as np
import pytest

from subrational.errors import ConfigError
from subrational.evaluation import analyse_study
from subrational.evaluation.behaviour import EvalSettings
from subrational.experiments import make
from subrational.experiments.checks import check_experiment
from subrational.studies.procrastination import (
    POSTPONE,
    WORK,
    BetaDeltaStudent,
    DeadlineState,
    Procrastination,
    ProcrastinationState,
    ProcrastinationV1,
)

S = DeadlineState
CUES = ("procrastinat", "report", "deadline", "class", "essay", "homework", "assignment",
        "teacher", "grade", "marks", "exam", "course")
SPACED_CLAIM = "evenly spaced deadlines bring the work earlier"


def _digest(game, persona="gpa-3.0"):
    p = game.persona(persona)
    texts = list(game.paraphrases(p)) + [game.situation(s, p) for s in game.states()]
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


def test_default_is_version_2_and_version_1_still_loads_with_its_prompts_unchanged():
    assert make("procrastination").id == "procrastination-v2"
    old = make("procrastination-v1")
    assert isinstance(old, ProcrastinationV1) and old.deadline == 7
    assert old.states()[0] == ProcrastinationState(1, 0)
    assert _digest(old) == "47a3eb8a041f66c9dbce96a44b8519ed50ce76c20d8b567a13be2049affa91e3"
    assert old.baselines()["exponential"].delta == 0.99  # v1 baselines unchanged


def test_version_2_prompts_are_pinned():
    game = make("procrastination")
    assert _digest(game) == "2c12e4deee0b2ce3ea7dd01209b7b38d51b06751d50df57ff2f8021e25c2411d"
    assert _digest(make("procrastination", framing="disguised")) == (
        "64e73380db7aa5f85fa5a28893d436909be8312b5c359dd3b83bea5a8ac0083d")
    p = game.persona("gpa-3.0")
    assert game.situation(S(3, 1, True), p) == (
        "Your teacher has set evenly spaced deadlines: the first session by the end of day 5; "
        "the second session by the end of day 9. Each of these deadlines you miss costs a tenth "
        "of the report's marks. It is day 3 of 14. Including today, you have 12 days left until "
        "the report is due. You have done 1 of the 3 work sessions, so 2 sessions remain. Do "
        "you work on the report today or postpone it?")
    assert "you get the credit for it then, whichever day you finished it" in game.instructions(p)


def test_the_spaced_deadline_axis_is_on_by_default():
    game = Procrastination()
    assert game.schedules == ("final", "spaced") and game.deadline == 14
    assert game.interim == (5, 9) and len(game.states()) == 84
    assert [w for w, _ in game.initial_states(game.persona("gpa-3.0"))] == [0.5, 0.5]
    assert check_experiment(game).ok
    p = game.persona("gpa-3.0")
    assert game.step(S(5, 0, True), POSTPONE, p).reward == pytest.approx(-0.1)
    assert game.step(S(5, 0, False), POSTPONE, p).reward == 0.0
    assert game.step(S(5, 0, True), WORK, p).reward == 0.0
    assert game.step(S(9, 1, True), POSTPONE, p).reward == pytest.approx(-0.1)  # 2 due by 9
    assert game.step(S(9, 1, True), WORK, p).reward == 0.0
    assert len(Procrastination(schedules=["final"]).states()) == 42


@pytest.mark.parametrize("kwargs", [{"framing": "hidden"}, {"schedules": ["weekly"]},
                                    {"schedules": []}, {"interim_penalty": 2}])
def test_bad_options_are_one_line_config_errors(kwargs):
    with pytest.raises(ConfigError) as err:
        make("procrastination", **kwargs)
    assert "\n" not in str(err.value) and "procrastination" in str(err.value)


def test_the_credit_comes_at_the_deadline_and_delta_is_one():
    game = Procrastination()
    p = game.persona("gpa-2.0")
    last = game.step(S(6, 2, False), WORK, p)
    assert last.reward == 1.0 and game.payoff_timing(S(6, 2, False), WORK, last) == (0, 1, 8)
    exponential, naive = (game.baselines()[k] for k in ("exponential", "naive-beta-delta"))
    assert exponential.delta == naive.delta == 1.0
    # with delta = 1 and the credit at the deadline, working early or late is the same to an
    # exponential student: exactly indifferent on any unforced day, under the final deadline
    assert exponential.action_probs(S(1, 0, False), p)[WORK] == pytest.approx(0.5)
    assert exponential.action_probs(S(13, 2, False), p)[WORK] == pytest.approx(0.5)
    # the present-biased student finishes on the last day: beta * credit later vs effort now
    work, postpone = naive.q_values(S(13, 2, False))
    assert work - postpone == pytest.approx(-1.0 + 0.7)
    v1 = BetaDeltaStudent(ProcrastinationV1(), beta=0.7)  # v1: paid on finishing, works at once
    assert v1.action_probs(ProcrastinationState(6, 2), p)[WORK] > 0.99


def test_disguised_framing_has_no_textbook_cue_and_the_same_game():
    plain, hidden = Procrastination(), Procrastination(framing="disguised")
    assert hidden.framing_version == 1
    assert hidden.states() == plain.states() and hidden.actions == plain.actions
    for persona in hidden.personas.values():
        texts = list(hidden.paraphrases(persona)) + [hidden.situation(s, persona)
                                                     for s in hidden.states()]
        assert all(t.startswith(persona.text) for t in texts[:4])
        for text in texts:
            body = text.removeprefix(persona.text).lower()
            assert not [c for c in CUES if c in body], text
    p = plain.persona("gpa-3.0")
    assert all(plain.step(s, a, p) == hidden.step(s, a, p)
               for s in plain.states() for a in (WORK, POSTPONE))


class ScheduleBlind:
    """Works with probability 0.3 on any unforced day, whatever the schedule."""

    def __init__(self, game):
        self.game = game

    def action_probs(self, state, persona):
        forced = self.game.deadline - state.day + 1 <= self.game.sessions - state.done
        return np.array([1.0, 0.0]) if forced else np.array([0.3, 0.7])


class LastMinute:
    """Works only when it must: every report is finished on the last day."""

    def __init__(self, game):
        self.game = game

    def action_probs(self, state, persona):
        forced = self.game.deadline - state.day + 1 <= self.game.sessions - state.done
        return np.array([1.0, 0.0]) if forced else np.array([0.0, 1.0])


def _analyse(game, policy):
    pols = dict(game.baselines())
    pols["policy"] = policy
    return analyse_study(game, pols, list(game.personas.values()), settings=EvalSettings())


def test_a_present_biased_student_works_earlier_under_spaced_deadlines():
    game = Procrastination(gpas=(2.0, 3.0, 4.0))
    found = {f.source: f for f in _analyse(game, game.baselines()["naive-beta-delta"]).findings
             if f.claim == SPACED_CLAIM}
    assert found["policy"].reproduced and found["policy"].statistic > 2.0
    assert found["naive-beta-delta"].reproduced
    assert found["policy"].origin == "human band" and found["policy"].direction == "state"


def test_a_schedule_blind_student_does_not_show_the_spaced_deadline_finding():
    game = Procrastination(gpas=(2.0, 3.0, 4.0))
    analysis = _analyse(game, ScheduleBlind(game))
    found = next(f for f in analysis.findings if f.claim == SPACED_CLAIM and
                 f.source == "policy")
    assert found.statistic == pytest.approx(0.0, abs=1e-9) and not found.reproduced


def test_completion_days_are_compared_with_oulad_for_the_final_deadline():
    game = Procrastination(gpas=(2.0, 3.0, 4.0))
    analysis = _analyse(game, LastMinute(game))
    days = analysis.metrics["completion_days"]["policy"]
    assert days["last_two_days_share"] == pytest.approx(1.0)
    assert days["late_share"] == 0.0 and days["median_days_before_deadline"] == 0.0
    assert days["human"] == {"last_two_days_share": 0.52, "late_share": 0.13,
                             "median_days_before_deadline": 1}
    assert "approximate" in days["note"] and days["window_days"] == 14
    band = next(f for f in analysis.findings if f.source == "policy" and "OULAD submissions"
                in f.claim)
    assert band.reproduced is False and band.origin == "design choice"


def test_version_1_analysis_has_no_version_2_metrics():
    game = ProcrastinationV1(gpas=(2.0, 3.0, 4.0))
    analysis = _analyse(game, game.baselines()["naive-beta-delta"])
    assert "completion_days" not in analysis.metrics
    assert not [f for f in analysis.findings if f.claim == SPACED_CLAIM]
