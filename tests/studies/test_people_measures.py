"""Each study's person measures against policies whose per-person answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from subrational.evaluation.behaviour import EvalSettings
from subrational.evaluation.records import Analysis
from subrational.studies.double_or_nothing.people import ce_ev_proxy
from subrational.studies.double_or_nothing.people import person_measures as double_measures
from subrational.studies.marshmallow import Marshmallow
from subrational.studies.marshmallow.people import bimodality_coefficient
from subrational.studies.marshmallow.people import person_measures as marshmallow_measures
from subrational.studies.procrastination import Procrastination
from subrational.studies.procrastination.people import person_measures as procrastination_measures
from subrational.studies.ultimatum import Ultimatum
from subrational.studies.ultimatum.people import person_measures as ultimatum_measures

SETTINGS = EvalSettings(episodes=50, seed=0)


class Rule:
    """A policy from ``fn(state, persona) -> probabilities``."""

    def __init__(self, fn):
        self.fn = fn

    def action_probs(self, state, persona):
        return np.asarray(self.fn(state, persona), dtype=float)


def _stats(measures, source="policy"):
    return measures.statistics(measures.outcomes[source])


def test_ultimatum_minimum_acceptable_offer_and_never_rejecting_follow_the_rule():
    people = [{"id": f"p{i}", "age": float(a)} for i, a in enumerate((20, 30, 40, 50, 60))]
    game = Ultimatum(population=people)
    # accepts at and above a threshold that grows with age; the 20-year-old never rejects
    thresholds = {20.0: 0.0, 30.0: 0.1, 40.0: 0.2, 50.0: 0.3, 60.0: 0.45}

    def fn(state, persona):
        p = 0.9 if state.offer >= thresholds[persona.traits["age"]] - 1e-9 else 0.1
        return [p, 1 - p]

    got = ultimatum_measures(game, {"policy": Rule(fn)}, list(game.personas.values()),
                             settings=SETTINGS, analysis=Analysis())
    maos = {o.traits["age"]: o.values["mao"] for o in got.outcomes["policy"]}
    assert maos == pytest.approx({20.0: 0.05, 30.0: 0.1, 40.0: 0.2, 50.0: 0.3, 60.0: 0.45})
    stats = _stats(got)
    assert stats["never_reject_share"] == pytest.approx(0.2)  # only the 20-year-old
    assert stats["mao_median"] == pytest.approx(0.2)
    noise = got.outcomes["policy"][0].noise["acceptance"]
    assert noise == pytest.approx(0.09)  # Bernoulli variance of P = 0.9 (or 0.1)


def test_marshmallow_mixture_of_eaters_and_waiters_is_bimodal_and_piles_up_at_the_ends():
    people = [{"id": f"c{i}", "age": float(a)} for i, a in enumerate((3, 3, 4, 6, 6, 7))]
    game = Marshmallow(population=people, horizon=5)

    def fn(state, persona):  # the young eat at once, the old wait to the end
        return [1.0, 0.0] if persona.values["age"] < 5 else [0.0, 1.0]

    got = marshmallow_measures(game, {"policy": Rule(fn)}, list(game.personas.values()),
                               settings=SETTINGS, analysis=Analysis())
    stats = _stats(got)
    assert stats["eat_at_once_share"] == pytest.approx(0.5)
    assert stats["full_wait_share"] == pytest.approx(0.5)
    assert stats["bimodality"] == pytest.approx(1.0)  # two points: skew 0, kurtosis 1
    assert stats["end_peaks"] == 1.0


def test_bimodality_coefficient_of_a_uniform_and_a_peaked_distribution():
    x = np.arange(200)
    assert bimodality_coefficient(x, np.ones(200)) == pytest.approx(5 / 9, abs=0.01)
    peaked = np.exp(-0.5 * ((x - 100) / 10) ** 2)
    assert bimodality_coefficient(x, peaked) == pytest.approx(1 / 3, abs=0.01)  # normal


def test_procrastination_completion_day_of_an_eager_and_a_late_student():
    people = [{"id": "eager", "gpa": 4.0}, {"id": "late", "gpa": 2.0}]
    game = Procrastination(population=people)

    def fn(state, persona):  # eager works at once; late never works
        return [1.0, 0.0] if persona.values["gpa"] == 4.0 else [0.0, 1.0]

    got = procrastination_measures(game, {"policy": Rule(fn)}, list(game.personas.values()),
                                   settings=SETTINGS, analysis=Analysis())
    by = {o.name: o for o in got.outcomes["policy"]}
    assert by["eager"].values["days_before"] == pytest.approx(game.deadline - game.sessions)
    assert by["late"].values["late"] == pytest.approx(1.0)
    stats = _stats(got)
    assert stats["late_share"] == pytest.approx(0.5)


def test_double_or_nothing_ce_proxy_from_the_stored_per_person_p_gamble():
    assert ce_ev_proxy(0.5, 0.5) == pytest.approx(1.0)  # indifferent at fair odds: CE = EV
    assert ce_ev_proxy(0.2, 0.5) < 0.8
    from subrational.studies.double_or_nothing import DoubleOrNothing

    game = DoubleOrNothing(population=[{"id": "a", "stake": 100.0},
                                       {"id": "b", "stake": 1000.0}])
    personas = list(game.personas.values())
    analysis = Analysis()
    for p, share in zip(personas, (0.5, 0.2), strict=True):
        analysis.per_persona("policy")[p.name] = {"p_gamble_round0": share, "win_prob": 0.5}
    got = double_measures(game, {"policy": object()}, personas, settings=SETTINGS,
                          analysis=analysis)
    ce = [o.values["ce_ev"] for o in got.outcomes["policy"]]
    assert ce == pytest.approx([1.0, ce_ev_proxy(0.2, 0.5)])
    assert _stats(got)["in_band_share"] == pytest.approx(0.5)
