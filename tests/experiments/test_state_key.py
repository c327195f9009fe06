"""state_to_dict's scalar fast path equals dataclasses.asdict, and state_key keeps its JSON."""

from __future__ import annotations

import dataclasses
import json

import pytest

from subrational.experiments import make
from subrational.experiments.core import state_key, state_to_dict

STUDIES = ("ultimatum", "marshmallow", "double_or_nothing", "procrastination")


@pytest.mark.parametrize("name", STUDIES)
def test_every_state_of_a_built_in_study_maps_as_asdict_does(name):
    experiment = make(name)
    states = list(experiment.states())
    assert states
    for state in states:
        got = state_to_dict(state)
        assert got == dataclasses.asdict(state)
        assert list(got) == list(dataclasses.asdict(state))  # same field order
        assert state_key(state) == json.dumps(dataclasses.asdict(state), sort_keys=True,
                                              separators=(",", ":"))


@dataclasses.dataclass(frozen=True)
class _Flat:
    a: int
    b: float
    c: str | None = None
    d: bool = False


@dataclasses.dataclass(frozen=True)
class _Nested:
    inner: _Flat
    seq: tuple[int, ...] = ()


def test_int_and_float_fields_keep_their_json_spelling():
    assert state_key(_Flat(1, 1.0)) == '{"a":1,"b":1.0,"c":null,"d":false}'
    assert state_key(_Flat(0, -0.0)) == '{"a":0,"b":-0.0,"c":null,"d":false}'
    assert state_key(_Flat(True, 2.5, "x", True)) == '{"a":true,"b":2.5,"c":"x","d":true}'


def test_nested_and_container_fields_fall_back_to_a_deep_copy():
    state = _Nested(_Flat(1, 2.0), (3, 4))
    got = state_to_dict(state)
    assert got == dataclasses.asdict(state) == {"inner": {"a": 1, "b": 2.0, "c": None,
                                                          "d": False}, "seq": (3, 4)}
    assert isinstance(got["inner"], dict)  # converted, not the dataclass itself


def test_a_non_dataclass_is_refused_as_asdict_refuses_it():
    with pytest.raises(TypeError):
        state_to_dict({"a": 1})
    with pytest.raises(TypeError):
        state_to_dict(_Flat)
