import numpy as np
import pytest
from scipy.special import expit

from subrational.evaluation import fit_logistic

S = np.linspace(0, 1, 21)


def test_recovers_the_human_logistic_curve():
    fit = fit_logistic(S, expit(1.59 - 10.42 * S))
    assert fit.intercept == pytest.approx(1.59, abs=1e-4)
    assert fit.slope == pytest.approx(-10.42, abs=1e-3)
    assert fit.threshold == pytest.approx(1.59 / 10.42, abs=1e-4)


def test_flat_curve_has_no_threshold():
    fit = fit_logistic(S, np.full(21, 0.4))
    assert fit.threshold is None and fit.slope == pytest.approx(0.0, abs=1e-6)


def test_crossing_outside_the_offers_is_not_reported():
    fit = fit_logistic(S, expit(-3 + 0.5 * S))  # would cross 0.5 at s = 6
    assert fit.slope == pytest.approx(0.5, abs=1e-3) and fit.threshold is None
