"""Each study's headline statistic, computed from elicited rows, with a bootstrap interval.

The controls compare one number per study across conditions (no persona, a rational
economist, placebo traits, a disguised framing). The number is read from the demonstrations
themselves, not from a trained policy, so that a control condition costs only its calls:

* ``ultimatum``: pooled P(reject | offer <= 20 %) (the band of HUMAN_DATA 1: 0.40-0.75);
* ``marshmallow``: P(full wait), the product over the minutes of P(wait | minute), averaged
  over personas (a minute no sampled episode reached counts as no one waiting on), with the
  reliable adult where version 2 also asks with an unreliable one;
* ``double_or_nothing``: P(gamble) at round 0, averaged over win chances and personas;
* ``procrastination``: the expected share of the work sessions done on the last two days
  (HUMAN_DATA 4: 52 % of OULAD submissions in the last two days), under one final deadline
  where version 2 also asks with evenly spaced ones;
* any other game: the mean P(first action) over its states (the generic fallback).

Actions are read by position (a disguised framing may rename them but keeps their order).

**Interval.** Every elicited row is an observation of its cell (persona x state): a
choice-probs row (one wording x option order) contributes its distribution, a sampled row one
one-hot observation per parsed draw. A bootstrap replicate resamples the observations within
every cell (the model's own variability over wordings, orders and draws) and recomputes the
statistic; the interval is the 2.5 and 97.5 percentiles.

With a population (``by_people=True``: the personas are people drawn from a population, not
the study's fixed design points) a replicate first resamples the *people* with replacement
(a person crossed with the study's axis, ``ann/gpa-2.0`` ... ``ann/gpa-4.0``, is drawn whole),
then the observations within the cells: the two-stage bootstrap of a population mean, whose
interval carries the spread between people as well as each one's own noise (a deterministic
model asked once per cell has no within-cell noise at all, and the within-cell bootstrap alone
gave it a zero-width interval). A person drawn twice reuses one within-cell resample (a
simplification; the people stage dominates when cells hold few observations).

**Differences.** Two conditions asked of the same people (the run and its disguise) are
*paired*: the people draws come from ``people_seed`` and the people's order, so with the same
seed both conditions resample the same people in every replicate, and the difference of their
replicates is the paired bootstrap replicate of the difference (:func:`difference`). Conditions
without shared people (the economist, one persona) are resampled independently.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..experiments.core import Experiment, state_key

__all__ = ["Estimate", "Headline", "Cells", "cells_of", "headline", "estimate", "difference",
           "people_groups", "cached_state_key", "HEADLINES"]

EPS = 1e-9
"""Differences smaller than this are rounding error, not effects."""

Means = Mapping[tuple[str, str], np.ndarray]
"""(persona name, state key) -> mean action distribution of that cell."""


@dataclass(frozen=True)
class Estimate:
    """A statistic with its bootstrap replicates.

    Attributes:
        value: The point estimate (NaN when the cells do not define it).
        reps: Bootstrap replicates (NaN ones are ignored by the interval).
        n: Observations behind it (rows for choice-probs, parsed draws for sample).
    """

    value: float
    reps: np.ndarray
    n: int

    @property
    def interval(self) -> tuple[float, float]:
        """The 95 % percentile interval of the replicates (NaN, NaN when undefined)."""
        good = self.reps[np.isfinite(self.reps)]
        if not math.isfinite(self.value) or good.size == 0:
            return (math.nan, math.nan)
        lo, hi = np.percentile(good, [2.5, 97.5])
        return (float(lo), float(hi))

    def excludes_zero(self) -> bool:
        """Whether the 95 % interval lies wholly on one side of 0 (beyond rounding error)."""
        lo, hi = self.interval
        return bool(lo > EPS or hi < -EPS)

    def to_dict(self) -> dict[str, Any]:
        """``{"value", "interval", "n"}`` for ``summary.json``."""
        lo, hi = self.interval
        return {"value": _num(self.value), "interval": [_num(lo), _num(hi)], "n": self.n}


def _num(x: float) -> float | None:
    return round(float(x), 4) if math.isfinite(x) else None


@dataclass
class Cells:
    """The observations of one condition, by cell (see the module docstring)."""

    experiment: Experiment
    personas: list[str]
    states: dict[str, Any]
    obs: dict[tuple[str, str], np.ndarray]
    _packed: dict[int, tuple[list[tuple[str, str]], np.ndarray]] | None = field(
        default=None, init=False, repr=False, compare=False)
    _masks: dict[frozenset[str], dict[int, tuple[list[tuple[str, str]], np.ndarray]]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    @property
    def n(self) -> int:
        """Observations in all cells."""
        return int(sum(len(v) for v in self.obs.values()))

    def means(self) -> dict[tuple[str, str], np.ndarray]:
        """The mean distribution of every cell."""
        return {k: v.mean(axis=0) for k, v in self.obs.items()}

    def _groups(self) -> dict[int, tuple[list[tuple[str, str]], np.ndarray]]:
        """The cells by number of observations: their keys and one stacked array each."""
        if self._packed is None:
            keys: dict[int, list[tuple[str, str]]] = {}
            for key, values in self.obs.items():
                keys.setdefault(len(values), []).append(key)
            self._packed = {n: (ks, np.stack([self.obs[k] for k in ks])) for n, ks in keys.items()}
        return self._packed

    def resampled(self, rng: np.random.Generator,
                  only: set[str] | None = None) -> dict[tuple[str, str], np.ndarray]:
        """One bootstrap replicate of :meth:`means` (of the personas ``only``, all by default).

        A cell of one observation is its own replicate (no draw is spent on it); the cells of
        ``n`` observations are redrawn together, one array of indices per replicate.
        """
        groups = self._groups()
        if only is not None:
            chosen = frozenset(only)
            if chosen not in self._masks:
                self._masks[chosen] = {}
                for n, (ks, values) in groups.items():
                    keep = np.array([k[0] in chosen for k in ks], dtype=bool)
                    self._masks[chosen][n] = ([k for k, m in zip(ks, keep, strict=True) if m],
                                              values[keep])
            groups = self._masks[chosen]
        out: dict[tuple[str, str], np.ndarray] = {}
        for n, (keys, values) in groups.items():
            if n == 1:
                drawn = values[:, 0]
            else:
                pick = rng.integers(n, size=(len(keys), n))
                drawn = np.take_along_axis(values, pick[:, :, None], axis=1).mean(axis=1)
            out.update(zip(keys, drawn, strict=True))
        return out


def cells_of(experiment: Experiment, rows: Sequence[Any], personas: Sequence[str]) -> Cells:
    """The observations of elicited ``rows`` (:class:`~subrational.elicitation.DemoRow`)."""
    n = len(experiment.actions)
    obs: dict[tuple[str, str], list[np.ndarray]] = {}
    states: dict[str, Any] = {}
    for row in rows:
        key = state_key(row.state)
        states[key] = row.state
        if row.method == "sample":
            counts = np.asarray(row.counts or [0] * n, dtype=int)
            got = [np.eye(n)[a] for a in range(n) for _ in range(int(counts[a]))]
        elif row.status == "ok":
            got = [np.asarray(row.probs, dtype=float)]
        else:
            got = []
        if got:
            obs.setdefault((row.persona, key), []).extend(got)
    return Cells(experiment, list(personas), states, {k: np.array(v) for k, v in obs.items()})


@dataclass(frozen=True)
class Headline:
    """A study's headline statistic: its label and how it is read from the cell means."""

    label: str
    fn: Callable[[Experiment, Means, Sequence[str]], float]


_cached_key = functools.lru_cache(maxsize=1 << 16)(state_key)


def cached_state_key(state: Any) -> str:
    """:func:`state_key`, memoised: a replicate reads every cell (an unhashable state is not)."""
    try:
        return _cached_key(state)
    except TypeError:
        return state_key(state)


def _p(means: Means, persona: str, state: Any, action: int) -> float | None:
    got = means.get((persona, cached_state_key(state)))
    return None if got is None else float(got[action])


def _mean(values: list[float | None]) -> float:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(vals)) if vals else math.nan


def _ultimatum(exp: Experiment, means: Means, personas: Sequence[str]) -> float:
    return _mean([_p(means, p, s, 1) for p in personas for s in exp.states()
                  if s.offer <= 0.2 + 1e-9])


def _classic(exp: Experiment) -> list[Any]:
    """The classic condition's states: the reliable adult, the one final deadline (version 2)."""
    return [s for s in exp.states() if getattr(s, "reliable", True) is True
            and getattr(s, "spaced", False) is False]


def _marshmallow(exp: Experiment, means: Means, personas: Sequence[str]) -> float:
    values = []
    for p in personas:
        survive = 1.0
        for s in sorted(_classic(exp), key=lambda s: s.minute):
            wait = _p(means, p, s, 1)
            survive *= 0.0 if wait is None else wait  # unreached: nobody waited this long
        values.append(survive)
    return _mean(values)


def _double(exp: Experiment, means: Means, personas: Sequence[str]) -> float:
    return _mean([_p(means, p, s, 1) for p in personas for s in exp.states() if s.round == 0])


def _procrastination(exp: Experiment, means: Means, personas: Sequence[str]) -> float:
    grid = {(s.day, s.done): s for s in _classic(exp)}
    deadline = int(getattr(exp, "deadline", max(d for d, _ in grid)))
    sessions = int(getattr(exp, "sessions", max(k for _, k in grid) + 1))
    values = []
    for p in personas:
        dist, late_work = {0: 1.0}, 0.0
        for day in range(1, deadline + 1):
            nxt: dict[int, float] = {}
            for done, mass in dist.items():
                state = grid.get((day, done))
                work = _p(means, p, state, 0) if done < sessions and state is not None else 0.0
                work = 0.0 if work is None else work
                nxt[done + 1] = nxt.get(done + 1, 0.0) + mass * work
                nxt[done] = nxt.get(done, 0.0) + mass * (1 - work)
                if day >= deadline - 1:
                    late_work += mass * work
            dist = nxt
        values.append(late_work / sessions)
    return _mean(values)


def _generic(exp: Experiment, means: Means, personas: Sequence[str]) -> float:
    return _mean([_p(means, p, s, 0) for p in personas for s in exp.states()])


FIELDS = {"ultimatum": ("offer",), "marshmallow": ("minute",), "double_or_nothing": ("round",),
          "procrastination": ("day", "done")}
"""The state fields each built-in headline reads (a study whose states lack them, e.g. after
a redesign, gets the generic statistic rather than an error)."""

HEADLINES: dict[str, Headline] = {
    "ultimatum": Headline("P(reject | offer <= 20 %)", _ultimatum),
    "marshmallow": Headline("P(full wait)", _marshmallow),
    "double_or_nothing": Headline("P(gamble at round 0)", _double),
    "procrastination": Headline("share of work on the last two days", _procrastination),
}
"""The built-in studies' headline statistics, by study name (module docstring)."""


def headline(experiment: Experiment) -> Headline:
    """The headline statistic of ``experiment`` (the generic one for a game of one's own)."""
    found = HEADLINES.get(experiment.name)
    first = experiment.states()[0]
    if found is not None and all(hasattr(first, f) for f in FIELDS[experiment.name]):
        return found
    return Headline(f"mean P({experiment.actions[0]}) over states", _generic)


def people_groups(personas: Sequence[str]) -> list[list[str]]:
    """Persona names grouped by person (``ann/gpa-2.0`` and ``ann/gpa-4.0`` are ``ann``)."""
    groups: dict[str, list[str]] = {}
    for name in personas:
        groups.setdefault(name.split("/", 1)[0], []).append(name)
    return list(groups.values())


def estimate(cells: Cells, *, personas: Sequence[str] | None = None, n_boot: int,
             seed: int, fn: Headline | None = None, by_people: bool = False,
             people_seed: int | None = None) -> Estimate:
    """The headline statistic of ``cells`` (over ``personas``, all by default), bootstrapped.

    ``by_people`` resamples people first (a population, module docstring) with draws seeded by
    ``people_seed`` (``seed`` when not given): give two conditions of the same people the same
    ``people_seed`` to pair them.
    """
    spec = fn or headline(cells.experiment)
    who = list(personas if personas is not None else cells.personas)
    point = spec.fn(cells.experiment, cells.means(), who)
    rng = np.random.default_rng(seed)
    groups = people_groups(who) if by_people else []
    if len(groups) > 1:
        people = np.random.default_rng([people_seed if people_seed is not None else seed,
                                        len(groups)])
        picks = people.integers(len(groups), size=(n_boot, len(groups)))
        mine = set(who)
        reps = np.array([spec.fn(cells.experiment, cells.resampled(rng, mine),
                                 [name for i in pick for name in groups[i]]) for pick in picks])
    else:
        reps = np.array([spec.fn(cells.experiment, cells.resampled(rng), who)
                         for _ in range(n_boot)])
    n = sum(len(v) for (p, _), v in cells.obs.items() if p in who)
    return Estimate(point, reps, n)


def difference(a: Estimate, b: Estimate) -> Estimate:
    """``a - b``: paired when both drew the same people, else independent (module docstring)."""
    return Estimate(a.value - b.value, a.reps - b.reps, a.n + b.n)
