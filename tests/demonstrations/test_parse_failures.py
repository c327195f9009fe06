"""Parse failures per persona and state, and the world that counts every failure as one action.

A scripted responder answers unparseably with a known probability in two cells of the ultimatum
game (the fair persona at offer 0.05 three times in ten, the typical one at offer 0.9 always)
and never elsewhere: the diagnostics must find exactly those cells at those rates, and
``with_failures_as`` must move each cell's counts by exactly its failures.
"""

import json

import numpy as np
import pytest

from subrational.demonstrations import TablePolicy, diagnostics
from subrational.elicitation.smoothing import frequencies, wilson
from subrational.errors import ConfigError
from subrational.experiments import make, state_key
from subrational.studies.ultimatum.game import UltimatumState
from support import persona_logistic, sample_frame

SAMPLES = 150  # per option order: 300 draws per cell
RATES = {("fair", 0.05): 0.3, ("typical", 0.9): 1.0}


def _rate(persona, state):
    return RATES.get((persona.name, round(state.offer, 2)), 0.0)


@pytest.fixture(scope="module")
def ultimatum():
    game = make("ultimatum")
    frame = sample_frame(game, ["fair", "typical", "selfish"], persona_logistic, _rate,
                         samples=SAMPLES)
    return game, frame, TablePolicy(game, frame)


def _key(offer):
    return state_key(UltimatumState(offer))


def test_failure_rates_are_found_where_they_were_injected(ultimatum):
    _, frame, _ = ultimatum
    diag = diagnostics(frame)
    per_persona, per_state = diag["parse_failures_by_persona"], diag["parse_failures_by_state"]
    fair = per_persona["fair"]["worst_state"]
    print(f"\n[injected 0.3] fair at offer 0.05: {fair['failed']}/{fair['draws']} failed")
    assert fair["state"] == _key(0.05) and fair["draws"] == 2 * SAMPLES
    lo, hi = wilson(fair["failed"], fair["draws"], z=3.29)  # 99.9 %: misses 1 seed in 1000
    assert lo <= 0.3 <= hi
    # The typical persona's always-failing cell is the worst of the table, at rate 1.
    assert diag["parse_failures_worst_cell"] == {"persona": "typical", "state": _key(0.9),
                                                 "draws": 2 * SAMPLES, "failed": 2 * SAMPLES,
                                                 "rate": 1.0}
    # No failure anywhere else: persona totals are exactly the injected cells.
    assert per_persona["fair"]["failed"] == fair["failed"]
    assert per_persona["typical"]["failed"] == 2 * SAMPLES
    assert per_persona["selfish"] == {"draws": 21 * 2 * SAMPLES, "failed": 0, "rate": 0.0,
                                      "worst_state": None}
    assert per_state[_key(0.05)] == {"draws": 3 * 2 * SAMPLES, "failed": fair["failed"],
                                     "rate": fair["failed"] / (3 * 2 * SAMPLES)}
    assert sum(e["failed"] for e in per_state.values()) == diag["parse_failures"]
    assert {k for k, e in per_state.items() if e["failed"]} == {_key(0.05), _key(0.9)}
    # The existing keys are unchanged, and everything is plain JSON.
    assert diag["parse_failures"] == fair["failed"] + 2 * SAMPLES
    assert diag["parse_failure_rate"] == diag["parse_failures"] / diag["draws"]
    assert json.loads(json.dumps(diag)) == diag


def _pooled(frame, persona, offer):
    cell = frame[(frame["persona"] == persona) & (frame["state"] == _key(offer))]
    return np.sum(np.stack(cell["counts"]), axis=0), int(cell["n_failed"].sum())


@pytest.mark.parametrize("action", [0, 1])
def test_failures_as_one_action_move_the_counts_by_exactly_the_failures(ultimatum, action):
    game, frame, policy = ultimatum
    world = policy.with_failures_as(action)
    for persona in ("fair", "typical", "selfish"):
        for state in game.states():
            counts, failed = _pooled(frame, persona, state.offer)
            moved = counts + failed * np.eye(2, dtype=int)[action]
            key = (persona, state_key(state))
            assert world.draws[key] == moved.sum() == policy.draws[key] + failed
            np.testing.assert_array_equal(world.table[key], frequencies(moved))
    # The cell where every draw failed was unknown; in this world it answers the action.
    typical, where = game.persona("typical"), UltimatumState(0.9)
    assert np.isnan(policy.action_probs(where, typical)).all()
    np.testing.assert_array_equal(world.action_probs(where, typical), np.eye(2)[action])
    # The rows that fits resample carry the moved counts too, the failed rows among them.
    rows = [r for r in world.observed_rows(typical) if r.state == where]
    assert len(rows) == 2 and sum(r.counts[action] for r in rows) == 2 * SAMPLES
    assert not [r for r in policy.observed_rows(typical) if r.state == where]


def test_failures_as_checks_the_action_and_is_the_policy_itself_without_failures(ultimatum):
    game, frame, policy = ultimatum
    with pytest.raises(ConfigError, match="from 0 to 1"):
        policy.with_failures_as(2)
    clean = TablePolicy(game, frame[frame["n_failed"] == 0])
    assert clean.failed_draws == 0 and clean.with_failures_as(1) is clean
    choice = frame.assign(method="choice-probs", n_draws=0, n_failed=0,
                          counts=[[] for _ in range(len(frame))])
    table = TablePolicy(game, choice)
    assert table.with_failures_as(0) is table
    assert "parse_failures_by_persona" not in diagnostics(choice)
