"""Pooling the demonstrations per persona x state: the vectorised pooling is the cell-by-cell one.

The reference below is the pooling as it was written cell by cell (pandas groupby); the table
now pools every cell at once. Same cells, same order, same kind and the same numbers to the
last bit, on frames mixing choice-probs rows (some failed), sampled rows with counts, sampled
rows of the old format (no counts) and cells asked in many wordings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from subrational.demonstrations.table import TablePolicy, _pooled, to_frame
from subrational.elicitation.elicit import DemoRow
from subrational.experiments import make


def _reference(frame: pd.DataFrame) -> dict:
    out = {}
    for (p, s), g in frame.groupby(["persona", "state"], sort=False):
        has_counts = (g["method"] == "sample") & g["counts"].map(len).gt(0)
        if has_counts.all():
            out[(str(p), str(s))] = ("counts", np.sum(np.stack(
                [np.asarray(c, dtype=float) for c in g["counts"]]), axis=0))
            continue
        ok = g[g["status"] == "ok"]
        if len(ok):
            out[(str(p), str(s))] = ("probs", np.mean(np.stack(
                [np.asarray(x, dtype=float) for x in ok["probs"]]), axis=0))
    return out


def _frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    exp = make("ultimatum")
    states = list(exp.states())
    personas = list(exp.default_personas)
    rows = []
    for _ in range(int(rng.integers(40, 400))):
        persona = personas[int(rng.integers(len(personas)))]
        state = states[int(rng.integers(len(states)))]
        kind = rng.choice(["probs", "probs-failed", "counts", "old-sample"])
        p = rng.dirichlet([1.0, 1.0])
        if kind == "probs-failed":
            rows.append(DemoRow(persona, state, "Accept|Reject", "choice-probs",
                                (np.nan, np.nan), status="failed"))
        elif kind == "probs":
            rows.append(DemoRow(persona, state, "Accept|Reject", "choice-probs", tuple(p),
                                paraphrase=int(rng.integers(4))))
        else:
            k = tuple(int(x) for x in rng.multinomial(10, p))
            rows.append(DemoRow(persona, state, "Reject|Accept", "sample", tuple(p),
                                n_draws=10, counts=k if kind == "counts" else (),
                                status="ok" if rng.random() < 0.9 else "failed"))
    return to_frame(exp, rows, {"model": "test"})


@pytest.mark.parametrize("seed", range(8))
def test_vectorised_pooling_is_the_cell_by_cell_pooling_to_the_last_bit(seed):
    frame = _frame(seed)
    got, want = _pooled(frame), _reference(frame)
    assert list(got) == list(want)  # the same cells in the same order
    for key in want:
        assert got[key][0] == want[key][0]
        assert np.array_equal(got[key][1], want[key][1])  # bit for bit (NaN nowhere here)


def test_a_cell_with_many_wordings_sums_in_frame_order():
    """Over eight rows numpy's sum would be pairwise along a contiguous axis: not here."""
    exp = make("ultimatum")
    state = next(iter(exp.states()))
    values = [0.1 + 1e-16 * i for i in range(33)]
    rows = [DemoRow("fair", state, "Accept|Reject", "choice-probs", (v, 1 - v), paraphrase=i)
            for i, v in enumerate(values)]
    frame = to_frame(exp, rows, {"model": "test"})
    (kind, probs), = _pooled(frame).values()
    assert kind == "probs"
    assert np.array_equal(probs, next(iter(_reference(frame).values()))[1])


def test_the_table_policy_reads_the_pooled_cells():
    frame = _frame(3)
    exp = make("ultimatum")
    policy = TablePolicy(exp, frame)
    want = _reference(frame)
    for (persona, state), (kind, values) in want.items():
        if kind == "counts":
            assert policy.draws[(persona, state)] == int(values.sum())
            if values.sum() == 0:
                continue
        assert (persona, state) in policy.table
    assert set(policy.table) <= set(want)


def test_no_rows():
    assert _pooled(_frame(0).iloc[:0]) == {}
