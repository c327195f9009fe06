"""Populations of people ("silicon samples") as the personas of a study.

A population is a list of people, each a set of traits (age, gender, country, education, income,
occupation, Big Five scores, and a study's own axis such as ``gpa`` or ``stake``). It comes from a
file (``--population people.csv``, ``.toml`` or ``.json``: one row per person) or from a seeded
built-in sampler (``--population builtin:adults --population-size 200``). Each study turns a
person into one of its personas by one documented template (the study's
``population_persona_text`` and its ``population_template_version``); the study's own axis stays
a designed factor: a person whose row lacks it is crossed with the study's axis values.

Traits (:data:`TRAITS`) have fixed types and ranges, checked row by row; every row must give the
same columns. Any problem is one :class:`~subrational.errors.ConfigError` naming the file, the
row (people count from 1; a CSV's header is not a row) and the column.

The learned policy sees the traits through :class:`TraitEncoding`: a numeric trait is scaled to
[0, 1] on its fixed range (income on log10(1 + dollars) over [0, 7]), a categorical one is
one-hot over the values the population has (no column when it has only one value, as for the
persona kinds). A study without a population has no trait features at all.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, did_you_mean

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["TRAITS", "Trait", "Person", "Population", "TraitEncoding", "BUILTINS",
           "MAX_POPULATION", "load_population", "parse_people", "sample_adults",
           "sample_children", "profile", "child_profile", "ADULT_MARGINALS", "CHILD_AGES",
           "PLACEBO_TRAITS", "COLOURS", "add_placebo_traits"]

MAX_POPULATION = 10_000
"""Most people one population may hold (each person is at least one persona, and each persona
is a full grid of model calls)."""


@dataclass(frozen=True)
class Trait:
    """One column a population may have.

    Attributes:
        name: Column name.
        kind: ``"number"`` or ``"category"``.
        low: Lowest allowed value (numbers).
        high: Highest allowed value (numbers).
        whole: Whether a number must be a whole number.
        choices: The allowed values of a category; empty when any short text is allowed.
        meaning: What the value means (shown in errors and the README).
    """

    name: str
    kind: str
    meaning: str
    low: float = 0.0
    high: float = 0.0
    whole: bool = False
    choices: tuple[str, ...] = ()

    def scaled(self, value: float) -> float:
        """The value on [0, 1] for the policy (income on log10(1 + dollars) over [0, 7])."""
        if self.name == "income":
            return min(math.log10(1.0 + float(value)) / 7.0, 1.0)
        return (float(value) - self.low) / (self.high - self.low)


_BIG_FIVE = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
EDUCATION = ("less than high school", "high school", "some college", "bachelor's degree",
             "graduate degree", "high school or some college", "bachelor's degree or higher")
"""Allowed education values; the last two are the coarser levels :func:`sample_adults` draws."""
TRAITS: dict[str, Trait] = {t.name: t for t in (
    Trait("age", "number", "age in whole years", 0, 120, whole=True),
    Trait("gender", "category", "gender", choices=("female", "male", "nonbinary")),
    Trait("country", "category", "country of residence, as written in the prompt "
          "(e.g. 'the United States')"),
    Trait("education", "category", "highest education", choices=EDUCATION),
    Trait("income", "number", "household income in US dollars a year", 0, 10_000_000),
    Trait("occupation", "category", "occupation, as written in the prompt (e.g. 'nurse')"),
    *(Trait(b, "number", f"Big Five {b}, mean item score on a 1-5 scale", 1, 5)
      for b in _BIG_FIVE),
    Trait("gpa", "number", "college GPA (the procrastination study's axis)", 2.0, 4.0),
    Trait("stake", "number", "starting stake in dollars (the double-or-nothing study's axis)",
          10, 10_000),
    Trait("shoe_size", "number", "EU shoe size (a placebo trait: it should not matter)", 30, 50),
    Trait("favourite_colour", "category", "favourite colour (a placebo trait: it should not "
          "matter)", choices=("red", "blue", "green", "yellow", "purple", "orange")),
)}
"""Every trait a population may give, besides ``id`` (a name of up to 40 letters, digits,
``.``, ``_`` or ``-``). ``gpa`` and ``stake`` are study axes: only their study reads them."""

PLACEBO_TRAITS = ("shoe_size", "favourite_colour")
"""Traits that should not move behaviour: a model whose answers follow them is stereotyping."""
COLOURS = TRAITS["favourite_colour"].choices

AXIS_TRAITS = ("gpa", "stake")
"""Traits that are one study's axis; other studies neither write nor encode them."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_TEXT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .,'&()/-]{0,59}$")
Value = float | str


@dataclass(frozen=True)
class Person:
    """One row of a population: its id and its traits (numbers as floats, categories as text)."""

    id: str
    traits: Mapping[str, Value]


@dataclass(frozen=True)
class Population:
    """The people of a run, where they came from, and the digest of their rows.

    Attributes:
        people: The people, in file (or draw) order.
        source: The file path or ``builtin:NAME``, as the user gave it.
        sha256: SHA-256 of the canonical JSON of :meth:`rows` (identifies the population).
    """

    people: tuple[Person, ...]
    source: str
    sha256: str

    def rows(self) -> list[dict[str, Value]]:
        """JSON-safe rows (``id`` first): what a study's ``population`` option takes."""
        return [{"id": p.id, **p.traits} for p in self.people]

    def describe(self) -> dict[str, Any]:
        """Source, size, columns and digest, for the manifest."""
        columns = sorted(self.people[0].traits) if self.people else []
        return {"source": self.source, "people": len(self.people), "columns": columns,
                "sha256": self.sha256}


def _digest(rows: list[dict[str, Value]]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()


# -- reading and checking rows ----------------------------------------------------------------
def _value(trait: Trait, raw: Any, where: str, *, text: bool) -> Value:
    """One cell checked against its trait; ``text``: the cell came from a CSV (all strings)."""
    if trait.kind == "category":
        if not isinstance(raw, str):
            raise ConfigError(f"{where}: {trait.meaning} must be text; got {raw!r}")
        value = raw.strip()
        if trait.choices and value not in trait.choices:
            raise ConfigError(f"{where}: {value!r} is not a {trait.name}"
                              f"{did_you_mean(value, trait.choices)}")
        if not trait.choices and not _TEXT.match(value):
            raise ConfigError(f"{where}: {value!r} must be 1 to 60 letters, digits, spaces or "
                              ".,'&()/- starting with a letter or digit")
        return value
    number: Any = raw
    if text and isinstance(raw, str):
        try:
            number = float(raw.strip().replace(",", "")) if raw.strip() else raw
        except ValueError:
            raise ConfigError(f"{where}: {trait.meaning} must be a number; got {raw!r}") from None
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise ConfigError(f"{where}: {trait.meaning} must be a number; got {raw!r}")
    number = float(number)
    if not math.isfinite(number) or not trait.low <= number <= trait.high:
        raise ConfigError(f"{where}: {trait.meaning} must be from {trait.low:g} to "
                          f"{trait.high:g}; got {raw!r}")
    if trait.whole and number != int(number):
        raise ConfigError(f"{where}: {trait.meaning} must be a whole number; got {raw!r}")
    return number


def parse_people(rows: Sequence[Any], *, source: str, text: bool = False) -> tuple[Person, ...]:
    """Check rows (mappings of column -> value) and turn them into people.

    ``source`` names the file (or option) in every error; ``text`` says the values are strings
    to parse (a CSV). Errors: no rows, more than :data:`MAX_POPULATION`, a row that is not a
    table, an unknown column (with a did-you-mean), a row missing a column another row has, an
    empty cell, a value of the wrong type or outside its range, a duplicate or malformed id.
    """
    if not isinstance(rows, Sequence) or isinstance(rows, (str, bytes)):
        raise ConfigError(f"{source}: a population is a list of rows, one per person")
    if not rows:
        raise ConfigError(f"{source}: the population is empty; give at least one person")
    if len(rows) > MAX_POPULATION:
        raise ConfigError(f"{source}: {len(rows):,} people, more than the {MAX_POPULATION:,} "
                          "one population may hold; split it into several runs")
    columns: list[str] | None = None
    people: list[Person] = []
    seen: dict[str, int] = {}
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise ConfigError(f"{source} row {n}: a row is a table of column = value; got "
                              f"{type(row).__name__}")
        keys = [str(k).strip() for k in row]
        for key in keys:
            if key != "id" and key not in TRAITS:
                raise ConfigError(f"{source} row {n}, column {key!r}: unknown trait"
                                  f"{did_you_mean(key, ['id', *TRAITS])}")
        if columns is None:
            columns = sorted(keys)
        elif sorted(keys) != columns:
            missing = sorted(set(columns) - set(keys)) or sorted(set(keys) - set(columns))
            raise ConfigError(f"{source} row {n}, column {missing[0]!r}: every row needs the "
                              f"same columns ({', '.join(columns)})")
        traits: dict[str, Value] = {}
        ident = f"p{n}"
        for key, raw in row.items():
            key = str(key).strip()
            where = f"{source} row {n}, column {key!r}"
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                raise ConfigError(f"{where}: empty value; every person needs every column")
            if key == "id":
                ident = str(raw).strip() if isinstance(raw, (str, int)) \
                    and not isinstance(raw, bool) else ""
                if not _ID.match(ident):
                    raise ConfigError(f"{where}: an id is 1 to 40 letters, digits, '.', '_' or "
                                      f"'-'; got {raw!r}")
                if ident in seen:
                    raise ConfigError(f"{where}: id {ident!r} is also row {seen[ident]}; "
                                      "give every person a different id")
                seen[ident] = n
            else:
                traits[key] = _value(TRAITS[key], raw, where, text=text)
        people.append(Person(ident, {k: traits[k] for k in TRAITS if k in traits}))
    return tuple(people)


def _read_file(path: Path) -> tuple[list[Any], bool]:
    """Rows of a CSV, JSON or TOML file, and whether the values are text (CSV)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json", ".toml"):
        raise ConfigError(f"--population {path}: use a .csv, .json or .toml file, or "
                          f"builtin:NAME ({', '.join(BUILTINS)})")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"--population {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--population {path}: cannot read it ({exc})") from None
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        rows = []
        for n, row in enumerate(reader, start=1):
            if None in row or any(v is None for v in row.values()):
                raise ConfigError(f"{path} row {n}: {len(reader.fieldnames or [])} columns in "
                                  "the header but a different number in this row")
            rows.append(row)
        return rows, True
    try:
        data = json.loads(text) if suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} is not valid {suffix[1:].upper()}: {exc}") from None
    if isinstance(data, Mapping):
        if set(data) != {"people"}:
            raise ConfigError(f"{path}: put the rows in a list named 'people' "
                              "(TOML: [[people]] tables; JSON: a list or {\"people\": [...]})")
        data = data["people"]
    return data, False


def load_population(spec: str, *, size: int | None = None, seed: int = 0) -> Population:
    """The population a ``--population`` value names.

    ``spec`` is a file path or ``builtin:NAME``; ``size`` is required for a built-in (people
    to draw with ``seed``) and refused for a file (a file gives its own people).
    """
    if spec.startswith("builtin:"):
        name = spec.removeprefix("builtin:")
        if name not in BUILTINS:
            raise ConfigError(f"--population {spec}: unknown built-in population"
                              f"{did_you_mean(name, BUILTINS)}")
        if size is None:
            raise ConfigError(f"--population {spec}: say how many people to draw with "
                              "--population-size N")
        drawn = BUILTINS[name](size, rng=np.random.default_rng(seed))
        rows = [{"id": p.id, **p.traits} for p in drawn]
        return Population(tuple(drawn), spec, _digest(rows))
    if size is not None:
        raise ConfigError(f"--population-size {size}: a population file gives its own people; "
                          "use --population-size only with builtin:NAME")
    path = Path(spec)
    rows, text = _read_file(path)
    people = parse_people(rows, source=str(path), text=text)
    return Population(people, spec, _digest([{"id": p.id, **p.traits} for p in people]))


# -- built-in samplers ------------------------------------------------------------------------
ADULT_MARGINALS: dict[str, dict[str, float]] = {
    "gender": {"female": 0.51, "male": 0.49},
    "age_band": {"18-64": 0.784, "65-84": 0.216},
    "education": {"less than high school": 0.09, "high school or some college": 0.53,
                  "bachelor's degree or higher": 0.38},
}
"""Marginals of :func:`sample_adults`, US adults (18 and over), rounded:

* gender: about 51 % female (US Census Bureau, 2020 Census; the census asks sex, female or
  male);
* age: 21.6 % of adults are 65 or older (2020 Census: 55.8 million of 258.3 million adults);
  the sampler draws whole years uniformly within 18-64 and 65-84 (a simplification: it has no
  one above 84 and no finer age structure);
* education: about 91 % of adults 25 and over finished high school and about 38 % hold a
  bachelor's degree or more (US Census Bureau, Current Population Survey 2021-2022), so 9 %
  "less than high school", 53 % "high school or some college" (associate degrees included) and
  38 % "bachelor's degree or higher"; the shares of adults 25+ are applied to everyone 18+.

The three are drawn independently (no joint structure, e.g. no age x education correlation),
and every person lives in "the United States". Income and occupation are not drawn: we state
no numbers we are not sure of."""

CHILD_AGES = (2, 3, 4, 5, 6, 7, 8)
"""Ages :func:`sample_children` draws uniformly, the marshmallow study's age axis (a design
choice: Mischel's preschoolers were about 3 to 5, the paper's personas span 2 to 8)."""


def _pick(shares: Mapping[str, float], n: int, rng: np.random.Generator) -> list[str]:
    keys = list(shares)
    p = np.array([shares[k] for k in keys], dtype=float)
    return [keys[i] for i in rng.choice(len(keys), size=n, p=p / p.sum())]


def _check_size(size: int, name: str) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_POPULATION:
        raise ConfigError(f"--population-size must be from 1 to {MAX_POPULATION:,} people "
                          f"({name}); got {size!r}")


def sample_adults(size: int, *, rng: np.random.Generator) -> list[Person]:
    """``size`` US adults drawn independently from :data:`ADULT_MARGINALS` (ids ``a1`` ...)."""
    _check_size(size, "builtin:adults")
    gender = _pick(ADULT_MARGINALS["gender"], size, rng)
    bands = _pick(ADULT_MARGINALS["age_band"], size, rng)
    education = _pick(ADULT_MARGINALS["education"], size, rng)
    ages = [int(rng.integers(18, 65)) if b == "18-64" else int(rng.integers(65, 85))
            for b in bands]
    width = len(str(size))
    return [Person(f"a{i + 1:0{width}d}", {"age": float(ages[i]), "gender": gender[i],
                                           "country": "the United States",
                                           "education": education[i]})
            for i in range(size)]


def sample_children(size: int, *, rng: np.random.Generator) -> list[Person]:
    """``size`` children: age uniform over :data:`CHILD_AGES`, gender 50/50 (design choices)."""
    _check_size(size, "builtin:children")
    ages = rng.choice(CHILD_AGES, size=size)
    gender = _pick({"female": 0.5, "male": 0.5}, size, rng)
    width = len(str(size))
    return [Person(f"c{i + 1:0{width}d}", {"age": float(ages[i]), "gender": gender[i]})
            for i in range(size)]


BUILTINS = {"adults": sample_adults, "children": sample_children}


def add_placebo_traits(population: Population, *, seed: int) -> Population:
    """The same people with the placebo traits drawn (seeded), replacing any they had.

    Shoe size: whole EU sizes uniform on 36-46; favourite colour: uniform over :data:`COLOURS`
    (both design choices). The result has its own digest and source ``<source>+placebo``.
    """
    rng = np.random.default_rng(seed)
    sizes = rng.integers(36, 47, size=len(population.people))
    colours = rng.choice(len(COLOURS), size=len(population.people))
    people = tuple(Person(p.id, {**{k: v for k, v in p.traits.items()
                                    if k not in PLACEBO_TRAITS},
                                 "shoe_size": float(sizes[i]),
                                 "favourite_colour": COLOURS[colours[i]]})
                   for i, p in enumerate(population.people))
    rows = [{"id": p.id, **p.traits} for p in people]
    return Population(people, f"{population.source}+placebo", _digest(rows))


# -- the text and the encoding ----------------------------------------------------------------
def _details(traits: Mapping[str, Value]) -> str:
    parts = [f"{name}: {traits[name]}" for name in ("education", "occupation") if name in traits]
    if "income" in traits:
        parts.append(f"household income: ${float(traits['income']):,.0f} a year")
    scores = [f"{b} {float(traits[b]):g}" for b in _BIG_FIVE if b in traits]
    if scores:
        parts.append("personality on a 1-5 scale: " + ", ".join(scores))
    if "shoe_size" in traits:
        parts.append(f"shoe size: EU {float(traits['shoe_size']):g}")
    if "favourite_colour" in traits:
        parts.append(f"favourite colour: {traits['favourite_colour']}")
    return f" ({'; '.join(parts)})" if parts else ""


def _article(word: str) -> str:
    """``an`` before a vowel sound (``an 8-year-old``, ``an 18-year-old``), else ``a``."""
    return "an" if word[0] in "aeiou8" or word.startswith(("11-", "18-")) else "a"


def profile(traits: Mapping[str, Value]) -> str:
    """An adult's traits as a noun phrase, the shared part of every study's template.

    ``a 34-year-old woman from the United States (education: bachelor's degree; occupation:
    nurse; household income: $55,000 a year; personality on a 1-5 scale: openness 4, ...)``;
    each part only when the trait is given (``a person`` when none is).
    """
    noun = {"female": "woman", "male": "man"}.get(str(traits.get("gender")), "person")
    age = f"{int(float(traits['age']))}-year-old " if "age" in traits else ""
    article = _article(age or noun)
    country = f" from {traits['country']}" if "country" in traits else ""
    return f"{article} {age}{noun}{country}{_details(traits)}"


def child_profile(age: int, traits: Mapping[str, Value]) -> str:
    """A child of ``age``: ``a 5-year-old girl from Germany`` (``child`` without a gender)."""
    noun = {"female": "girl", "male": "boy"}.get(str(traits.get("gender")), "child")
    article = _article(f"{age}-")
    country = f" from {traits['country']}" if "country" in traits else ""
    return f"{article} {age}-year-old {noun}{country}{_details(traits)}"


class TraitEncoding:
    """How a population's traits enter the policy's input (see the module docstring).

    Args:
        people_traits: The traits of every persona of the population (axis traits removed).
    """

    def __init__(self, people_traits: Sequence[Mapping[str, Value]]) -> None:
        present = [t for t in TRAITS if any(t in p for p in people_traits)]
        self.columns: list[tuple[str, str | None]] = []
        for name in present:
            if TRAITS[name].kind == "number":
                self.columns.append((name, None))
            else:
                values = sorted({str(p[name]) for p in people_traits if name in p})
                if len(values) > 1:
                    self.columns.extend((name, v) for v in values)

    def names(self) -> list[str]:
        """Feature names: ``trait.age``, ``trait.gender=female``, ..."""
        return [f"trait.{n}" if v is None else f"trait.{n}={v}" for n, v in self.columns]

    def vector(self, traits: Mapping[str, Value]) -> list[float]:
        """The features of one persona's traits (a missing trait: 0)."""
        out = []
        for name, value in self.columns:
            if value is None:
                out.append(TRAITS[name].scaled(float(traits[name])) if name in traits else 0.0)
            else:
                out.append(1.0 if str(traits.get(name)) == value else 0.0)
        return out


# -- people as a study's personas -------------------------------------------------------------
def check_axis(people: Sequence[Person], *, trait: str, low: float, high: float, source: str,
               study: str, hint: str) -> None:
    """Refuse a person whose ``trait`` (the study's axis) lies outside ``[low, high]``."""
    for n, person in enumerate(people, start=1):
        value = person.traits.get(trait)
        if value is not None and not low <= float(value) <= high:
            raise ConfigError(f"{source} row {n}, column {trait!r}: {float(value):g} is outside "
                              f"{study}'s range {low:g} to {high:g}; {hint}")


def population_option(study: str, value: Any) -> tuple[Person, ...]:
    """The people of a study's ``population`` option (rows as :meth:`Population.rows`)."""
    if value is None:
        return ()
    return parse_people(value, source=f"study option {study}.population")


def personas_of(people: Sequence[Person], *, axis: str | None,
                defaults: Sequence[tuple[str, float]],
                build: Any) -> dict[str, Any]:
    """One persona per person, or per person x axis value when the person lacks ``axis``.

    ``build(name, axis_value, traits)`` makes the persona (``axis_value`` is ``None`` for a
    study without an axis); ``traits`` leave out every axis trait. A crossed persona is named
    ``<id>/<default persona>`` (``a001/gpa-3.0``), one that brings its own value ``<id>``.
    ``defaults`` are (default persona name, axis value) pairs.
    """
    personas: dict[str, Any] = {}
    for person in people:
        traits = {k: v for k, v in person.traits.items()
                  if k not in AXIS_TRAITS and k != axis}
        if axis is None:
            made = [build(person.id, None, traits)]
        elif axis in person.traits:
            made = [build(person.id, float(person.traits[axis]), traits)]
        else:
            made = [build(f"{person.id}/{label}", value, traits) for label, value in defaults]
        personas.update((p.name, p) for p in made)
    return personas
