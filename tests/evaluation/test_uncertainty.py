"""Intervals from the LLM's own variability: the replicates resample what the LLM produced,
and checks are decided on them (Holm over claims, level checks unless they fail with
confidence)."""

import json

import numpy as np
import pytest

from subrational.backends.scripted import ScriptedBackend
from subrational.cache import Cache, CachedBackend
from subrational.demonstrations import TablePolicy, to_frame
from subrational.elicitation import SampleSettings, elicit
from subrational.evaluation.records import Finding
from subrational.evaluation.uncertainty import (
    SCHEME_BLOCKS,
    SCHEME_DRAWS,
    SCHEME_EPISODES,
    Replicates,
    decide,
    holm,
)
from subrational.experiments.core import state_key
from subrational.experiments.registry import make

P_ACCEPT = 0.3


def _policy(study, method, probs_fn, *, personas=None, samples=10, seed=0):
    exp = make(study)
    chosen = [exp.persona(n) for n in (personas or exp.default_personas)]
    rows = elicit(exp, chosen, CachedBackend(ScriptedBackend("x", probs_fn=probs_fn), Cache()),
                  method=method, settings=SampleSettings(samples=samples), seed=seed)
    return exp, chosen, TablePolicy(exp, to_frame(exp, rows, {}))


@pytest.fixture(scope="module")
def ultimatum_sampled():
    return _policy("ultimatum", "sample", lambda persona, state: [P_ACCEPT, 1 - P_ACCEPT])


def test_draw_replicates_have_the_binomial_spread_of_each_cell(ultimatum_sampled):
    exp, personas, policy = ultimatum_sampled
    reps = Replicates(policy, 400, np.random.default_rng(1))
    assert reps.scheme.name == SCHEME_DRAWS
    state = exp.states()[3]
    key = (personas[0].name, state_key(state))
    n, p = policy.draws[key], policy.table[key][0]
    values = np.array([reps[b].action_probs(state, personas[0])[0] for b in range(400)])
    assert values.mean() == pytest.approx(p, abs=0.02)
    assert values.std() == pytest.approx(np.sqrt(p * (1 - p) / n), rel=0.2)
    # the original is untouched
    assert policy.table[key][0] == p


def test_block_replicates_of_identical_blocks_have_no_spread():
    exp, personas, policy = _policy("ultimatum", "choice-probs",
                                    lambda persona, state: [P_ACCEPT, 1 - P_ACCEPT],
                                    personas=["dictator-neutral"] if False else None)
    reps = Replicates(policy, 20, np.random.default_rng(0))
    assert reps.scheme.name == SCHEME_BLOCKS and reps.scheme.units >= 2
    state = exp.states()[0]
    values = {round(float(reps[b].action_probs(state, personas[0])[0]), 9) for b in range(20)}
    assert values == {round(float(policy.action_probs(state, personas[0])[0]), 9)}


def test_episode_replicates_resample_episodes_and_re_tally_the_table():
    exp, personas, policy = _policy("marshmallow-v1", "sample",
                                    lambda persona, state: [0.1, 0.9], personas=["age-4"])
    reps = Replicates(policy, 5, np.random.default_rng(3))
    assert reps.scheme.name == SCHEME_EPISODES
    rep = reps[2]
    episodes = rep.episodes(personas[0])
    assert len(episodes) == len(policy.episodes(personas[0]))
    assert episodes != policy.episodes(personas[0])  # resampled with replacement
    first = exp.states()[0]
    n_first = sum(1 for t in episodes if t.states and t.states[0] == first)
    eats = sum(1 for t in episodes if t.states and t.actions[0] == 0)
    # no episode was abandoned: the table at minute 0 is the replicate's own tally
    assert policy.abandoned(personas[0]) == 0
    assert rep.action_probs(first, personas[0])[0] == pytest.approx(eats / n_first)


def _f(claim, origin="paper claim", direction="", reproduced=True):
    return Finding(claim, "demonstrations", 0.5, "", reproduced, origin=origin,
                   direction=direction)


def test_claims_are_holm_corrected_and_levels_pass_unless_they_fail_with_confidence():
    n = 200
    def reps(k):  # k of n replicates hold
        return [(0.5, i < k) for i in range(n)]
    findings = [_f("a"), _f("b"), _f("h"), _f("c", origin="design choice"),
                _f("d", origin="human band"), _f("e", origin="human band"),
                _f("f", origin="human band"), _f("g", origin="human band", direction="state")]
    table = {("a", "demonstrations"): reps(200), ("b", "demonstrations"): reps(190),
             ("h", "demonstrations"): reps(5), ("c", "demonstrations"): reps(100),
             ("d", "demonstrations"): reps(5), ("e", "demonstrations"): reps(100),
             ("f", "demonstrations"): reps(199), ("g", "demonstrations"): reps(199)}
    got = {f.claim: f for f in decide(findings, table, n, units=60, scheme="x")}
    # claims a, b, h, g (a direction is a claim whatever its origin): p-values 1/201, 11/201,
    # 196/201, 2/201; Holm multiplies the smallest by 4, then 3, 2, 1 (and keeps them ordered)
    assert got["a"].outcome == "confirmed" and got["a"].p_value == pytest.approx(4 / 201)
    assert got["g"].outcome == "confirmed" and got["g"].p_value == pytest.approx(6 / 201)
    assert got["b"].outcome == "undecided" and got["b"].p_value == pytest.approx(22 / 201)
    assert got["b"].reproduced is False
    assert got["h"].outcome == "refuted" and got["h"].reproduced is False
    # a threshold of our own is a level: it passes unless it fails with confidence
    assert got["c"].test == "consistent" and got["c"].reproduced is True
    assert got["d"].outcome == "outside" and got["d"].reproduced is False  # 6/201 <= 0.05
    assert got["e"].outcome == "consistent" and got["e"].reproduced is True
    assert got["f"].outcome == "inside"
    assert got["a"].replicates == "1" * 200 and got["a"].draws == 60


def test_an_undefined_statistic_counts_as_failing_in_its_replicate():
    n = 100
    table = {("a", "demonstrations"): [(None, None)] * 10 + [(0.9, True)] * 90}
    got = decide([_f("a")], table, n, units=10, scheme="x")[0]
    assert got.p_holds == pytest.approx(0.9) and got.reproduced is False
    assert got.replicates.count("-") == 10
    # and a finding undefined on the data and in every replicate is not assessed
    none = decide([_f("b", reproduced=None)], {("b", "demonstrations"): [(None, None)] * n},
                  n, units=10, scheme="x")[0]
    assert none.outcome == "not assessed" and none.reproduced is None
    assert json.dumps(none.interval) == "null"


def test_holm_is_statsmodels_holm(monkeypatch):
    import gc

    from statsmodels.stats.multitest import multipletests

    # multipletests runs gc.collect() on every call: 38 s of the suite once its heap is large;
    # the collection does not touch the numbers compared
    monkeypatch.setattr(gc, "collect", lambda *args, **kwargs: 0)
    rng = np.random.default_rng(0)
    for m in (1, 2, 5, 12):
        for _ in range(20):
            p = rng.uniform(0, 0.2, m) ** 2
            assert holm(p) == pytest.approx(multipletests(p, method="holm")[1])


def test_block_replicates_reweight_each_cells_blocks_as_the_direct_formula_does():
    """Replicate b's cell = block-count-weighted mean of the cell's per-block answers."""
    from inference_sim import demonstrations, human_identical
    from subrational.evaluation.uncertainty import Replicates, _cells_by_block

    policy = demonstrations("ultimatum", human_identical("ultimatum"),
                            method="choice-probs").policy
    reps = Replicates(policy, 25, np.random.default_rng(3))
    blocks, cells = _cells_by_block(policy)
    assert reps.scheme.units == len(blocks) > 1
    for b in range(len(reps)):
        weight = dict(zip(blocks, reps._blocks[b], strict=True))
        table = reps[b].table
        assert set(table) == set(policy.table)
        for key, by_block in cells.items():
            w = np.array([weight[blk] for blk in by_block], dtype=float)
            want = (w[:, None] * np.stack(list(by_block.values()))).sum(0) / w.sum() \
                if w.sum() > 0 else policy.table[key]
            assert np.array_equal(table[key], want)
