"""Population-level results: each person's outcomes, their distribution, and its spread.

A study with a population (``--population``) measures every persona (a person, or a person at
one value of the study's axis) by its study's ``person_measures`` (``studies/<s>/people.py``):
one :class:`PersonOutcome` per persona and source, each outcome an expectation over the
persona's own randomness, with that randomness as a variance where it is defined. From those:

* **statistics** of the population (the study's own function: the share who never reject, the
  median minimum acceptable offer, ...), each with a 95 % percentile interval from a seeded
  bootstrap over *people* (a person's personas are resampled together), next to the human
  number of the study's ``human.json`` block ``population`` with its citation and tag. A
  *share of people* with a yes/no property (``PersonMeasures.shares``: the share who never
  reject) gets at least its Wilson score interval over the number of people: when all 20
  people of a sample answer alike, every bootstrap replicate is 1 and the percentile interval
  [1, 1] would claim the population has no exception; Wilson's [0.84, 1] says what 20 people
  can show (the hull of the two intervals is reported);
* the **distribution** of the main outcome (the mixture of the personas' own distributions);
* **homogenisation**: the between-person standard deviation of each outcome (within each
  value of the study's axis, pooled) against the within-person standard deviation (the model's
  own randomness for one person: the variance of one realisation) and, where ``human.json``
  block ``population_spread`` gives one, against the human between-person SD; ratios with
  bootstrap intervals and a plain sentence decided on the interval.

Heterogeneity (which traits move each outcome) is :mod:`.heterogeneity`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..seeding import derived_rng

__all__ = ["PersonOutcome", "PersonMeasures", "person_id", "bootstrap_people", "with_wilson",
           "statistics_rows", "mixture", "homogenisation", "human_block", "spread_sentence",
           "population_block", "assess_population"]


@dataclass(frozen=True)
class PersonOutcome:
    """One persona of a population and its outcomes for one source.

    Attributes:
        name: The persona's name (``a01`` or ``a01/gpa-3.0``).
        person: The person's id (the name before ``/``): the unit of the bootstrap.
        traits: The person's traits and, under the axis name, the persona's axis value.
        values: Outcome name -> the persona's value (an expectation over its own randomness).
        noise: Outcome name -> variance of one realisation of the outcome for this persona
            (the model's own randomness), where it is defined.
        pmf: The persona's distribution over :attr:`PersonMeasures.support`, or ``None``.
    """

    name: str
    person: str
    traits: Mapping[str, Any]
    values: Mapping[str, float]
    noise: Mapping[str, float] = field(default_factory=dict)
    pmf: np.ndarray | None = None


Statistics = Callable[[Sequence[PersonOutcome]], dict[str, float]]


@dataclass(frozen=True)
class PersonMeasures:
    """What a study's ``person_measures`` returns.

    Attributes:
        outcomes: Source (``demonstrations``, ``policy``) -> one outcome record per persona.
        statistics: Population statistics of some personas (called on bootstrap resamples).
        labels: Outcome and statistic name -> what it is, with its rule (design choices say so).
        support: The values the main outcome's distribution is over (empty: none).
        support_label: What the support is (the figure's x label).
        marks: Statistics whose value lies on the support axis (the figure marks the human one).
        axis: The study's own axis trait (its between-person spread is taken within each value).
        notes: Caveats shown with the results (e.g. "the comparison is approximate").
        shares: Statistics that are the share of personas with a yes/no property (their
            interval is at least the Wilson interval over the people; module docstring).
    """

    outcomes: Mapping[str, Sequence[PersonOutcome]]
    statistics: Statistics
    labels: Mapping[str, str]
    support: Sequence[float] = ()
    support_label: str = ""
    marks: Sequence[str] = ()
    axis: str | None = None
    notes: Sequence[str] = ()
    shares: Sequence[str] = ()


def person_id(persona_name: str) -> str:
    """The person behind a persona: ``a01/gpa-3.0`` -> ``a01``."""
    return persona_name.split("/", 1)[0]


def _by_person(outcomes: Sequence[PersonOutcome]) -> list[list[PersonOutcome]]:
    groups: dict[str, list[PersonOutcome]] = {}
    for o in outcomes:
        groups.setdefault(o.person, []).append(o)
    return list(groups.values())


def bootstrap_people(outcomes: Sequence[PersonOutcome], fn: Callable[[Sequence[PersonOutcome]],
                     Mapping[str, float]], *, n_boot: int,
                     rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    """``fn`` of ``outcomes`` and its 95 % percentile interval over people resampled.

    Returns ``{name: {"value", "interval", "n_boot"}}``; an interval is ``None`` where the
    statistic is undefined in more than half of the replicates.
    """
    point = dict(fn(outcomes))
    people = _by_person(outcomes)
    draws: dict[str, list[float]] = {k: [] for k in point}
    for _ in range(n_boot):
        picked = rng.integers(0, len(people), size=len(people))
        got = fn([o for i in picked for o in people[i]])
        for k in point:
            draws[k].append(float(got.get(k, np.nan)))
    out = {}
    for k, v in point.items():
        arr = np.asarray(draws[k], dtype=float)
        ok = arr[np.isfinite(arr)]
        interval = (None if len(ok) * 2 <= max(n_boot, 1) or not np.isfinite(v)
                    else [float(np.percentile(ok, 2.5)), float(np.percentile(ok, 97.5))])
        out[k] = {"value": float(v), "interval": interval, "n_boot": n_boot}
    return out


def with_wilson(stats: dict[str, dict[str, Any]], shares: Sequence[str], *, people: int) -> None:
    """Widen each share's interval to contain its 95 % Wilson interval over ``people`` (in place).

    The count is the share times the people (a person crossed with an axis counts by the share
    of their personas), so the Wilson interval is over the people, the independent units.
    """
    from statsmodels.stats.proportion import proportion_confint

    for name in shares:
        got = stats.get(name)
        if got is None or people < 1 or not np.isfinite(got["value"]):
            continue
        lo, hi = proportion_confint(got["value"] * people, people, alpha=0.05, method="wilson")
        boot = got["interval"] or [lo, hi]
        got["interval"] = [float(min(boot[0], lo)), float(max(boot[1], hi))]
        got["wilson"] = [float(lo), float(hi)]


def _human_value(entry: Any) -> tuple[float | None, str]:
    """A human statistic of ``human.json``: a number, or ``{"value", "relation"}``."""
    if isinstance(entry, Mapping):
        return float(entry["value"]), str(entry.get("relation", "="))
    return (None, "") if entry is None else (float(entry), "=")


def statistics_rows(stats: Mapping[str, Mapping[str, Any]], labels: Mapping[str, str],
                    human: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """One row per statistic: value, interval, the human number and how they compare.

    ``compare``: ``consistent`` (the human value lies inside the interval, or the relation
    holds for the whole interval), ``above``/``below`` (the interval lies beyond it),
    ``no human number``, or ``no interval``.
    """
    rows = []
    humans = (human or {}).get("statistics", {})
    for name, s in stats.items():
        h, relation = _human_value(humans.get(name))
        row = {"statistic": name, "label": labels.get(name, name), **s, "human": h,
               "relation": relation or None, "compare": _compare(s.get("interval"), h, relation)}
        if h is not None and human is not None:
            row.update(human_source=human.get("source"), tag=human.get("tag"))
        rows.append(row)
    return rows


def _compare(interval: Sequence[float] | None, h: float | None, relation: str) -> str:
    if h is None:
        return "no human number"
    if interval is None:
        return "no interval"
    lo, hi = interval
    if relation == ">":
        return "consistent" if lo > h else ("below" if hi <= h else "undecided")
    if relation == "<":
        return "consistent" if hi < h else ("above" if lo >= h else "undecided")
    return "consistent" if lo <= h <= hi else ("above" if lo > h else "below")


def mixture(outcomes: Sequence[PersonOutcome]) -> np.ndarray | None:
    """The population's distribution of the main outcome: the mean of the personas' own."""
    pmfs = [o.pmf for o in outcomes if o.pmf is not None]
    return np.mean(pmfs, axis=0) if pmfs else None


def _spread(outcomes: Sequence[PersonOutcome], name: str,
            axis: str | None) -> dict[str, float]:
    """Between-person variance (within each axis value, pooled) and mean within variance."""
    groups: dict[Any, list[float]] = {}
    within = []
    for o in outcomes:
        v = o.values.get(name)
        if v is None or not np.isfinite(v):
            continue
        groups.setdefault(o.traits.get(axis) if axis else None, []).append(float(v))
        if name in o.noise and np.isfinite(o.noise[name]):
            within.append(float(o.noise[name]))
    sq = sum(float(np.sum((np.asarray(g) - np.mean(g)) ** 2)) for g in groups.values())
    n = sum(len(g) for g in groups.values())
    between = sq / n if n else np.nan
    w = float(np.mean(within)) if within else np.nan
    return {"between_sd": float(np.sqrt(between)), "within_sd": float(np.sqrt(w)),
            "ratio": float(np.sqrt(between / w)) if w > 0 else np.nan}


def homogenisation(outcomes: Sequence[PersonOutcome], *, labels: Mapping[str, str],
                   axis: str | None, human_spread: Mapping[str, Any] | None, n_boot: int,
                   rng: np.random.Generator) -> list[dict[str, Any]]:
    """Between-person SD vs within-person SD (and vs humans) per outcome, with intervals."""
    names = sorted({k for o in outcomes for k in o.values})
    spread = human_spread or {}
    rows = []
    for name in names:
        has_noise = any(name in o.noise for o in outcomes)
        h_sd = spread.get(name)
        if not has_noise and h_sd is None:
            continue

        def fn(sample: Sequence[PersonOutcome], name: str = name,
               h_sd: Any = h_sd) -> dict[str, float]:
            s = _spread(sample, name, axis)
            if h_sd is not None:
                s["ratio_to_human"] = s["between_sd"] / float(h_sd)
            return s

        stats = bootstrap_people(outcomes, fn, n_boot=n_boot, rng=rng)
        row = {"outcome": name, "label": labels.get(name, name), **stats,
               "human_sd": None if h_sd is None else float(h_sd),
               "human_source": spread.get("source") if h_sd is not None else None}
        row["sentence"] = spread_sentence(row)
        rows.append(row)
    return rows


def spread_sentence(row: Mapping[str, Any]) -> str:
    """The homogenisation verdict in words, decided on the intervals of the ratios."""
    parts = []
    ratio = row.get("ratio", {}).get("interval")
    if ratio is not None:
        lo, hi = ratio
        if hi < 1:
            parts.append("people differ less than one person's own answers vary: the spread "
                         "between people is narrower than the model's own randomness")
        elif lo > 1:
            parts.append("people differ more than one person's own answers vary")
        else:
            parts.append("the spread between people is not told apart from one person's own "
                         "randomness")
    human = row.get("ratio_to_human", {}).get("interval") if row.get("human_sd") else None
    if human is not None:
        lo, hi = human
        parts.append("the population is narrower than humans" if hi < 1 else
                     "the population is wider than humans" if lo > 1 else
                     "the population's spread is not told apart from humans'")
    elif row.get("human_sd") is None:
        parts.append("no human between-person spread is shipped for this outcome")
    return "; ".join(parts) + "." if parts else "no interval."


def human_block(human: Mapping[str, Any], key: str) -> Any:
    """Block ``key`` of a human reference, or ``None`` when it has none."""
    return getattr(human, "data", human).get(key)


def population_block(measures: PersonMeasures, human: Mapping[str, Any], *, n_boot: int,
                     seed: int, heterogeneity: Callable[..., list[dict[str, Any]]],
                     held_out: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``population`` block of a study in ``summary.json`` (see ``SUMMARY_FORMAT``)."""
    ref = human_block(human, "population")
    spread = human_block(human, "population_spread")
    sources = {}
    for source, outcomes in measures.outcomes.items():
        if not outcomes:
            continue
        rng = derived_rng(seed, "population", source)
        stats = bootstrap_people(outcomes, measures.statistics, n_boot=n_boot, rng=rng)
        with_wilson(stats, measures.shares, people=len({o.person for o in outcomes}))
        pmf = mixture(outcomes)
        sources[source] = {
            "statistics": statistics_rows(stats, measures.labels, ref),
            "distribution": None if pmf is None else {"x": list(measures.support),
                                                       "p": pmf.tolist()},
            "values": {o.name: dict(o.values) for o in outcomes},
            "homogenisation": homogenisation(outcomes, labels=measures.labels,
                                             axis=measures.axis, human_spread=spread,
                                             n_boot=n_boot, rng=rng),
        }
    first = next(iter(measures.outcomes.values()), [])
    return {
        "people": len({o.person for o in first}), "personas": len(first),
        "axis": measures.axis, "support_label": measures.support_label,
        "marks": list(measures.marks), "labels": dict(measures.labels),
        "sources": sources, "human": ref, "notes": list(measures.notes),
        "heterogeneity": heterogeneity(measures, human),
        "held_out": held_out,
        "interval": f"95 % percentile interval, {n_boot} bootstrap resamples of people (seeded)",
    }


def assess_population(experiment: Any, study: Any, policies: Mapping[str, Any],
                      personas: Sequence[Any], *, analysis: Any, settings: Any, n_boot: int,
                      seed: int, held_out: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The ``population`` block of a study, or ``None`` without a population or measures."""
    if getattr(experiment, "trait_encoding", None) is None or study.person_measures is None:
        return None
    from .heterogeneity import heterogeneity

    measures = study.person_measures(experiment, policies, personas, settings=settings,
                                     analysis=analysis)
    return population_block(measures, study.human, n_boot=n_boot, seed=seed,
                            heterogeneity=heterogeneity, held_out=held_out)
