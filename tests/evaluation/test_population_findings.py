"""A population's verdict: its mean curve checked against the human bands, people resampled.

Known truth: each person rejects the most unfair offers (s <= 0.1) with their own probability
q_i, answered deterministically (every wording and option order alike), so the only
uncertainty about the population's mean is who was drawn. The interval must come from
resampling people, cover the super-population's mean, and the paper's claim ("rejects the most
unfair offers more often than not") must be confirmed when the mean is well above 1/2 and
not confirmed when it is exactly 1/2.
"""

from __future__ import annotations

import numpy as np
import pytest

from subrational.backends.scripted import ScriptedBackend
from subrational.cache import Cache, CachedBackend
from subrational.demonstrations import TablePolicy, to_frame
from subrational.elicitation import elicit
from subrational.evaluation.generic import assess_study
from subrational.experiments.registry import make

pytestmark = pytest.mark.slow  # many seeds: scheduled first (conftest)

CLAIM = "population mean rejects the most unfair offers more often than not"


def _run(q, seed=0, n_boot=120):
    exp = make("ultimatum", step=0.1, population=[{"id": f"p{i:02d}", "age": 30 + i % 40}
                                                  for i in range(len(q))])
    by_name = {f"p{i:02d}": float(v) for i, v in enumerate(q)}

    def probs(persona, state):
        p = by_name[persona.name] if state.offer <= 0.1 + 1e-9 else 0.03
        return [1 - p, p]

    personas = [exp.persona(n) for n in exp.default_personas]
    rows = elicit(exp, personas, CachedBackend(ScriptedBackend("x", probs_fn=probs), Cache()),
                  method="choice-probs", paraphrases=1)
    policy = TablePolicy(exp, to_frame(exp, rows, {}))
    out = assess_study(exp, {"demonstrations": policy}, personas, n_boot=n_boot, seed=seed,
                       extras=False)
    return out, next(f for f in out.findings
                     if f.claim == CLAIM and f.source == "demonstrations")


def test_the_population_claim_is_checked_on_the_mean_curve_with_people_resampled():
    rng = np.random.default_rng(2)
    q = rng.beta(3, 2, size=40)  # super-population mean 0.6
    out, f = _run(q)
    assert f.statistic == pytest.approx(float(q.mean()))
    lo, hi = f.interval
    assert hi - lo > 0.05  # the people's spread, not a zero-width interval
    assert "people (40)" in out.metrics["uncertainty"]["resampled"]
    assert any(c.persona == "population mean" for c in out.curves)


def test_the_interval_covers_the_super_population_mean():
    rng = np.random.default_rng(4)
    covered, trials = 0, 20
    for t in range(trials):
        _, f = _run(rng.beta(3, 2, size=30), seed=t, n_boot=100)
        lo, hi = f.interval
        covered += lo <= 0.6 <= hi
    assert covered >= 17  # about 95 %: 19 of 20 expected


def test_the_claim_is_confirmed_for_a_rejecting_population_and_not_for_a_coin_toss_one():
    rng = np.random.default_rng(6)
    confirmed = [_run(rng.beta(8, 2, size=30), seed=t)[1].reproduced for t in range(3)]
    assert all(confirmed)  # mean 0.8: power
    null = [_run(rng.beta(2, 2, size=30), seed=t)[1].reproduced for t in range(8)]
    assert sum(bool(r) for r in null) <= 1  # mean exactly 0.5: a false positive is rare
