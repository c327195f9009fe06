"""Headline statistics on known answers, and the coverage of their bootstrap interval."""

from __future__ import annotations

import numpy as np
import pytest

from subrational.controls.headline import cells_of, estimate
from subrational.elicitation import DemoRow
from subrational.experiments import make


def _rows(exp, p_first, *, counts=None, rng=None):
    """One choice-probs row per persona x state (or sampled counts of ``counts`` draws)."""
    rows = []
    for persona in exp.default_personas:
        for state in exp.states():
            p = p_first(state)
            if counts:
                k = int(rng.binomial(counts, p))
                rows.append(DemoRow(persona, state, "v", "sample", (k / counts, 1 - k / counts),
                                    counts=(k, counts - k), n_draws=counts))
            else:
                rows.append(DemoRow(persona, state, "v", "choice-probs", (p, 1 - p)))
    return rows


def _value(exp, p_first):
    cells = cells_of(exp, _rows(exp, p_first), list(exp.default_personas))
    return estimate(cells, n_boot=10, seed=0).value


def test_marshmallow_full_wait_is_the_product_of_the_minutes():
    exp = make("marshmallow")
    assert _value(exp, lambda s: 0.1) == pytest.approx(0.9 ** exp.horizon)


def test_procrastination_share_of_work_on_the_last_two_days():
    exp = make("procrastination")
    assert _value(exp, lambda s: 1.0) == pytest.approx(0.0)  # done on days 1-3
    late = exp.deadline - exp.sessions + 1  # works only once it must: days 5, 6, 7
    assert _value(exp, lambda s: 1.0 if s.day >= late else 0.0) == pytest.approx(2 / 3)


def test_ultimatum_and_double_or_nothing_headlines():
    assert _value(make("ultimatum"), lambda s: 0.3 if s.offer <= 0.2 else 1.0) == \
        pytest.approx(0.7)  # P(reject) = 1 - P(accept)
    assert _value(make("double_or_nothing"), lambda s: 0.8 if s.round == 0 else 0.0) == \
        pytest.approx(0.2)


def test_the_interval_covers_the_truth_about_95_percent_of_the_time():
    exp = make("ultimatum", step=0.1)
    rng = np.random.default_rng(7)
    truth = 0.6  # P(reject) at every low offer
    covered = 0
    for _ in range(40):
        rows = _rows(exp, lambda s: 1 - truth, counts=10, rng=rng)
        est = estimate(cells_of(exp, rows, list(exp.default_personas)), n_boot=100,
                       seed=int(rng.integers(2**31)))
        lo, hi = est.interval
        covered += lo <= truth <= hi
    assert 0.85 <= covered / 40 <= 1.0


def test_the_behaviour_contrast_tells_a_flat_noisy_model_from_a_state_driven_one():
    from subrational.controls.assess import _responds

    exp = make("ultimatum")
    rng = np.random.default_rng(3)
    flat = cells_of(exp, _rows(exp, lambda s: float(np.clip(0.5 + rng.normal(0, 0.03), 0, 1))),
                    list(exp.default_personas))
    got = _responds(flat, n_boot=200, seed=0)
    assert not got["responds"]
    assert got["interval"][0] <= got["value"] <= got["interval"][1]
    sloped = cells_of(exp, _rows(exp, lambda s: 0.1 + 0.8 * s.offer), list(exp.default_personas))
    assert _responds(sloped, n_boot=200, seed=0)["responds"]
