"""Exact waiting statistics: every episode weighted by its probability, checked against rollouts.

The margin of "waiting rises with age" exists only for rollout noise: exact statistics count any
strict rise, rolled-out ones need three Monte Carlo SE, and the LLM's own sampled episodes keep
that margin for now.
"""

import math

import numpy as np
import pytest
from scipy.special import expit

from subrational.evaluation import analyse_study
from subrational.evaluation.behaviour import EXACT, ROLLOUTS, SAMPLED, EvalSettings, episodes
from subrational.experiments import GameEnv, rollout
from subrational.experiments.rollout import Trajectory
from subrational.studies.marshmallow.analysis import wait_stats
from subrational.studies.marshmallow.game import EAT, WAIT, MarshmallowState
from subrational.studies.marshmallow.game import MarshmallowV1 as Marshmallow

N = 20_000


class ChildLike:
    """Eats at once with sigmoid(4 - age), later with sigmoid(-0.5 - 0.8 age) per minute."""

    def action_probs(self, state, persona):
        age = persona.values["age"]
        p_eat = expit(4 - age) if state.minute == 0 else expit(-0.5 - 0.8 * age)
        return np.array([p_eat, 1 - p_eat])


class BarelyOlder:
    """A constant hazard that falls by 0.0005 a year: waiting rises with age, but very little."""

    def action_probs(self, state, persona):
        p_eat = 0.1 - 0.0005 * persona.values["age"]
        return np.array([p_eat, 1 - p_eat])


@pytest.fixture(scope="module")
def exp():
    return Marshmallow()


def _by_claim(analysis, source="policy"):
    return {f.claim: f for f in analysis.findings if f.source == source}


def test_exact_wait_stats_agree_with_20000_rollouts(exp):
    persona = exp.persona("age-4")
    got = episodes(exp, ChildLike(), persona, source="policy", settings=EvalSettings())
    assert got.origin == EXACT
    exact = wait_stats(got.trajectories, exp.horizon, origin=got.origin)
    # the closed form of the full wait: (1 - sigmoid(0)) * (1 - sigmoid(-3.7))**14
    assert exact.full_wait == pytest.approx(0.5 * (1 - expit(-3.7)) ** 14, rel=1e-12)
    sampled = rollout(GameEnv(exp, persona), ChildLike(), episodes=N, rng=np.random.default_rng(5))
    mc = wait_stats(sampled, exp.horizon, origin=ROLLOUTS)
    for p, share in zip(exact.survival, mc.survival, strict=True):
        assert abs(share - p) <= max(4 * math.sqrt(p * (1 - p) / N), 1e-12)
    w = np.array([t.weight for t in got.trajectories])
    waits = np.array([t.actions.count(WAIT) for t in got.trajectories]) / exp.horizon
    sd = math.sqrt(float(w @ (waits - exact.mean_wait) ** 2))
    assert abs(mc.mean_wait - exact.mean_wait) <= 4 * sd / math.sqrt(N)


def test_weighted_wait_stats_by_hand():
    trajs = [Trajectory("x", actions=[EAT], weight=0.25),
             Trajectory("x", actions=[WAIT] * 2 + [EAT], weight=0.25),
             Trajectory("x", actions=[WAIT] * 4, weight=0.5)]
    stats = wait_stats(trajs, 4, origin=EXACT)
    np.testing.assert_allclose(stats.survival, [1.0, 0.75, 0.75, 0.5, 0.5])
    assert stats.full_wait == 0.5 and stats.eat_at_once == 0.25
    assert stats.mean_wait == pytest.approx((0.25 * 2 + 0.5 * 4) / 4)
    assert stats.full_wait_interval == (0.5, 0.5) and stats.n_episodes is None
    assert stats.survival_interval[0] == stats.survival_interval[1] == tuple(stats.survival)
    metrics = stats.as_metrics(4)
    assert metrics["episodes"] is None and metrics["episodes_from"] == "exact"
    assert metrics["full_wait_interval"] == [0.5, 0.5]
    with pytest.raises(ValueError, match="only exact episodes"):
        wait_stats(trajs, 4, origin=ROLLOUTS)


def test_analysis_statistics_are_exact_and_say_so(exp):
    analysis = analyse_study(exp, {"policy": ChildLike()}, list(exp.personas.values()),
                             settings=EvalSettings())
    m = analysis.metrics["per_persona"]["policy"]["age-5"]
    assert m["episodes_from"] == "exact" and m["episodes"] is None
    assert m["full_wait"] == pytest.approx((1 - expit(-1)) * (1 - expit(-4.5)) ** 14, rel=1e-12)
    assert m["full_wait_interval"] == [m["full_wait"]] * 2


def test_an_exact_rise_needs_no_monte_carlo_margin(exp):
    personas = list(exp.personas.values())
    exact = _by_claim(analyse_study(exp, {"policy": BarelyOlder()}, personas,
                                    settings=EvalSettings()))
    rise = exact["waiting rises with age"]
    assert rise.reproduced is True and rise.statistic == pytest.approx(1.0)
    assert "> 0 (exact statistics: no Monte Carlo error)" in rise.criterion
    assert exact["mean wait does not fall from age 3 to 6"].reproduced is True
    # The same policy rolled out: its rise (about 0.02 of the wait) is inside the margin.
    rolled = _by_claim(analyse_study(exp, {"policy": BarelyOlder()}, personas,
                                     settings=EvalSettings(episodes=2000, max_paths=0)))
    assert rolled["waiting rises with age"].reproduced is False
    margin = 3 * 0.5 * math.sqrt(2 / 2000)
    assert f"> {margin:.3f} (3 Monte Carlo SE of 2000 rollouts)" in \
        rolled["waiting rises with age"].criterion


def test_a_flat_policy_does_not_rise_exactly(exp):
    class Flat:
        def action_probs(self, state, persona):
            return np.array([0.5, 0.5])

    found = _by_claim(analyse_study(exp, {"policy": Flat()}, list(exp.personas.values()),
                                    settings=EvalSettings()))
    assert found["waiting rises with age"].reproduced is False
    assert found["mean wait does not fall from age 3 to 6"].reproduced is False


class SampledChildren:
    """Sampled demonstrations: every child of age a waits a minutes of a 15-minute horizon."""

    has_episodes = True

    def episodes(self, persona):
        age = int(persona.values["age"])
        states = [MarshmallowState(t) for t in range(age + 1)]
        return [Trajectory(persona.name, states, [WAIT] * age + [EAT], [0.0] * age + [1.0])] * 10

    def abandoned(self, persona):
        return 0

    def action_probs(self, state, persona):
        return np.array([0.5, 0.5])


def test_sampled_episodes_are_decided_by_their_bootstrap_not_a_margin(exp):
    # The LLM's own episodes carry their noise into the bootstrap over them
    # (evaluation/uncertainty.py), so the point check has no Monte Carlo margin.
    analysis = analyse_study(exp, {"demonstrations": SampledChildren()},
                             list(exp.personas.values()), settings=EvalSettings(episodes=2000))
    m = analysis.metrics["per_persona"]["demonstrations"]["age-3"]
    assert m["episodes_from"] == SAMPLED and m["episodes"] == 10
    assert m["mean_wait_share"] == pytest.approx(3 / 15)
    rise = _by_claim(analysis, "demonstrations")["waiting rises with age"]
    assert rise.reproduced is True and rise.direction == "persona"
    assert "> 0 (the LLM's sampled episodes: decided on their bootstrap interval)" \
        in rise.criterion


class Individual:
    """Each child their own constant hazard of eating per minute (a population of people)."""

    def __init__(self, hazards):
        self.hazards = hazards

    def action_probs(self, state, persona):
        h = self.hazards[persona.name]
        return np.array([h, 1 - h])


def test_children_of_one_age_are_pooled_as_the_mean_of_their_exact_statistics(exp):
    """Known truth: with a constant hazard h a child waits the whole time with (1 - h)^horizon
    and is still waiting at minute t with (1 - h)^t; children of one age pool to the mean of
    theirs, and a child a bootstrap replicate lists twice counts twice."""
    from subrational.experiments import Persona
    from subrational.studies.marshmallow.analysis import _simulate_ages

    hazards = {"a": 0.0, "b": 0.1, "c": 0.5, "d": 0.2}
    ages = {"a": 5, "b": 5, "c": 5, "d": 3}
    kids = {n: Persona(n, f"child {n}", kind="child", values={"age": ages[n]}) for n in hazards}
    policy, horizon = Individual(hazards), exp.horizon

    def truth(names):
        h = np.array([hazards[n] for n in names])
        t = np.arange(horizon + 1)
        return (1 - h[:, None]) ** t[None, :]  # survival per child and minute

    stats = _simulate_ages(exp, policy, list(kids.values()), "policy", EvalSettings())
    assert set(stats) == {5.0, 3.0}
    for age, names in ((5.0, ["a", "b", "c"]), (3.0, ["d"])):
        curves = truth(names)
        assert stats[age].survival == pytest.approx(curves.mean(axis=0), abs=1e-12)
        assert stats[age].full_wait == pytest.approx(curves[:, -1].mean(), abs=1e-12)
        assert stats[age].eat_at_once == pytest.approx(np.mean([hazards[n] for n in names]),
                                                       abs=1e-12)
        assert stats[age].n_episodes is None  # exact: no finite number of episodes behind it
    twice = _simulate_ages(exp, policy, [kids["a"], *kids.values()], "policy", EvalSettings())
    assert twice[5.0].full_wait == pytest.approx(truth(["a", "a", "b", "c"])[:, -1].mean(),
                                                 abs=1e-12)
    assert twice[5.0].full_wait > stats[5.0].full_wait  # the patient child weighs more
