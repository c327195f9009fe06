"""Records an experiment's analysis returns: curves to plot, findings checked, metrics.

They are plain frozen dataclasses so that the report, ``summary.json`` and ``compare`` all read the
same things; :func:`to_jsonable` turns them into JSON-safe dicts.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Curve", "Finding", "Analysis", "to_jsonable", "DEMONSTRATIONS", "POLICY",
           "LEARNED_SOURCES", "PER_PERSONA"]

DEMONSTRATIONS = "demonstrations"
"""Source name of the LLM's own answers (a lookup policy over the demonstrations)."""
POLICY = "policy"
"""Source name of the network learned from them by imitation."""
LEARNED_SOURCES = (DEMONSTRATIONS, POLICY)
"""The two sources findings are checked on; every other source is a baseline."""
PER_PERSONA = "per_persona"
"""Key of the per-persona statistics in :attr:`Analysis.metrics`."""


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
            for a check against the study's human reference numbers. The scorecard counts the
            first two as claims and the last as bands; any other kind is shown, not counted.
    """

    claim: str
    source: str
    statistic: float | None
    criterion: str
    reproduced: bool | None
    kind: str = "paper"


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
