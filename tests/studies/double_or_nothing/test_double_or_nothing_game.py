import math

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from scipy.special import expit

from inference_sim import HUMAN_GAMBLER as HUMAN_LIKE
from inference_sim import LogisticGambler as Scripted
from subrational.errors import ConfigError
from subrational.evaluation import analyse_study
from subrational.evaluation.behaviour import EvalSettings
from subrational.experiments import GameEnv, rollout
from subrational.experiments.core import Step, state_key
from subrational.studies.double_or_nothing.analysis import BY_ODDS, BY_ROUND, FLIPS, gamble_stats
from subrational.studies.double_or_nothing.game import (
    CPTGambler,
    CRRAGambler,
    DoubleOrNothingV1,
    DoubleState,
    RiskNeutral,
    cpt_certainty_equivalent,
    cpt_indifference_win_prob,
    cpt_weight,
)

SETTINGS = EvalSettings(episodes=400, seed=3)
ODDS = (0.5, 0.6, 0.7, 0.8)


FLAT = Scripted(0.0)
OPPOSITE = Scripted(0.5, b=0.5, d=-8.0)  # risk seeking, more so as stakes grow and odds worsen
ALWAYS = Scripted(8.0)


def _analyse(policy, *, exp=None, personas=None, sources=("demonstrations", "policy")):
    exp = exp or DoubleOrNothingV1()
    personas = list(exp.personas.values()) if personas is None else personas
    policies = {s: policy for s in sources}
    return analyse_study(exp, {**policies, **exp.baselines()}, personas, settings=SETTINGS)


def _findings(analysis, source="policy"):
    return {f.claim: f for f in analysis.findings if f.source == source}


# -- the game core ---------------------------------------------------------------------------
def test_grid_is_every_round_at_every_win_prob():
    assert DoubleOrNothingV1().states() == tuple(DoubleState(k, 0.5) for k in range(5))
    grid = DoubleOrNothingV1(win_probs=ODDS).states()
    assert len(grid) == 20 and {s.win_prob for s in grid} == set(ODDS)
    assert {s.round for s in grid} == {0, 1, 2, 3, 4}


def test_personas_are_stakes_of_one_kind():
    exp = DoubleOrNothingV1()
    assert list(exp.personas) == ["stake-10", "stake-100", "stake-1000", "stake-10000"]
    p = exp.persona("stake-1000")
    assert p.kind == "contestant" and p.values == {"stake": 1000.0, "log_stake": 3.0}
    assert exp.persona_kinds == ("contestant",)
    assert exp.holdout_personas == ("stake-1000",) and exp.sequential


def test_state_features_and_encoding_are_in_unit_interval():
    exp = DoubleOrNothingV1(win_probs=ODDS)
    assert exp.state_features(DoubleState(3, 0.7)) == {"round": 0.75, "win_prob": 0.7}
    assert exp.feature_names() == ["round", "win_prob", "persona.log_stake"]
    np.testing.assert_allclose(exp.encode(DoubleState(2, 0.5), exp.persona("stake-1000")),
                               [0.5, 0.5, 2 / 3], rtol=1e-6)
    for persona in exp.personas.values():
        for state in exp.states():
            x = exp.encode(state, persona)
            assert np.all((x >= 0) & (x <= 1))
    assert DoubleOrNothingV1(max_flips=1).state_features(DoubleState(0, 0.5))["round"] == 0.0


def test_keep_pays_the_money_now_and_ends():
    exp = DoubleOrNothingV1()
    assert exp.transitions(DoubleState(2, 0.5), 0, exp.persona("stake-100")) == [
        (1.0, Step(None, 400.0, True))]


def test_gamble_moves_on_with_p_or_loses_everything():
    exp = DoubleOrNothingV1(win_probs=(0.7,))
    outcomes = exp.transitions(DoubleState(2, 0.7), 1, exp.persona("stake-100"))
    assert outcomes == [(0.7, Step(DoubleState(3, 0.7), 0.0, False)),
                        (pytest.approx(0.3), Step(None, 0.0, True))]


def test_winning_the_last_flip_pays_double_and_ends():
    exp = DoubleOrNothingV1()
    won, lost = exp.transitions(DoubleState(4, 0.5), 1, exp.persona("stake-100"))
    assert won == (0.5, Step(None, 3200.0, True))  # 100 * 2**4 doubled
    assert lost == (0.5, Step(None, 0.0, True))
    short = DoubleOrNothingV1(max_flips=2)
    assert short.transitions(DoubleState(1, 0.5), 1, short.persona("stake-10"))[0][1] == \
        Step(None, 40.0, True)


def test_initial_state_is_round_zero_and_draws_the_win_prob(rng):
    assert DoubleOrNothingV1().initial_state(None, rng=rng) == DoubleState(0, 0.5)
    exp = DoubleOrNothingV1(win_probs=ODDS)
    drawn = [exp.initial_state(None, rng=rng) for _ in range(200)]
    assert {s.round for s in drawn} == {0} and {s.win_prob for s in drawn} == set(ODDS)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"stakes": (5,)}, "stakes must be .* from 10 to 10,000"),
    ({"stakes": ()}, "stakes must be .* from 10 to 10,000"),
    ({"win_probs": (0.5, 1.0)}, "strictly between 0 and 1"),
    ({"win_probs": (0.5, 0.5)}, "distinct"),
    ({"max_flips": 0}, "max_flips must be a whole number from 1 to 30; got 0"),
    ({"max_flips": 31}, "max_flips must be a whole number from 1 to 30; got 31"),
])
def test_constructor_validates(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        DoubleOrNothingV1(**kwargs)


def test_state_round_trips_through_its_key():
    exp = DoubleOrNothingV1()
    state = DoubleState(3, 0.5)
    assert state_key(state) == '{"round":3,"win_prob":0.5}'
    assert exp.state_from_dict({"round": 3, "win_prob": 0.5}) == state


# -- the text --------------------------------------------------------------------------------
def test_situation_says_what_happened_and_asks():
    exp = DoubleOrNothingV1()
    p = exp.persona("stake-1000")
    text = exp.situation(DoubleState(2, 0.5), p)
    for part in ("started with $1,000", "won all 2 flips", "now have $4,000", "50%",
                 "3 flips left", "$8,000", "lose"):
        assert part in text
    assert text.endswith("Do you keep the $4,000 or gamble it on a flip?")
    assert "not flipped the coin yet" in exp.situation(DoubleState(0, 0.5), p)
    assert "won your first flip" in exp.situation(DoubleState(1, 0.5), p)
    last = exp.situation(DoubleState(4, 0.5), p)
    assert "1 flip left" in last and "last possible flip" in last and "$16,000" in last
    assert "70% (better than even odds)" in DoubleOrNothingV1(win_probs=(0.7,)).situation(
        DoubleState(0, 0.7), p)


def test_instructions_are_the_fixed_story_and_persona():
    exp = DoubleOrNothingV1()
    a, b = (exp.instructions(exp.persona(n)) for n in ("stake-10", "stake-10000"))
    assert a.startswith("You are a contestant") and "$10 " in a and "$10,000" in b
    assert "at most 5 times" in a and a != b
    assert "%" not in a  # the win chance belongs to the state


# -- baselines -------------------------------------------------------------------------------
@pytest.mark.parametrize(("policy", "p", "expected"), [
    (RiskNeutral(), 0.5, 0.5),
    (RiskNeutral(), 0.6, 1.2**5 / (1 + 1.2**5)),  # CE / w = 2p = 1.2 -> 0.7133
    (CRRAGambler(), 0.5, 1 / 33),  # CE / w = 2 p^2 = 0.5 -> 0.5^5 / (1 + 0.5^5)
    (CRRAGambler(), 0.8, 1.28**5 / (1 + 1.28**5)),  # 0.7746
    (CPTGambler(), 0.5, 0.18929),  # CE / w = 2 * 0.42064^(1/0.88) = 0.74758
])
def test_baselines_match_hand_computed_values(policy, p, expected):
    exp = DoubleOrNothingV1(win_probs=(p,))
    for persona in exp.personas.values():  # scale-free: the same at every stake and round
        for k in range(5):
            assert policy.action_probs(DoubleState(k, p), persona)[1] == \
                pytest.approx(expected, abs=1e-5)


def test_cpt_numbers_match_human_data():
    assert cpt_weight(0.5) == pytest.approx(0.42, abs=0.005)
    assert cpt_certainty_equivalent(100, 0.5) / 100 == pytest.approx(0.75, abs=0.005)
    assert cpt_certainty_equivalent(1000, 0.5) == pytest.approx(
        10 * cpt_certainty_equivalent(100, 0.5))
    p_star = cpt_indifference_win_prob()
    assert p_star == pytest.approx(0.71, abs=0.01)
    assert CPTGambler().action_probs(DoubleState(0, p_star), None)[1] == pytest.approx(0.5)
    assert cpt_indifference_win_prob(alpha=1.0, gamma=1.0) == pytest.approx(0.5)


def test_env_passes_gymnasium_checker_and_pays_consistently(rng):
    exp = DoubleOrNothingV1()
    check_env(GameEnv(exp, "stake-100"), skip_render_check=True)
    for traj in rollout(GameEnv(exp, "stake-100"), FLAT, episodes=300, rng=rng):
        flips = sum(traj.actions)
        assert len(traj.actions) <= 5 and traj.actions[:-1] == [1] * (len(traj.actions) - 1)
        assert traj.total_reward in (0.0, 100.0 * 2 ** flips)


# -- evaluation ------------------------------------------------------------------------------
def test_flips_distribution_matches_the_exact_one():
    exp = DoubleOrNothingV1()
    # Every episode weighted by its probability (exact): no Monte Carlo tolerance needed.
    stats = gamble_stats(exp, FLAT, exp.persona("stake-10"), source="policy",
                         settings=EvalSettings(), win_prob=0.5)
    # P(n flips) = g^n p^(n-1) (1 - p g) for 1 <= n < 5, with g = p = 0.5; P(5) = g^5 p^4.
    exact = [0.5] + [0.5**n * 0.5 ** (n - 1) * 0.75 for n in range(1, 5)] + [0.5**9]
    np.testing.assert_allclose(stats.flips, exact, rtol=1e-12)
    assert sum(stats.flips) == pytest.approx(1.0, abs=1e-12)
    assert stats.p_gamble_by_round == (0.5,) * 5
    assert stats.p_all_flips_given_wins == pytest.approx(0.5**5)
    assert stats.p_gamble_round0_rollouts == pytest.approx(0.5, abs=1e-12)
    assert stats.mean_payout == pytest.approx(10.0, rel=1e-12)  # a fair game: EV = stake


def test_human_like_policy_reproduces_the_findings_and_bands():
    analysis = _analyse(HUMAN_LIKE)
    for source in ("demonstrations", "policy"):
        found = _findings(analysis, source)
        assert found["risk averse at fair odds"].statistic == pytest.approx(0.4422, abs=1e-4)
        assert found["gambles less as the stake grows"].statistic == \
            pytest.approx(expit(-1.0) - expit(0.5), abs=1e-9)
        assert all(f.reproduced for f in found.values()), found
    assert analysis.metrics["distance_to_humans"]["policy"] == 0.0
    assert _findings(analysis, "risk-neutral")[
        "risk-neutral chooser is indifferent at fair odds"].reproduced


def test_flat_policy_fails_the_paper_findings():
    found = _findings(_analyse(FLAT))
    assert found["risk averse at fair odds"].statistic == 0.5
    assert found["risk averse at fair odds"].reproduced is False
    assert found["gambles less as the stake grows"].reproduced is False


def test_a_coin_toss_a_hair_below_one_half_is_not_risk_aversion():
    # A policy imitating 50/50 answers lands at 0.4999 or 0.5001 by chance: neither is a finding.
    found = _findings(_analyse(Scripted(-0.0004, b=-0.0002)))
    assert 0.49 < found["risk averse at fair odds"].statistic < 0.5
    assert found["risk averse at fair odds"].reproduced is False
    assert found["gambles less as the stake grows"].reproduced is False


def test_opposite_policy_fails_findings_and_bands():
    analysis = _analyse(OPPOSITE)
    found = _findings(analysis)
    for claim in ("risk averse at fair odds", "gambles less as the stake grows",
                  "gambles at fair odds about as often as people",
                  "gambling does not rise with the stake"):
        assert found[claim].reproduced is False, claim
    # mean over stakes of sigmoid(0.5 + 0.5 j), j = 0..3, minus the band's top 0.5
    expected = np.mean(expit(0.5 + 0.5 * np.arange(4))) - 0.5
    assert analysis.metrics["distance_to_humans"]["policy"] == pytest.approx(expected)


def test_always_gambling_never_stops():
    found = _findings(_analyse(ALWAYS))
    assert found["eventually stops"].statistic == pytest.approx(expit(8.0) ** 5)
    assert found["eventually stops"].reproduced is False


def test_win_probability_bands_only_with_p_08():
    exp = DoubleOrNothingV1(win_probs=ODDS)
    good, flat = _findings(_analyse(HUMAN_LIKE, exp=exp)), _findings(_analyse(FLAT, exp=exp))
    assert good["clearly gambles at win probability 0.8"].reproduced
    assert good["gambles more as the win probability rises"].statistic == pytest.approx(1.0)
    assert flat["clearly gambles at win probability 0.8"].reproduced is False
    assert flat["gambles more as the win probability rises"].reproduced is None
    opposite = _findings(_analyse(OPPOSITE, exp=exp))
    assert opposite["gambles more as the win probability rises"].reproduced is False
    assert "clearly gambles at win probability 0.8" not in _findings(_analyse(HUMAN_LIKE))


def test_curves_panels_and_human_band():
    analysis = _analyse(HUMAN_LIKE, exp=DoubleOrNothingV1(win_probs=ODDS))
    assert {c.panel for c in analysis.curves} == {BY_ROUND, FLIPS, BY_ODDS}
    human = [c for c in analysis.curves if c.source == "human"]
    assert len(human) == 1 and human[0].panel == BY_ROUND
    assert list(human[0].y_low) == [0.15] * 5 and list(human[0].y_high) == [0.5] * 5
    assert "band" in human[0].band_label
    for curve in analysis.curves:
        assert all(0 <= y <= 1 for y in curve.y) and curve.xlabel and curve.ylabel
    flips = [c for c in analysis.curves if c.panel == FLIPS]
    assert len(flips) == 2 * 4 + 3  # two learned sources x four stakes, three baselines
    assert all(list(c.x) == [0, 1, 2, 3, 4, 5] and sum(c.y) == pytest.approx(1) for c in flips)
    by_round = {c.label: c for c in analysis.curves if c.panel == BY_ROUND}
    assert by_round["policy: stake-10"].y[0] == pytest.approx(expit(0.5))
    assert by_round["crra"].y == pytest.approx([1 / 33] * 5)


def test_metrics_per_source_and_persona():
    metrics = _analyse(HUMAN_LIKE).metrics
    m = metrics["per_persona"]["demonstrations"]["stake-100"]
    assert m["stake"] == 100 and m["p_gamble_round0"] == pytest.approx(0.5)
    assert m["p_gamble_by_round"] == pytest.approx(list(expit(-0.3 * np.arange(5))))
    assert sum(m["flips_distribution"]) == pytest.approx(1)
    assert m["p_all_flips"] == m["flips_distribution"][-1]
    assert (metrics["per_persona"]["cpt"]["stake-10"]["p_gamble_round0"]
            == pytest.approx(0.18929, abs=1e-5))
    assert set(metrics["distance_to_humans"]) == {"measure", "demonstrations", "policy"}


def test_one_persona_and_one_source_do_not_crash():
    exp = DoubleOrNothingV1()
    analysis = _analyse(HUMAN_LIKE, personas=[exp.persona("stake-100")], sources=("policy",))
    found = _findings(analysis)
    assert found["gambles less as the stake grows"].statistic is None
    assert found["gambles less as the stake grows"].reproduced is None
    assert found["gambling does not rise with the stake"].reproduced is None
    assert found["risk averse at fair odds"].reproduced is False  # P = 0.5 at stake 100
    assert not _findings(analysis, "demonstrations")
    assert set(analysis.metrics["distance_to_humans"]) == {"measure", "policy"}
    empty = _analyse(HUMAN_LIKE, personas=[])
    assert [f.source for f in empty.findings] == ["risk-neutral"]


def test_no_fair_odds_skips_the_fair_odds_findings():
    analysis = _analyse(HUMAN_LIKE, exp=DoubleOrNothingV1(win_probs=(0.6, 0.8)))
    assert set(_findings(analysis)) == {"clearly gambles at win probability 0.8",
                                        "gambles more as the win probability rises"}
    assert any("no fair odds" in n for n in analysis.notes)
    assert not [c for c in analysis.curves if c.source == "human"]


def test_sanity_check_catches_a_baseline_that_is_not_indifferent():
    exp = DoubleOrNothingV1()
    analysis = analyse_study(exp, {"risk-neutral": CPTGambler()}, list(exp.personas.values()),
                           settings=SETTINGS)
    (finding,) = analysis.findings
    assert finding.reproduced is False
    assert finding.statistic == pytest.approx(0.5 - 0.18929, abs=1e-5)


def test_analysis_is_replayable():
    a, b = (_analyse(FLAT).metrics for _ in range(2))
    assert a == b
    assert math.isclose(a["per_persona"]["policy"]["stake-10"]["p_gamble_round0_rollouts"],
                        b["per_persona"]["policy"]["stake-10"]["p_gamble_round0_rollouts"])


def _scorecard_verdict(analysis):
    from subrational.evaluation.records import to_jsonable
    from subrational.evaluation.scorecard import scorecard
    return scorecard({"findings": to_jsonable(analysis.findings), "from_paper": True})["verdict"]


def test_human_identical_cpt_gambler_is_judged_human_like():
    # CPT with the Tversky & Kahneman 1992 medians (alpha 0.88, gamma 0.61) is scale-free: it
    # cannot show "gambles less as the stake grows" (Holt & Laury 2002), which the human
    # reference (a CPT chooser) does not cover. That check fails on both sources; the other
    # human bands and design choices pass, so the pooled three quarters hold.
    exp = DoubleOrNothingV1(win_probs=ODDS)
    cpt = CPTGambler()
    analysis = analyse_study(exp, {"demonstrations": cpt, "policy": cpt},
                             list(exp.personas.values()), settings=SETTINGS)
    learned = [f for f in analysis.findings if f.source in ("demonstrations", "policy")]
    failed = {f.claim for f in learned if not f.reproduced}
    assert failed == {"gambles less as the stake grows"}
    assert _scorecard_verdict(analysis) == "human-like"


def test_coin_flipping_gambler_is_not_human_like():
    class Flat:
        def action_probs(self, state, persona):
            return np.array([0.5, 0.5])

    exp = DoubleOrNothingV1(win_probs=ODDS)
    analysis = analyse_study(exp, {"demonstrations": Flat(), "policy": Flat()},
                             list(exp.personas.values()), settings=SETTINGS)
    assert _scorecard_verdict(analysis) == "not human-like"
