"""The report's "Parse failures" table: per persona, with an interval and the worst state."""

import pytest

from subrational.elicitation.smoothing import wilson
from subrational.reporting.html import parse_failure_rows

DIAGNOSTICS = {
    "draws": 400, "parse_failures": 30, "parse_failure_rate": 0.075,
    "parse_failures_by_persona": {
        "fair": {"draws": 200, "failed": 30, "rate": 0.15,
                 "worst_state": {"state": '{"offer":0.05}', "draws": 20, "failed": 12,
                                 "rate": 0.6}},
        "typical": {"draws": 200, "failed": 0, "rate": 0.0, "worst_state": None}},
    "parse_failures_worst_cell": {"persona": "fair", "state": '{"offer":0.05}', "draws": 20,
                                  "failed": 12, "rate": 0.6},
}


def test_one_row_per_persona_then_all_with_wilson_intervals_and_the_worst_state():
    rows = parse_failure_rows({"method": "sample", "diagnostics": DIAGNOSTICS})
    assert [r["name"] for r in rows] == ["fair", "typical", "all personas"]
    fair, typical, total = rows
    assert (fair["draws"], fair["failed"], fair["rate"]) == (200, 30, 0.15)
    assert (fair["low"], fair["high"]) == pytest.approx(wilson(30, 200))
    assert fair["worst"] == "offer = 0.05 (12/20, 0.600)"
    assert typical["worst"] == "none failed" and typical["low"] == 0.0
    assert total["rate"] == 0.075 and total["worst"] == "fair · offer = 0.05 (12/20, 0.600)"


def test_no_table_without_sampled_draws():
    assert parse_failure_rows({"method": "choice-probs", "diagnostics": DIAGNOSTICS}) == []
    assert parse_failure_rows({"method": "sample", "diagnostics": {"draws": 0}}) == []
    assert parse_failure_rows({"method": "sample", "diagnostics": {}}) == []
