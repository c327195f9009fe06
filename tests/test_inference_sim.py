"""The known-truth simulation harness itself: its responders answer what they are built to."""

from collections import defaultdict

import numpy as np
import pytest

from inference_sim import (
    FULL_WAIT_TARGET,
    NULL_FOR,
    STUDIES,
    demonstrations,
    human_identical,
    middle_persona,
    pass_rates,
    persona_blind,
    state_blind,
)
from subrational.evaluation import Analysis, Finding
from subrational.experiments import study
from subrational.studies.procrastination.game import POSTPONE, WORK


def _table(demo, persona):
    return np.array([demo.policy.action_probs(s, persona) for s in demo.experiment.states()])


@pytest.mark.parametrize(("study_id", "pair"), [("marshmallow", ("age-2", "age-8")),
                                                ("double_or_nothing", ("stake-10", "stake-10000")),
                                                ("procrastination", ("gpa-2.0", "gpa-4.0"))])
def test_persona_blind_gives_identical_rows_for_two_personas(study_id, pair):
    blind = demonstrations(study_id, persona_blind(study_id), method="choice-probs",
                           personas=pair)
    human = demonstrations(study_id, human_identical(study_id), method="choice-probs")
    a, b = (blind.experiment.persona(n) for n in pair)
    np.testing.assert_array_equal(_table(blind, a), _table(blind, b))
    assert not np.allclose(_table(human, a), _table(human, b))  # the human ones differ
    np.testing.assert_allclose(_table(blind, a), _table(human, middle_persona(human.experiment)))


@pytest.mark.parametrize("study_id", STUDIES)
def test_state_blind_is_the_human_average_over_the_grid_for_each_persona(study_id):
    blind = demonstrations(study_id, state_blind(study_id), method="choice-probs")
    human = demonstrations(study_id, human_identical(study_id), method="choice-probs")
    means = []
    for persona in blind.personas:
        rows = _table(blind, persona)
        np.testing.assert_allclose(rows, np.broadcast_to(rows[0], rows.shape), atol=1e-12)
        np.testing.assert_allclose(rows[0], _table(human, persona).mean(axis=0), atol=1e-12)
        means.append(rows[0])
    if study_id != "ultimatum":  # the human rejection curve is the same for every persona
        assert np.ptp(np.array(means)[:, 0]) > 0.05


@pytest.mark.parametrize("study_id", ["ultimatum", "marshmallow"])
def test_the_seed_sets_the_sample_draws(study_id):
    responder = human_identical(study_id)
    draws = [demonstrations(study_id, responder, method="sample", samples=10, seed=s)
             for s in (0, 0, 1)]
    persona = draws[0].personas[0]
    first, again, other = (np.nan_to_num(_table(d, persona), nan=-1.0) for d in draws)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    if study_id == "marshmallow":  # the LLM's own episodes move with the seed too
        lengths = [[len(t.actions) for t in d.policy.episodes(persona)] for d in draws]
        assert lengths[0] == lengths[1] != lengths[2]


def _exact(study_id):
    return demonstrations(study_id, human_identical(study_id), method="choice-probs")


def test_human_identical_responder_rejects_as_heffner_and_feldmanhall():
    demo = _exact("ultimatum")
    rc = study("ultimatum").human["rejection_curve"]
    for persona in demo.personas:
        got = [demo.policy.action_probs(demo.experiment.state_from_dict({"offer": s}),
                                        persona)[1] for s in rc["offer"]]
        np.testing.assert_allclose(got, rc["p_reject"], atol=1e-12)


def test_human_identical_child_waits_as_the_human_band_says():
    demo = _exact("marshmallow")
    bands = study("marshmallow").human["bands"]
    full = {int(p.values["age"]): float(np.prod(_table(demo, p)[:, 1])) for p in demo.personas}
    assert full == pytest.approx(FULL_WAIT_TARGET, abs=1e-12)
    assert full[5] == pytest.approx(np.mean(bands["full_wait"]))  # 0.45, the band's centre
    for age in bands["band_ages"]:
        assert bands["full_wait"][0] <= full[age] <= bands["full_wait"][1]
    two = demo.experiment.persona("age-2")
    assert _table(demo, two)[0, 0] == pytest.approx(0.7)  # eats at once
    assert _table(demo, two)[0, 0] > bands["eat_at_once_min"]


def test_human_identical_contestant_gambles_inside_the_human_band():
    demo = _exact("double_or_nothing")
    lo, hi = study("double_or_nothing").human["bands"]["fair_odds_p_gamble"]
    by_stake = [_table(demo, p)[0, 1] for p in sorted(demo.personas,
                                                      key=lambda p: p.values["stake"])]
    np.testing.assert_allclose(by_stake, [0.6225, 0.5, 0.3775, 0.2689], atol=1e-4)
    assert lo <= np.mean(by_stake) <= hi


def _exact_last_days_share(game, policy, personas, last_days):
    """E[sessions in the last days] / E[sessions], pooled over personas, by forward propagation."""
    late = done = 0.0
    for persona in personas:
        mass = {game.initial_state(persona, rng=np.random.default_rng(0)): 1.0}
        while mass:
            after = defaultdict(float)
            for state, m in mass.items():
                p = policy.action_probs(state, persona)
                done += m * p[WORK]
                late += m * p[WORK] * (state.day > game.deadline - last_days)
                for action in (WORK, POSTPONE):
                    step = game.step(state, action, persona)
                    if not step.terminated:
                        after[step.next_state] += m * p[action]
            mass = after
    return late / done


def test_human_identical_student_leaves_work_to_the_end_like_oulad():
    demo = _exact("procrastination")
    human = study("procrastination").human
    share = _exact_last_days_share(demo.experiment, demo.policy, demo.personas,
                                   human["bands"]["last_days"])
    assert share == pytest.approx(human["submission_timing"]["last_two_days_share"], abs=0.05)


def test_pass_rates_count_the_demonstrations_findings_and_verdicts():
    def fake(study_id, experiment, policy, personas, *, seed):
        return Analysis(findings=[
            Finding("paper", "demonstrations", None, "", seed % 2 == 0, origin="paper claim"),
            Finding("band", "demonstrations", None, "", None if seed < 3 else True,
                    origin="human band"),
            Finding("paper", "policy", None, "", True, origin="paper claim"),
            *([Finding("late", "demonstrations", None, "", True, origin="design choice")]
              if seed == 3 else [])])

    got = pass_rates("ultimatum", human_identical("ultimatum"), method="choice-probs",
                     seeds=4, analyse=fake)
    assert got["seeds"] == 4 and set(got["findings"]) == {"paper", "band", "late"}
    assert got["findings"]["paper"]["reproduced"] == 0.5
    band = got["findings"]["band"]
    assert (band["origin"], band["null_for"], band["reproduced"], band["not_assessed"]) == \
        ("human band", None, 0.25, 0.75)
    assert got["findings"]["late"]["not_assessed"] == 0.75  # absent in three seeds
    lo, hi = got["findings"]["paper"]["reproduced_interval"]
    assert lo < 0.5 < hi
    # seeds 0, 2: every paper claim holds on both sources -> human-like; 1, 3: not human-like
    assert got["verdicts"] == {"human-like": 0.5, "not human-like": 0.5}


@pytest.mark.parametrize("study_id", STUDIES)
def test_the_null_markers_name_findings_the_study_makes(study_id):
    options = {"win_probs": (0.5, 0.8)} if study_id == "double_or_nothing" else None
    got = pass_rates(study_id, human_identical(study_id), method="sample", seeds=1,
                     options=options)
    assert set(NULL_FOR[study_id]) <= set(got["findings"])
    assert {f["null_for"] for c, f in got["findings"].items() if c in NULL_FOR[study_id]} \
        <= {"persona", "state"}
