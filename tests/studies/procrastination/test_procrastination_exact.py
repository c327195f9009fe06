"""Exact work timing: every episode weighted by its probability, checked against rollouts.

The GPA rank test exists only for sampling noise: with exact episodes the population Spearman rho
decides on its own, and a GPA-blind policy has a rho of exactly 0, not a rounding error.
"""

import math

import numpy as np
import pytest
from scipy.special import expit
from scipy.stats import spearmanr

from subrational.evaluation import analyse_study
from subrational.evaluation.behaviour import EXACT, ROLLOUTS, EvalSettings, episodes
from subrational.experiments import GameEnv, rollout
from subrational.experiments.rollout import Trajectory
from subrational.studies.procrastination.analysis import work_timing
from subrational.studies.procrastination.game import (
    POSTPONE,
    WORK,
    ProcrastinationState,
)
from subrational.studies.procrastination.game import (
    ProcrastinationV1 as Procrastination,
)

S = ProcrastinationState
N = 20_000
LAST = 2


class Scripted:
    """Works when the deadline is close, and more the higher the GPA."""

    def __init__(self, game):
        self.game = game

    def action_probs(self, state, persona):
        slack = (self.game.deadline - state.day + 1) - (self.game.sessions - state.done)
        z = -0.5 + 1.2 * (persona.values["gpa"] - 3.0) - 0.5 * slack
        work = float(expit(z + 3.0 * (slack <= 0)))
        return np.array([work, 1.0 - work])


class Flat:
    def action_probs(self, state, persona):
        return np.array([0.5, 0.5])


@pytest.fixture(scope="module")
def exp():
    return Procrastination()


def _timing(exp, trajs, origin):
    return work_timing(trajs, deadline=exp.deadline, sessions=exp.sessions, last_days=LAST,
                       origin=origin)


def _per_episode(exp, traj):
    """(late, days before, sessions by day t for t = 0..deadline, sessions in the last days)."""
    days = [s.day for s, a in zip(traj.states, traj.actions, strict=True) if a == WORK]
    finished = len(days) >= exp.sessions
    by_day = [sum(d <= t for d in days) for t in range(exp.deadline + 1)]
    return (float(not finished), exp.deadline - days[-1] if finished else -1.0, by_day,
            len(days), sum(d > exp.deadline - LAST for d in days))


def test_exact_work_timing_agrees_with_20000_rollouts(exp):
    persona = exp.persona("gpa-2.5")
    got = episodes(exp, Scripted(exp), persona, source="policy", settings=EvalSettings())
    assert got.origin == EXACT and math.isclose(sum(t.weight for t in got.trajectories), 1.0)
    exact = _timing(exp, got.trajectories, got.origin)
    w = np.array([t.weight for t in got.trajectories])
    rows = [_per_episode(exp, t) for t in got.trajectories]
    sampled = rollout(GameEnv(exp, persona), Scripted(exp), episodes=N,
                      rng=np.random.default_rng(9))
    mc = _timing(exp, sampled, ROLLOUTS)

    def sd(values):
        values = np.asarray(values, dtype=float)
        return math.sqrt(float(w @ (values - w @ values) ** 2))

    late = [r[0] for r in rows]
    before = [r[1] for r in rows]
    assert abs(mc.late_share - exact.late_share) <= 4 * sd(late) / math.sqrt(N)
    assert abs(mc.mean_days_before - exact.mean_days_before) <= 4 * sd(before) / math.sqrt(N)
    for t in range(exp.deadline + 1):
        share = [r[2][t] / exp.sessions for r in rows]
        assert abs(mc.cumulative[t] - exact.cumulative[t]) <= \
            max(4 * sd(share) / math.sqrt(N), 1e-12)
    # a ratio of two means: its SE by the delta method
    done, last = np.array([r[3] for r in rows]), np.array([r[4] for r in rows])
    ratio = exact.last_days_share
    se = sd(last - ratio * done) / (float(w @ done) * math.sqrt(N))
    assert abs(mc.last_days_share - ratio) <= 4 * se


def test_exact_gpa_rank_agrees_with_the_rank_of_20000_rollouts_per_gpa(exp):
    personas = [exp.persona("gpa-2.0"), exp.persona("gpa-4.0")]
    analysis = analyse_study(exp, {"policy": Scripted(exp)}, personas, settings=EvalSettings())
    found = {f.claim: f for f in analysis.findings}
    rho = found["lower-GPA students finish closer to the deadline"].statistic
    assert "no sampling error to test" in found[
        "lower-GPA students finish closer to the deadline"].criterion
    gpas, days = [], []
    for i, persona in enumerate(personas):
        for traj in rollout(GameEnv(exp, persona), Scripted(exp), episodes=N,
                            rng=np.random.default_rng(20 + i)):
            gpas.append(persona.values["gpa"])
            days.append(_per_episode(exp, traj)[1])
    mc = float(spearmanr(gpas, days).statistic)
    # Fieller, Hartley & Pearson (1957): SE of atanh(Spearman rho) ~ sqrt(1.06 / (n - 3))
    assert abs(math.atanh(mc) - math.atanh(rho)) <= 4 * math.sqrt(1.06 / (len(days) - 3))
    assert 0.1 < rho < 0.9


def test_a_gpa_blind_policy_has_a_rank_of_exactly_zero(exp):
    analysis = analyse_study(exp, {"policy": Flat()}, list(exp.personas.values()),
                             settings=EvalSettings())
    found = {f.claim: f for f in analysis.findings}
    assert found["lower GPA works later"].statistic == 0.0
    assert found["lower GPA works later"].reproduced is False
    # Flat 50/50: E[sessions by day 5] = 73/32, by day 7 = 346/128 (test_procrastination_game)
    assert found["work piles up near the deadline"].statistic == \
        pytest.approx(1 - (73 / 32) / (346 / 128), rel=1e-12)


def test_weighted_work_timing_by_hand():
    # Sessions on days 1, 5 and 6 (finished 1 day early) with P 0.25; late (one session on day
    # 7) with P 0.75.
    on_time = Trajectory("gpa-2.0", [S(1, 0), S(2, 1), S(3, 1), S(4, 1), S(5, 1), S(6, 2)],
                         [WORK, POSTPONE, POSTPONE, POSTPONE, WORK, WORK], weight=0.25)
    late = Trajectory("gpa-2.0", [S(d, 0) for d in range(1, 8)], [POSTPONE] * 6 + [WORK],
                      weight=0.75)
    timing = work_timing([on_time, late], deadline=7, sessions=3, last_days=2, origin=EXACT)
    per_day = np.array([0, 0.25, 0, 0, 0, 0.25, 0.25, 0.75])
    np.testing.assert_allclose(timing.cumulative, np.cumsum(per_day) / 3)
    assert timing.sessions_done == pytest.approx(1.5)
    assert timing.last_days_share == pytest.approx(1.0 / 1.5)
    assert timing.late_share == 0.75
    assert timing.mean_days_before == pytest.approx(0.25 * 1 - 0.75)


def test_exact_metrics_have_no_interval_and_no_count(exp):
    analysis = analyse_study(exp, {"policy": Scripted(exp)}, [exp.persona("gpa-3.0")],
                             settings=EvalSettings())
    m = analysis.metrics["per_persona"]["policy"]["gpa-3.0"]
    assert m["episodes_from"] == "exact" and m["episodes"] is None and m["sessions_done"] is None
    assert m["late_share_interval"] == [m["late_share"]] * 2
    assert m["last_two_days_share_interval"] == [m["last_two_days_share"]] * 2


def test_a_source_partly_too_large_to_enumerate_is_rolled_out_whole(exp):
    class DiligentTop:
        """The 4.0 student works every day (one episode); the others toss a coin."""

        def action_probs(self, state, persona):
            return np.array([1.0, 0.0]) if persona.values["gpa"] == 4.0 else np.full(2, 0.5)

    personas = [exp.persona(n) for n in ("gpa-2.0", "gpa-3.0", "gpa-4.0")]
    one = episodes(exp, DiligentTop(), personas[2], source="policy",
                   settings=EvalSettings(max_paths=10))
    assert one.origin == EXACT and len(one.trajectories) == 1
    analysis = analyse_study(exp, {"policy": DiligentTop()}, personas,
                             settings=EvalSettings(episodes=300, max_paths=10))
    per = analysis.metrics["per_persona"]["policy"]
    assert {m["episodes_from"] for m in per.values()} == {"rollouts"}
    assert {m["episodes"] for m in per.values()} == {300}
    found = {f.claim: f for f in analysis.findings}
    assert "one-sided p < 0.05" in found["lower GPA works later"].criterion
