"""Marshmallow structural fit: the hyperbolic discount rate k is recovered, honestly."""

import math

import numpy as np
import pytest
from scipy.special import expit

from subrational.evaluation.structural import (
    Observations,
    calibrate,
    fit_model,
    fit_structural,
    observations,
)
from subrational.experiments import make, study
from subrational.studies.marshmallow.game import (
    EAT,
    HyperbolicDiscounter,
    MarshmallowState,
)
from subrational.studies.marshmallow.game import (
    MarshmallowV1 as Marshmallow,
)

GAME = make("marshmallow-v1")
(HYPERBOLIC,) = study(GAME.id).models(GAME)
AGE_4 = GAME.persona("age-4")
STATES = tuple(GAME.states()) * 8  # 8 rows per minute, like 4 wordings x 2 orders
LEFT = GAME.horizon - np.array([s.minute for s in STATES])


def _p_eat(k, precision):
    return expit(precision * (1 - 2 / (1 + k * LEFT)))


def _simulate(k, precision, seed, trials=20):
    rng = np.random.default_rng(seed)
    return Observations(STATES, rng.binomial(trials, _p_eat(k, precision)) / trials)


@pytest.mark.parametrize(("k", "precision", "seed"), [(0.1, 10.0, 1), (0.3, 5.0, 2)])
def test_k_and_precision_are_recovered_from_simulated_choices(k, precision, seed):
    theta = fit_model(HYPERBOLIC, _simulate(k, precision, seed), AGE_4)
    # Over 10 seeds each, |k error| was at most 0.0024 (k = 0.1) and 0.013 (k = 0.3), and the
    # precision within 6 %; the bounds leave about 2x margin.
    assert theta[0] == pytest.approx(k, abs=0.03)
    assert theta[1] == pytest.approx(precision, rel=0.15)


def test_switch_minute_is_where_waiting_starts_to_win():
    values = HYPERBOLIC.values(np.array([0.1, 10.0]))
    assert values["switch_minute"] == pytest.approx(GAME.horizon - 10)
    assert HYPERBOLIC.values(np.array([0.01, 10.0]))["switch_minute"] == 0.0  # waits throughout
    assert math.isnan(HYPERBOLIC.values(np.array([0.0, 10.0]))["switch_minute"])
    # the model uses the game's horizon
    (short,) = study("marshmallow").models(Marshmallow(horizon=10))
    assert short.values(np.array([0.2, 10.0]))["switch_minute"] == pytest.approx(5.0)
    assert short.predict(np.array([0.1, 10.0]), (MarshmallowState(0),), AGE_4) == pytest.approx(0.5)


def test_intervals_cover_the_true_k_in_most_replications():
    covered = 0
    for rep in range(12):
        fit = calibrate(HYPERBOLIC, _simulate(0.1, 10.0, 100 + rep), AGE_4, source="sim",
                        n_boot=60, rng=np.random.default_rng(200 + rep))
        k = next(e for e in fit.estimates if e.name == "k")
        covered += k.ci_low <= 0.1 <= k.ci_high
    assert covered >= 9  # measured 11 of 12


def test_hook_fits_the_baseline_discounter_exactly():
    policy = HyperbolicDiscounter(k=0.25, noise=8.0, horizon=GAME.horizon)
    obs = observations(GAME, policy, AGE_4, action=EAT)
    fit = calibrate(HYPERBOLIC, obs, AGE_4, source="policy", n_boot=20,
                    rng=np.random.default_rng(0))
    est = {e.name: e for e in fit.estimates}
    assert est["k"].value == pytest.approx(0.25, abs=1e-3)
    assert est["switch_minute"].value == pytest.approx(GAME.horizon - 4, abs=1e-2)
    assert est["k"].human_low is None and est["k"].inside is None  # HUMAN_DATA has no k
    assert "no human range" in fit.human_source


def test_fits_run_per_age_from_the_policies():
    class PatientWithAge:
        def action_probs(self, state, persona):
            k = 1.0 / persona.values["age"]
            p = float(expit(10 * (1 - 2 / (1 + k * (GAME.horizon - state.minute)))))
            return np.array([p, 1 - p])

    personas = [GAME.persona("age-2"), GAME.persona("age-5")]
    fits = fit_structural(GAME, study(GAME.id).models(GAME), {"policy": PatientWithAge()},
                          personas, n_boot=20, seed=0)
    ks = {f.persona: f.estimates[0].value for f in fits}
    assert ks == pytest.approx({"age-2": 0.5, "age-5": 0.2}, abs=1e-3)
    assert [f.model for f in fits] == ["hyperbolic discounting"] * 2
