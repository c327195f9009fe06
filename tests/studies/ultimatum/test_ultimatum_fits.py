"""Ultimatum structural fits recover what they simulate, with honest intervals."""

import math

import numpy as np
import pytest
from scipy.special import expit

from subrational.evaluation.structural import Observations, calibrate, fit_structural
from subrational.experiments import make, study

GAME = make("ultimatum")
LOGISTIC, FEHR_SCHMIDT = study(GAME.id).models(GAME)
TYPICAL = GAME.persona("typical")
STATES = tuple(GAME.states()) * 8  # 8 rows per offer, like 4 wordings x 2 orders
OFFERS = np.array([s.offer for s in STATES])


def _simulate(p_action, rng, trials=20):
    return Observations(STATES, rng.binomial(trials, p_action) / trials)


def _fehr_schmidt(alpha, precision=15.0):
    return expit(precision * (OFFERS - alpha * np.maximum(1 - 2 * OFFERS, 0)))


def test_fehr_schmidt_alpha_is_recovered():
    fit = calibrate(FEHR_SCHMIDT, _simulate(_fehr_schmidt(0.4), np.random.default_rng(1)),
                    TYPICAL, source="sim", n_boot=50, rng=np.random.default_rng(2))
    (alpha,) = fit.estimates
    assert alpha.value == pytest.approx(0.4, abs=0.05)  # measured 0.417
    assert alpha.ci_low < alpha.value < alpha.ci_high
    assert alpha.inside is True and alpha.human_low == pytest.approx(0.125)


def test_logistic_threshold_and_slope_are_recovered():
    p_reject = expit(1.59 - 10.42 * OFFERS)  # Heffner & FeldmanHall's fit
    fit = calibrate(LOGISTIC, _simulate(p_reject, np.random.default_rng(3)), TYPICAL,
                    source="sim", n_boot=50, rng=np.random.default_rng(4))
    est = {e.name: e for e in fit.estimates}
    assert est["threshold"].value == pytest.approx(1.59 / 10.42, abs=0.03)
    assert est["slope"].value == pytest.approx(-10.42, rel=0.2)


def test_intervals_cover_the_true_alpha_in_most_replications():
    covered = 0
    for rep in range(12):
        data = _simulate(_fehr_schmidt(0.4), np.random.default_rng(100 + rep))
        (alpha,) = calibrate(FEHR_SCHMIDT, data, TYPICAL, source="sim", n_boot=60,
                             rng=np.random.default_rng(200 + rep)).estimates
        covered += alpha.ci_low <= 0.4 <= alpha.ci_high
    assert covered >= 9  # measured 12 of 12


def test_fits_run_per_source_and_persona_from_the_policies():
    class FehrSchmidtPolicy:
        def action_probs(self, state, persona):
            alpha = 0.2 if persona.name == "selfish" else 0.6
            p = float(expit(15 * (state.offer - alpha * max(1 - 2 * state.offer, 0))))
            return np.array([p, 1 - p])

    personas = [GAME.persona("fair"), GAME.persona("selfish")]
    fits = fit_structural(GAME, study(GAME.id).models(GAME), {"policy": FehrSchmidtPolicy()},
                          personas, n_boot=20, seed=0)
    alphas = {f.persona: f.estimates[0].value for f in fits if f.model.startswith("Fehr")}
    assert alphas == pytest.approx({"fair": 0.6, "selfish": 0.2}, abs=1e-3)
    assert {f.source for f in fits} == {"policy"} and len(fits) == 4


def test_misfit_tells_a_described_curve_from_one_the_model_cannot_draw():
    good = calibrate(FEHR_SCHMIDT, _simulate(_fehr_schmidt(0.4), np.random.default_rng(5)),
                     TYPICAL, source="sim", n_boot=5, rng=np.random.default_rng(6))
    v_shaped = Observations(STATES, np.abs(OFFERS - 0.5) * 2)  # rejects the middle only
    bad = calibrate(LOGISTIC, v_shaped, TYPICAL, source="sim", n_boot=5,
                    rng=np.random.default_rng(7))
    assert good.misfit < 0.06 and bad.misfit > 0.2  # measured 0.018 and 0.263


def test_a_flat_curve_has_no_fifty_percent_point():
    # A uniform responder fits intercept ~0 and slope ~0: the "crossing" -a/b is anywhere.
    assert math.isnan(LOGISTIC.values(np.array([1e-4, -3e-4]))["threshold"])
    assert LOGISTIC.values(np.array([1.59, -10.42]))["threshold"] == pytest.approx(0.1526,
                                                                                   abs=1e-3)
