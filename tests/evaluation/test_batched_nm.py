"""The lockstep Nelder-Mead is scipy's, problem by problem; calibrate's bootstrap is unchanged."""

import numpy as np
import pytest
from scipy.optimize import minimize

from subrational.evaluation import structural
from subrational.evaluation.batched_nm import minimize_many, nelder_mead_many
from subrational.evaluation.structural import calibrate
from subrational.experiments import make, study
from support import simulated_answers


def _problems(n, count, rng):
    """Smooth bounded problems: a rotated quadratic plus a quartic, some optima beyond a bound."""
    lows = rng.uniform(-3, 0, size=(count, n))
    highs = lows + rng.uniform(0.5, 4, size=(count, n))
    centres = rng.uniform(lows - 0.5, highs + 0.5)  # about a third outside the box
    scales = rng.uniform(0.2, 5, size=(count, n))
    mixes = rng.normal(0, 0.5, size=(count, n, n))
    return lows, highs, centres, scales, mixes


def _value(x, centre, scale, mix):
    d = x - centre
    r = d + np.einsum("...ij,...j->...i", mix, d) * 0.3
    return np.sum(scale * r * r, axis=-1) + 0.1 * np.sum(d ** 4, axis=-1) + np.sin(x[..., 0])


@pytest.mark.parametrize("n", [1, 2, 3])
def test_minimize_many_is_scipy_problem_by_problem(n):
    rng = np.random.default_rng(n)
    count = 60
    lows, highs, centres, scales, mixes = _problems(n, count, rng)
    x0s = rng.uniform(lows, highs)
    x0s[::4, 0] = highs[::4, 0]  # some starts at a bound
    x0s[1::4, -1] = lows[1::4, -1]
    x0s[2::8, 0] = 0.0  # a zero coordinate takes scipy's zdelt step
    lows[2::8, 0] = np.minimum(lows[2::8, 0], -0.1)
    highs[2::8, 0] = np.maximum(highs[2::8, 0], 0.1)
    bounds_per = [list(zip(lo, hi, strict=True)) for lo, hi in zip(lows, highs, strict=True)]

    def f_many(x, problems):
        return _value(x, centres[problems], scales[problems], mixes[problems])

    # minimize_many takes one set of bounds: run each bounds set on its own problem group
    for b in range(count):
        res = nelder_mead_many(lambda x, p, b=b: f_many(x, np.full(len(x), b)),
                               np.tile(x0s[b], (3, 1)), bounds_per[b], xatol=1e-5,
                               fatol=1e-7)
        ref = minimize(lambda x, b=b: float(_value(x, centres[b], scales[b], mixes[b])),
                       x0s[b], method="Nelder-Mead", bounds=bounds_per[b],
                       options={"xatol": 1e-5, "fatol": 1e-7})
        for i in range(3):
            np.testing.assert_allclose(res.x[i], ref.x, rtol=0, atol=1e-10)
            assert res.fun[i] == pytest.approx(ref.fun, abs=1e-10)
            assert res.nfev[i] == ref.nfev and res.nit[i] == ref.nit


@pytest.mark.parametrize("n", [2, 3])
def test_problems_with_shared_bounds_run_in_lockstep(n):
    # One bounds box, many objectives (the bootstrap's case): each equals its scipy run,
    # including runs that stop at maxiter and at maxfev inside an iteration.
    rng = np.random.default_rng(10 + n)
    count = 80
    _, _, centres, scales, mixes = _problems(n, count, rng)
    bounds = [(-1.0, 1.5)] * (n - 1) + [(0.0, 2.0)]
    lo, hi = np.array(bounds).T
    centres = rng.uniform(lo - 0.7, hi + 0.7, size=(count, n))
    x0s = rng.uniform(lo, hi, size=(count, n))
    x0s[::5] = hi  # at the upper bound: the initial simplex is reflected inside
    x0s[1::5, 0] = lo[0]

    def f_many(x, problems):
        return _value(x, centres[problems], scales[problems], mixes[problems])

    for options in ({}, {"maxiter": 7}, {"maxfev": 11}, {"maxiter": 30, "maxfev": 25}):
        res = nelder_mead_many(f_many, x0s, bounds, xatol=1e-6, fatol=1e-9, **options)
        for b in range(count):
            ref = minimize(lambda x, b=b: float(_value(x, centres[b], scales[b], mixes[b])),
                           x0s[b], method="Nelder-Mead", bounds=bounds,
                           options={"xatol": 1e-6, "fatol": 1e-9, **options})
            np.testing.assert_allclose(res.x[b], ref.x, rtol=0, atol=1e-10)
            assert res.fun[b] == pytest.approx(ref.fun, abs=1e-10)
            assert (res.nfev[b], res.nit[b]) == (ref.nfev, ref.nit), (options, b)
    x, fun = minimize_many(f_many, x0s, bounds, 1e-6, 1e-9)
    full = nelder_mead_many(f_many, x0s, bounds, xatol=1e-6, fatol=1e-9)
    assert np.array_equal(x, full.x) and np.array_equal(fun, full.fun)


def test_flat_regions_and_ties_follow_scipy():
    # A clipped objective is flat over much of the box: ties in the simplex values.
    rng = np.random.default_rng(3)
    centres = rng.uniform(-2, 2, size=(40, 2))
    bounds = [(-3.0, 3.0), (-3.0, 3.0)]

    def one(x, c):
        return np.minimum(np.sum((x - c) ** 2, axis=-1), 1.0)

    x0s = rng.uniform(-3, 3, size=(40, 2))
    for options in ({}, *({"maxfev": m} for m in range(8, 40, 3))):  # some stop in a shrink
        res = nelder_mead_many(lambda x, p: one(x, centres[p]), x0s, bounds, xatol=1e-5,
                               fatol=1e-7, **options)
        for b in range(40):
            ref = minimize(lambda x, b=b: float(one(x, centres[b])), x0s[b],
                           method="Nelder-Mead", bounds=bounds,
                           options={"xatol": 1e-5, "fatol": 1e-7, **options})
            np.testing.assert_allclose(res.x[b], ref.x, rtol=0, atol=1e-10)
            assert res.fun[b] == pytest.approx(ref.fun, abs=1e-10)
            assert (res.nfev[b], res.nit[b]) == (ref.nfev, ref.nit)


# -- the built-in models: predict_many, and calibrate's lockstep bootstrap ------------------------

_STUDIES = ("ultimatum", "marshmallow-v1", "marshmallow-v2", "double_or_nothing-v1",
            "double_or_nothing-v2", "procrastination-v1", "procrastination-v2")
_MODELS = [(name, i) for name in _STUDIES
           for i in range(len(study(make(name).id).models(make(name))))]


def _model(name, index):
    game = make(name)
    model = study(game.id).models(game)[index]
    return game, model, next(iter(game.personas.values())), tuple(game.states())


@pytest.mark.parametrize(("name", "index"), _MODELS)
def test_predict_many_is_predict_row_by_row(name, index):
    game, model, persona, grid = _model(name, index)
    assert model.predict_many is not None, model.name
    rng = np.random.default_rng(index)
    lo, hi = np.array(model.bounds).T
    thetas = rng.uniform(lo, hi, size=(200, len(lo)))
    thetas[:20] = lo  # at the bounds too
    thetas[20:40] = hi
    many = model.predict_many(thetas, grid, persona)
    rows = np.array([model.predict(t.copy(), grid, persona) for t in thetas])
    assert many.shape == (len(thetas), len(grid))
    np.testing.assert_allclose(many, rows, rtol=0, atol=1e-12)
    # the default without predict_many loops predict over the rows
    plain = structural.StructuralModel(model.name, model.params, model.x0, model.bounds,
                                       model.predict)
    np.testing.assert_array_equal(plain.predict_rows(thetas, grid, persona), rows)


@pytest.mark.parametrize("method", ["sample", "choice-probs"])
@pytest.mark.parametrize(("name", "index"), _MODELS)
def test_lockstep_bootstrap_gives_the_per_replicate_scipy_fit(name, index, method,
                                                               monkeypatch):
    game, model, persona, grid = _model(name, index)
    obs = simulated_answers(model, persona, grid, method,
                            np.random.default_rng([index, len(method)]))
    fits = {}
    for lockstep in (True, False):
        monkeypatch.setattr(structural, "_LOCKSTEP", lockstep)
        fits[lockstep] = calibrate(model, obs, persona, source="sim", n_boot=40,
                                   rng=np.random.default_rng(7))
    new, old = fits[True], fits[False]
    # every replicate's refit, not only the percentiles
    d = structural._design(obs)
    theta = structural.fit_model(model, obs, persona)
    ys, ns, *_ = structural._replicates(obs, d, 40, np.random.default_rng(7))
    each = structural._refit_each(model, d.states, persona, theta, ys, ns)
    together = structural._refit_lockstep(model, d.states, persona, theta, ys, ns)
    np.testing.assert_allclose(np.array(together), np.array(each), rtol=0, atol=1e-12)
    assert new.n_boot == old.n_boot == 40 and new.interval == old.interval
    assert [e.name for e in new.estimates] == [e.name for e in old.estimates]
    for a, b in zip(new.estimates, old.estimates, strict=True):
        for field in ("value", "ci_low", "ci_high"):
            x, y = getattr(a, field), getattr(b, field)
            assert (np.isnan(x) and np.isnan(y)) or x == pytest.approx(y, rel=0, abs=1e-9), \
                (a.name, field, x, y)
        assert (a.inside, a.at_bound, a.inside_reason) == (b.inside, b.at_bound,
                                                           b.inside_reason)
