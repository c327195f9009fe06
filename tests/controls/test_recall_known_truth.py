"""The recall probe's verdict against a known truth: false positives at d = 0, power, coverage.

A simulated model answers the ultimatum game by sampling (one-hot draws, as ``--method sample``
gives) with a known P(reject | offer 20 %), and answers the recall question with draws around a
known recollection. ``d = |sim - human| - |sim - recall|`` is then known exactly, and
:func:`probe_block`'s verdict must follow it: at ``d = 0`` (the simulation half-way between the
two) it says "closer to ..." in at most about 5 % of seeds each way; when the simulation sits on
its recollection it says so in most seeds, and when it sits on the human value it says that.
"""

from __future__ import annotations

import numpy as np
import pytest

from subrational.controls.headline import Cells
from subrational.controls.recall import DRAWS, PROBES, probe_block
from subrational.experiments import make

PROBE = PROBES[0]  # P(reject | offer = 20 %), human 0.415
RECALL = 0.80
SEEDS = 200
DRAWS_PER_CELL = 20  # 10 samples x 2 option orders
N_BOOT = 200


def _simulated(exp, p_reject_at_20: float, rng: np.random.Generator) -> Cells:
    """Sampled one-hot draws at offer 20 % (the only cells the probe reads) for each persona."""
    obs = {}
    for persona in exp.default_personas:
        rejects = rng.random(DRAWS_PER_CELL) < p_reject_at_20
        obs[(persona, '{"offer":0.2}')] = np.eye(2)[rejects.astype(int)]
    return Cells(exp, list(exp.default_personas), {}, obs)


def _recalled(rng: np.random.Generator) -> list[float]:
    return list(np.clip(rng.normal(RECALL, 0.08, DRAWS), 0, 1))


def _verdicts(p_reject_at_20: float) -> dict[str, float]:
    exp = make("ultimatum", step=0.1)
    out: dict[str, int] = {}
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        row = probe_block(PROBE, _recalled(rng), _simulated(exp, p_reject_at_20, rng),
                          n_boot=N_BOOT, seed=seed)
        assert row["simulated"]["n"] == DRAWS_PER_CELL * len(exp.default_personas)
        out[row["verdict"]] = out.get(row["verdict"], 0) + 1
    return {k: v / SEEDS for k, v in out.items()}


def test_at_d_zero_neither_closer_verdict_exceeds_its_error_rate():
    # Half-way between the human value and the recollection: d = 0 exactly.
    rates = _verdicts((PROBE.human + RECALL) / 2)
    # 95 % intervals: about 2.5 % each way; 0.06 allows for the Monte Carlo error of 200 seeds.
    assert rates.get("closer to what it recalls", 0.0) <= 0.06, rates
    assert rates.get("closer to humans", 0.0) <= 0.06, rates


@pytest.mark.parametrize("truth, verdict", [(RECALL, "closer to what it recalls"),
                                            (PROBE.human, "closer to humans")])
def test_a_simulation_on_either_value_is_found_there_in_most_seeds(truth, verdict):
    rates = _verdicts(truth)
    assert rates.get(verdict, 0.0) >= 0.8, rates
    wrong = "closer to humans" if verdict != "closer to humans" else "closer to what it recalls"
    assert rates.get(wrong, 0.0) <= 0.02, rates
