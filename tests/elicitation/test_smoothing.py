import numpy as np
import pytest

from subrational.elicitation import jeffreys, kde_ordinal, option_orders


def test_jeffreys_adds_half_a_count():
    np.testing.assert_allclose(jeffreys([9, 1]), [9.5 / 11, 1.5 / 11])
    np.testing.assert_allclose(jeffreys([0, 0]), [0.5, 0.5])


def test_kde_is_normalised_centred_and_smooths_to_neighbours():
    p = kde_ordinal([0, 2, 6, 2, 0])
    assert p.sum() == pytest.approx(1.0)
    assert np.argmax(p) == 2
    assert p[0] > 0 and p[4] > 0  # mass leaks to unseen levels
    np.testing.assert_allclose(p, p[::-1], atol=1e-12)  # symmetric data, symmetric estimate


def test_kde_bandwidth_is_in_levels():
    narrow = kde_ordinal([0, 1, 8, 1, 0], bandwidth=0.3)
    wide = kde_ordinal([0, 1, 8, 1, 0], bandwidth=2.0)
    assert narrow[2] > wide[2]


def test_kde_single_level_and_no_draws():
    assert np.argmax(kde_ordinal([0, 0, 5])) == 2
    np.testing.assert_allclose(kde_ordinal([0, 0, 0]), [1 / 3] * 3)


def test_option_orders_permutations_then_cyclic_shifts():
    assert option_orders(2) == [(0, 1), (1, 0)]
    assert len(option_orders(3)) == 6
    assert option_orders(4) == [(0, 1, 2, 3), (1, 2, 3, 0), (2, 3, 0, 1), (3, 0, 1, 2)]
