"""Placebo traits: accepted in files, drawn seeded by add_placebo_traits, written only when
present (so every existing prompt is unchanged)."""

from __future__ import annotations

import pytest

from subrational.errors import ConfigError
from subrational.experiments.population import (
    COLOURS,
    add_placebo_traits,
    load_population,
    parse_people,
    profile,
)


def test_profiles_without_placebo_traits_are_unchanged_and_with_them_name_them():
    base = {"age": 34.0, "gender": "female", "country": "the United States"}
    assert profile(base) == "a 34-year-old woman from the United States"
    with_placebo = profile({**base, "shoe_size": 42.0, "favourite_colour": "blue"})
    assert with_placebo == ("a 34-year-old woman from the United States (shoe size: EU 42; "
                            "favourite colour: blue)")


def test_add_placebo_traits_is_seeded_and_keeps_the_people():
    adults = load_population("builtin:adults", size=30, seed=1)
    a = add_placebo_traits(adults, seed=7)
    b = add_placebo_traits(adults, seed=7)
    c = add_placebo_traits(adults, seed=8)
    assert a.rows() == b.rows() and a.rows() != c.rows()
    assert [p.id for p in a.people] == [p.id for p in adults.people]
    assert a.sha256 != adults.sha256 and a.source == "builtin:adults+placebo"
    for before, after in zip(adults.people, a.people, strict=True):
        assert {k: v for k, v in after.traits.items()
                if k not in ("shoe_size", "favourite_colour")} == dict(before.traits)
        assert 36 <= after.traits["shoe_size"] <= 46
        assert after.traits["favourite_colour"] in COLOURS
    assert len({p.traits["favourite_colour"] for p in a.people}) > 1


@pytest.mark.parametrize(("row", "needle"), [({"shoe_size": 60}, "shoe_size"),
                                              ({"favourite_colour": "mauve"},
                                               "favourite_colour")])
def test_a_bad_placebo_value_is_one_line_naming_the_column(row, needle):
    with pytest.raises(ConfigError, match=needle):
        parse_people([row], source="people.json")


def test_placebo_columns_are_read_from_a_file_row():
    (person,) = parse_people([{"id": "a", "shoe_size": "41", "favourite_colour": "red"}],
                             source="people.csv", text=True)
    assert person.traits == {"shoe_size": 41.0, "favourite_colour": "red"}
