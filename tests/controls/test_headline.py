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


def _population_rows(exp, p_reject):
    """One deterministic choice-probs row per person x state: ``p_reject[i]`` at low offers."""
    rows = []
    for i, persona in enumerate(exp.default_personas):
        for state in exp.states():
            p = p_reject[i] if state.offer <= 0.2 + 1e-9 else 0.05
            rows.append(DemoRow(persona, state, "v", "choice-probs", (1 - p, p)))
    return rows


def _adults(n):
    return make("ultimatum", step=0.1, population=[{"id": f"p{i}", "age": 30 + i % 40}
                                                   for i in range(n)])


def test_a_population_interval_resamples_people_and_covers_the_population_mean():
    """Known truth: each person's P(reject) ~ Beta(2, 3) (mean 0.4), answered
    deterministically, so the cells hold no noise; only resampling people gives an interval,
    and it covers the population mean about 95 % of the time."""
    exp = _adults(30)
    names = list(exp.default_personas)
    rng = np.random.default_rng(11)
    covered, trials = 0, 40
    for _ in range(trials):
        cells = cells_of(exp, _population_rows(exp, rng.beta(2, 3, size=30)), names)
        within = estimate(cells, n_boot=50, seed=1)
        assert within.interval[1] - within.interval[0] == pytest.approx(0.0)  # the old interval
        est = estimate(cells, n_boot=120, seed=int(rng.integers(2**31)), by_people=True)
        lo, hi = est.interval
        covered += lo <= 0.4 <= hi
    assert 0.85 <= covered / trials <= 1.0


def test_the_disguise_shift_is_paired_over_the_same_people():
    """The same people under two framings, shifted by a known 0.05 each: the paired interval
    covers 0.05 and is far narrower than resampling the conditions independently."""
    from subrational.controls.headline import difference

    exp = _adults(40)
    names = list(exp.default_personas)
    rng = np.random.default_rng(5)
    covered, trials, widths = 0, 25, []
    for _ in range(trials):
        p = rng.beta(2, 3, size=40)
        q = np.clip(p + 0.05 + rng.normal(0, 0.02, size=40), 0, 1)
        a, b = (cells_of(exp, _population_rows(exp, x), names) for x in (q, p))
        first = estimate(a, n_boot=120, seed=3, by_people=True, people_seed=9)
        paired = difference(first, estimate(b, n_boot=120, seed=4, by_people=True,
                                            people_seed=9))
        apart = difference(first, estimate(b, n_boot=120, seed=4, by_people=True,
                                           people_seed=10))
        lo, hi = paired.interval
        covered += lo <= 0.05 <= hi
        widths.append((hi - lo) / (apart.interval[1] - apart.interval[0]))
    assert 0.85 <= covered / trials <= 1.0
    assert float(np.median(widths)) < 0.3


def test_a_person_crossed_with_the_axis_is_resampled_whole():
    from subrational.controls.headline import people_groups

    assert people_groups(["ann/gpa-2.0", "bob/gpa-2.0", "ann/gpa-4.0", "cy"]) == [
        ["ann/gpa-2.0", "ann/gpa-4.0"], ["bob/gpa-2.0"], ["cy"]]
