"""The batch state file and the command lines printed from it."""

from __future__ import annotations

import json

import pytest

from subrational.batch.commands import next_steps, run_args
from subrational.batch.state import BatchRecord, BatchState, LineRecord, read_state, write_state
from subrational.errors import BatchError


def _record(**changes):
    values = dict(provider="openai", batch_ids=["batch_1"], model="openai:gpt-4o",
                  created="2026-01-01T00:00:00+0000", config={"model": "openai:gpt-4o"},
                  args=["ultimatum", "--persona", "fair"],
                  lines=[LineRecord(custom_id="a" * 64, op="score", keys=["a" * 64],
                                    options=["Accept", "Reject"])])
    return BatchRecord(**{**values, **changes})


def test_the_state_round_trips_and_carries_its_format_and_version(tmp_path):
    state = BatchState(batches=[_record(), _record(batch_ids=[], input_file="x.jsonl")])
    write_state(tmp_path, state)
    data = json.loads((tmp_path / "batch.json").read_text())
    assert data["format"] == "subrational-batch" and data["version"] == 1
    assert read_state(tmp_path) == state


@pytest.mark.parametrize("edit", [
    lambda d: d.update(version=2),  # a newer format
    lambda d: d["batches"][0].update(provider="hf"),  # no batch API
    lambda d: d["batches"][0]["lines"][0].update(keys=[]),  # a line answering nothing
])
def test_a_state_of_another_shape_is_refused_in_one_line(tmp_path, edit):
    write_state(tmp_path, BatchState(batches=[_record()]))
    data = json.loads((tmp_path / "batch.json").read_text())
    edit(data)
    (tmp_path / "batch.json").write_text(json.dumps(data))
    with pytest.raises(BatchError, match="is not a subrational batch state"):
        read_state(tmp_path)


def test_the_run_arguments_leave_out_the_batch_folder_and_the_written_file():
    argv = ["ultimatum", "--out", "b", "--persona", "fair", "--write=x.jsonl", "--out=c",
            "--samples", "2"]
    assert run_args(argv) == ["ultimatum", "--persona", "fair", "--samples", "2"]
    said = next_steps(_record(args=["ultimatum", "--persona", "a b"]), None)
    assert said == ("run `subrational batch submit ultimatum --persona 'a b'` again for the "
                    "rest, or `subrational run --offline ultimatum --persona 'a b'` to finish")
    assert "submit ultimatum --persona 'a b' --out /tmp/x`" in next_steps(
        _record(args=["ultimatum", "--persona", "a b"]), __import__("pathlib").Path("/tmp/x"))
