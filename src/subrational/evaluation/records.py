"""Records an experiment's analysis returns: curves to plot, findings checked, metrics.

They are plain frozen dataclasses so that the report, ``summary.json`` and ``compare`` all read the
same things; :func:`to_jsonable` turns them into JSON-safe dicts.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Curve", "Finding", "Analysis", "to_jsonable", "DEMONSTRATIONS", "POLICY",
           "LEARNED_SOURCES", "PER_PERSONA", "ORIGINS", "PAPER_CLAIM", "HUMAN_BAND",
           "DESIGN_CHOICE", "CONFIRM", "CONSISTENT", "TESTS", "threshold_origin",
           "band_finding", "POPULATION_MEAN"]

DEMONSTRATIONS = "demonstrations"
"""Source name of the LLM's own answers (a lookup policy over the demonstrations)."""
POLICY = "policy"
"""Source name of the network learned from them by imitation."""
LEARNED_SOURCES = (DEMONSTRATIONS, POLICY)
"""The two sources findings are checked on; every other source is a baseline."""
POPULATION_MEAN = "population mean"
"""The persona name of a curve that is already a population's mean of its people's curves (the
figures draw it bold over the people's thin lines instead of averaging again)."""
PER_PERSONA = "per_persona"
"""Key of the per-persona statistics in :attr:`Analysis.metrics`."""
PAPER_CLAIM, HUMAN_BAND, DESIGN_CHOICE = "paper claim", "human band", "design choice"
ORIGINS = (PAPER_CLAIM, HUMAN_BAND, DESIGN_CHOICE)
CONFIRM, CONSISTENT = "confirm", "consistent"
TESTS = (CONFIRM, CONSISTENT)
"""How a check is decided on the LLM's variability (see :class:`Finding`)."""
"""Where a check comes from: a claim of the paper (only where its wording is known), a band of
human numbers with their citation, or a threshold of our own design, shown as such."""
_KIND_OF_ORIGIN = {PAPER_CLAIM: "paper", HUMAN_BAND: "human band", DESIGN_CHOICE: "design choice"}
_ORIGIN_OF_KIND = {"paper": PAPER_CLAIM, "claim": PAPER_CLAIM, "human band": HUMAN_BAND,
                   "design choice": DESIGN_CHOICE}


@dataclass(frozen=True)
class Curve:
    """One line of a behaviour plot.

    Attributes:
        panel: Which plot it belongs to (curves with the same panel share axes).
        label: Legend text.
        source: ``"demonstrations"``, ``"policy"``, ``"human"`` or ``"baseline"`` (sets the style).
        persona: Persona name, or ``""`` for population curves.
        x: Abscissae.
        y: Values (probabilities, shares).
        y_low: Optional lower band (confidence interval), same length as ``y``.
        y_high: Optional upper band.
        xlabel: Axis label.
        ylabel: Axis label.
        band_label: Legend text of the band (a 95 % CI, a tolerance across studies, ...).
    """

    panel: str
    label: str
    source: str
    persona: str
    x: Sequence[float]
    y: Sequence[float]
    y_low: Sequence[float] | None = None
    y_high: Sequence[float] | None = None
    xlabel: str = ""
    ylabel: str = ""
    band_label: str = ""


@dataclass(frozen=True)
class Finding:
    """A claim (of the paper, or of one's own study) or a human band, checked on one source.

    Attributes:
        claim: The finding in words.
        source: Whose behaviour was checked (``demonstrations``, ``policy``, a baseline name).
        statistic: The number the check is made on.
        criterion: The threshold in words, e.g. ``"> 0.5"``.
        reproduced: Whether the statistic meets the criterion (``None`` when undefined).
        kind: ``"paper"`` for a published finding the study reproduces (the built-in studies:
            Coletta et al. 2024), ``"claim"`` for a claim of one's own study, ``"human band"``
            for a check against the study's human reference numbers, ``"design choice"`` for a
            check on a threshold of our own. The scorecard counts the first two as claims and
            the last two as bands; any other kind is shown, not counted. Set from ``origin``
            when only that is given (summaries written before ``origin`` existed have ``kind``
            only, which is why the scorecard reads ``kind``).
        origin: Where the check comes from, one of :data:`ORIGINS` (derived from ``kind`` when
            not given).
        source_ref: The citation behind the check and its threshold, or ``"design choice"``
            (with the cited number the design choice is built around, if any).
        direction: ``"persona"`` or ``"state"`` for a check of a direction over personas or
            states (e.g. "waiting rises with age"), which is always a claim to confirm; ``""``
            otherwise.
        test: How the check is decided on the LLM's variability: ``"confirm"`` (the model
            must show it with 95 % confidence: paper claims and directions over personas or
            states) or ``"consistent"`` (it passes unless it fails with 95 % confidence: a
            level or tolerance against a human band or a threshold of our own, e.g. "few
            reports are late"). Derived from ``origin`` and ``direction`` when not given.

    The rest is set by :func:`~subrational.evaluation.uncertainty.assess` (absent in
    summaries written before it existed):

    Attributes:
        interval: 95 % bootstrap interval of ``statistic`` over the LLM's own variability.
        p_holds: Share of bootstrap replicates in which the check holds.
        p_value: Holm-adjusted bootstrap p-value of a claim.
        draws: How many units (draws, episodes, blocks) the replicates resample.
        resampled: What the replicates resample.
        n_boot: Bootstrap replicates behind ``interval`` and ``p_holds``.
        replicates: The check in each replicate: ``1`` holds, ``0`` fails, ``-`` undefined.
        point_reproduced: The check decided on the point estimate alone.
        agreement: How often the check, re-run on the answers of one wording (one option
            order) alone, decides as on all answers: ``{"wording": [agree, n], "order": [...]}``.
        failure_bound: The statistic's range when every unparseable answer is taken as one
            action, then as another (``[low, high]``; sample method).
        failure_robust: Whether the check decides the same in all those worlds (``None``:
            undefined in one of them).
        outcome: How it was decided: ``confirmed`` / ``undecided`` / ``refuted`` (claims),
            ``inside`` / ``consistent`` / ``outside`` (level checks), ``exact: holds`` /
            ``exact: fails`` (no data behind the source), ``not assessed``.
    """

    claim: str
    source: str
    statistic: float | None
    criterion: str
    reproduced: bool | None
    kind: str = "paper"
    origin: str = ""
    source_ref: str = ""
    direction: str = ""
    test: str = ""
    interval: tuple[float, float] | None = None
    p_holds: float | None = None
    p_value: float | None = None
    draws: int | None = None
    resampled: str = ""
    n_boot: int = 0
    replicates: str = ""
    point_reproduced: bool | None = None
    agreement: dict[str, list[int]] | None = None
    failure_bound: tuple[float | None, float | None] | None = None
    failure_robust: bool | None = None
    outcome: str = ""

    def __post_init__(self) -> None:
        if not self.origin:
            object.__setattr__(self, "origin", _ORIGIN_OF_KIND.get(self.kind, self.kind))
        elif self.kind == "paper" and self.origin in _KIND_OF_ORIGIN:
            object.__setattr__(self, "kind", _KIND_OF_ORIGIN[self.origin])
        if not self.source_ref and self.origin == DESIGN_CHOICE:
            object.__setattr__(self, "source_ref", DESIGN_CHOICE)
        if not self.test:
            object.__setattr__(self, "test", CONFIRM if self.origin == PAPER_CLAIM
                               or self.direction else CONSISTENT)
        if self.test not in TESTS:
            raise ValueError(f"Finding.test must be one of {TESTS}; got {self.test!r}")


def threshold_origin(bands: Mapping[str, Any], *keys: str) -> tuple[str, str]:
    """(origin, source_ref) of a check built on the thresholds ``keys`` of a ``bands`` block.

    Each threshold is tagged in ``bands["thresholds"][key]`` with its ``origin`` (``"human
    band"``: a number from a cited source, or ``"design choice"``) and ``source_ref``. A check
    is a design choice as soon as one of its thresholds is. Untagged thresholds (a study's own
    ``human.json`` without tags) count as human bands citing the block's ``source``.
    """
    tags = bands.get("thresholds", {})
    found = [tags.get(k, {}) for k in keys]
    origin = DESIGN_CHOICE if any(t.get("origin") == DESIGN_CHOICE for t in found) \
        else HUMAN_BAND
    refs = list(dict.fromkeys(str(t.get("source_ref") or bands.get("source", ""))
                              for t in found))
    return origin, "; ".join(r for r in refs if r)


def band_finding(claim: str, source: str, statistic: float | None, criterion: str,
                 reproduced: bool | None, bands: Mapping[str, Any], *keys: str,
                 direction: str = "", test: str = "") -> Finding:
    """A human-band or design-choice check, tagged from its thresholds' tags in ``bands``."""
    origin, ref = threshold_origin(bands, *keys)
    return Finding(claim, source, statistic, criterion, reproduced, origin=origin,
                   source_ref=ref, direction=direction, test=test)


@dataclass(frozen=True)
class Analysis:
    """Everything an experiment's evaluation produced.

    Attributes:
        curves: Behaviour curves for the figures.
        findings: Checked claims and bands.
        metrics: Named numbers, JSON-safe: study-wide ones (``distance_to_humans``) and, under
            ``per_persona``, ``{source: {persona: {statistic: value}}}``.
        notes: Plain-language remarks for the report.
    """

    curves: list[Curve] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def per_persona(self, source: str) -> dict[str, Any]:
        """``metrics["per_persona"][source]``: persona name -> that persona's statistics."""
        return self.metrics.setdefault(PER_PERSONA, {}).setdefault(source, {})


def to_jsonable(obj: Any) -> Any:
    """Dataclasses, numpy scalars and NaN to plain JSON (NaN and inf become ``None``)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "tolist"):
        return to_jsonable(obj.tolist())
    if isinstance(obj, float):
        return round(obj, 6) if math.isfinite(obj) else None
    return obj
