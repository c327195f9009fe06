"""The human-likeness leaderboard: per study, the models of a run ranked by distance to humans.

A row is one model's scorecard for one study (``summary.json``'s ``scorecard``): the study's
own distance to humans (its measure is named in the study's metrics, e.g. the mean absolute
gap of the acceptance curve for the ultimatum game) with its bootstrap interval, the verdict,
the paper's claims confirmed and refuted out of those checked, and the human bands passed.
Rows are sorted by that distance, smallest first; a model without one (the study computed
none, or a gate failed) comes last, unranked, in the order given. A row whose interval overlaps
the leader's is marked: the data do not separate the two, and the ranking between them is not
a finding (decided on the intervals, per the house rule).

Only the rows are computed here (:func:`leaderboards`, a pure function of the summaries); the
comparison page (:func:`~subrational.reporting.compare.write_comparison`) renders them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["LeaderboardRow", "Leaderboard", "leaderboards"]

_DEMOS = "demonstrations"


@dataclass(frozen=True)
class LeaderboardRow:
    """One model's standing on one study.

    Attributes:
        rank: 1 for the model closest to humans; None when the model has no distance.
        model: The run's model string (``backend:name``).
        run: Index of the run in the list given (its colour on the page).
        distance: Distance of the LLM's own answers (demonstrations) to humans; None if absent.
        interval: Its 95 % bootstrap interval ``(low, high)``, or None when not computed.
        policy_distance: The learned policy's distance to humans, or None.
        overlaps_leader: Whether the interval overlaps the leader's (None for the leader and
            for rows without an interval).
        verdict: The scorecard's verdict (``human-like``, ``partly``, ``not human-like``, ...).
        verdict_probability: Share of bootstrap replicates with that verdict, or None.
        claims_confirmed: Paper claims (or a study's own claims) reproduced by the
            demonstrations.
        claims_refuted: Claims the demonstrations contradict.
        claims_checked: Claims checked.
        bands_passed: Human bands the demonstrations fall inside.
        bands_checked: Human bands checked.
        controls: The controls' word for this model (``simulation``, ``recall``,
            ``stereotyping``, ``no behaviour``, ``undecided``, ``no disguise``), ``not run`` without
            ``--controls``.
    """

    rank: int | None
    model: str
    run: int
    distance: float | None
    interval: tuple[float, float] | None
    policy_distance: float | None
    overlaps_leader: bool | None
    verdict: str
    verdict_probability: float | None
    claims_confirmed: int
    claims_refuted: int
    claims_checked: int
    bands_passed: int
    bands_checked: int
    controls: str = "not run"


@dataclass(frozen=True)
class Leaderboard:
    """The rows of one study, best first.

    Attributes:
        study: The study's versioned id (``ultimatum-v2``).
        title: Its title.
        measure: What its distance measures (from the study's metrics), or None.
        rows: One row per model that ran the study, ranked.
    """

    study: str
    title: str
    measure: str | None
    rows: tuple[LeaderboardRow, ...]


def _row(run: int, model: str, exp: Mapping[str, Any]) -> LeaderboardRow:
    card = exp.get("scorecard", {})
    distance = card.get("distance_to_humans", {})
    interval = distance.get(f"{_DEMOS}_interval")
    claims = card.get("paper_findings", {}).get(_DEMOS, {})
    bands = card.get("human_bands", {}).get(_DEMOS, {})
    return LeaderboardRow(
        rank=None, model=model, run=run, distance=distance.get(_DEMOS),
        interval=tuple(interval) if interval else None, policy_distance=distance.get("policy"),
        overlaps_leader=None, verdict=card.get("verdict", "n/a"),
        verdict_probability=card.get("verdict_probability"),
        claims_confirmed=claims.get("reproduced", 0), claims_refuted=card.get("claims_refuted", 0),
        claims_checked=claims.get("checked", 0), bands_passed=bands.get("passed", 0),
        bands_checked=bands.get("checked", 0), controls=card.get("controls", "not run"))


def _ranked(rows: list[LeaderboardRow]) -> tuple[LeaderboardRow, ...]:
    scored = sorted((r for r in rows if r.distance is not None),
                    key=lambda r: r.distance if r.distance is not None else 0.0)
    unscored = [r for r in rows if r.distance is None]
    if not scored:
        return tuple(unscored)
    lead = scored[0].interval
    ranked = []
    for rank, row in enumerate(scored, start=1):
        overlaps = None if rank == 1 or lead is None or row.interval is None else (
            row.interval[0] <= lead[1])
        ranked.append(replace(row, rank=rank, overlaps_leader=overlaps))
    return (*ranked, *unscored)


def leaderboards(summaries: Sequence[Mapping[str, Any]]) -> list[Leaderboard]:
    """One leaderboard per study, in order of first appearance, from the runs' summaries.

    Args:
        summaries: Each run's ``summary.json`` (one run per model), in the order of the page.

    Returns:
        The leaderboards; a study a run did not include has no row for that run.
    """
    rows: dict[str, list[LeaderboardRow]] = {}
    titles: dict[str, str] = {}
    measures: dict[str, str | None] = {}
    for i, summary in enumerate(summaries):
        for exp_id, exp in summary["experiments"].items():
            titles.setdefault(exp_id, exp.get("title", exp_id))
            measure = exp.get("metrics", {}).get("distance_to_humans", {}).get("measure")
            if measures.get(exp_id) is None:
                measures[exp_id] = measure
            rows.setdefault(exp_id, []).append(_row(i, summary["model"], exp))
    return [Leaderboard(study=s, title=titles[s], measure=measures[s], rows=_ranked(r))
            for s, r in rows.items()]
