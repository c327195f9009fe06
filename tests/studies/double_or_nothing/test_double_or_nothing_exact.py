"""Exact gamble statistics: every episode weighted by its probability, checked against rollouts."""

import math

import numpy as np
import pytest
from scipy.special import expit

from subrational.evaluation import analyse_study
from subrational.evaluation.behaviour import EvalSettings
from subrational.studies.double_or_nothing.analysis import gamble_stats
from subrational.studies.double_or_nothing.game import DoubleOrNothingV1, DoubleState

N = 20_000


class HumanLike:
    """P(gamble) = sigmoid(0.5 - 0.5 (log10 w0 - 1) - 0.3 round + 8 (p - 0.5))."""

    def action_probs(self, state, persona):
        g = float(expit(0.5 - 0.5 * (persona.values["log_stake"] - 1) - 0.3 * state.round
                        + 8.0 * (state.win_prob - 0.5)))
        return np.array([1 - g, g])


def _closed_form(exp, policy, persona):
    """P(n flips taken) and P(leaving with w0 2**n) at fair odds, from the per-round g_k.

    At least n flips are taken with a_n = g_0 ... g_(n-1) p**(n-1); exactly n < max_flips
    with a_n ((1 - p) + p (1 - g_n)); all of them with a_max. The contestant leaves with
    w0 2**k after keeping at round k (prod_{j<k} g_j p, times 1 - g_k) or winning every flip.
    """
    p = 0.5
    g = [policy.action_probs(DoubleState(k, p), persona)[1] for k in range(exp.max_flips)]
    flips, kept, reach = [1 - g[0]], {}, 1.0
    for n in range(1, exp.max_flips + 1):
        at_least = float(np.prod(g[:n])) * p ** (n - 1)
        flips.append(at_least if n == exp.max_flips
                     else at_least * ((1 - p) + p * (1 - g[n])))
    for k in range(exp.max_flips):
        kept[k] = reach * (1 - g[k])
        reach *= g[k] * p
    kept[exp.max_flips] = reach
    payout = sum(share * exp.money(DoubleState(k, p), persona) for k, share in kept.items())
    return flips, kept, payout


def test_exact_flips_and_payout_match_the_closed_form():
    exp = DoubleOrNothingV1()
    persona = exp.persona("stake-100")
    stats = gamble_stats(exp, HumanLike(), persona, source="policy", settings=EvalSettings(),
                         win_prob=0.5)
    flips, _, payout = _closed_form(exp, HumanLike(), persona)
    np.testing.assert_allclose(stats.flips, flips, rtol=1e-12, atol=1e-15)
    assert stats.mean_payout == pytest.approx(payout, rel=1e-12)
    assert stats.p_gamble_round0_rollouts == pytest.approx(stats.p_gamble_round0, rel=1e-12)
    assert stats.n_episodes is None and stats.origin == "exact"
    assert stats.p_all_flips_interval == (stats.p_all_flips, stats.p_all_flips)


def test_exact_statistics_agree_with_20000_rollouts():
    exp = DoubleOrNothingV1()
    persona = exp.persona("stake-10")
    exact = gamble_stats(exp, HumanLike(), persona, source="policy", settings=EvalSettings(),
                         win_prob=0.5)
    mc = gamble_stats(exp, HumanLike(), persona, source="policy",
                      settings=EvalSettings(episodes=N, max_paths=0, seed=4), win_prob=0.5)
    assert mc.origin == "rollouts" and mc.n_episodes == N
    for p, share in zip(exact.flips, mc.flips, strict=True):
        assert abs(share - p) <= max(4 * math.sqrt(p * (1 - p) / N), 1e-12)
    p0 = exact.p_gamble_round0_rollouts
    assert abs(mc.p_gamble_round0_rollouts - p0) <= 4 * math.sqrt(p0 * (1 - p0) / N)
    _, kept, _ = _closed_form(exp, HumanLike(), persona)
    second = sum(share * exp.money(DoubleState(k, 0.5), persona) ** 2
                 for k, share in kept.items())
    sd = math.sqrt(second - exact.mean_payout**2)
    assert abs(mc.mean_payout - exact.mean_payout) <= 4 * sd / math.sqrt(N)


def test_metrics_say_the_statistics_are_exact():
    exp = DoubleOrNothingV1()
    policy = HumanLike()
    analysis = analyse_study(exp, {"policy": policy, **exp.baselines()},
                             list(exp.personas.values()), settings=EvalSettings())
    for source in ("policy", "cpt"):
        m = analysis.metrics["per_persona"][source]["stake-1000"]
        assert m["episodes_from"] == "exact" and m["episodes"] is None
        assert m["p_all_flips_interval"] == [m["p_all_flips"]] * 2
        assert sum(m["flips_distribution"]) == pytest.approx(1.0, abs=1e-12)
