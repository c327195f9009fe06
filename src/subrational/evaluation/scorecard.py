"""The fidelity scorecard: one row per study, and a one-line verdict with its rule.

It reads only an experiment's block of ``summary.json`` (findings, metrics, fits, diagnostics,
training, robustness), so ``subrational compare`` can score old runs the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["VERDICT_RULE", "scorecard"]

LEARNED = ("demonstrations", "policy")

VERDICT_RULE = (
    "human-like: every paper finding is reproduced by both the LLM demonstrations and the learned "
    "policy, at least three quarters of the human-band checks pass, and neither the wording nor "
    "the option order moves the answers more than the situation does. "
    "not human-like: the demonstrations reproduce none of the paper findings, or the wording or "
    "option order moves the answers more than the situation does. "
    "partly: everything in between.")


def _count(findings: list[Mapping[str, Any]], kind: str, source: str) -> tuple[int, int]:
    checked = [f for f in findings if f["kind"] == kind and f["source"] == source
               and f["reproduced"] is not None]
    return sum(bool(f["reproduced"]) for f in checked), len(checked)


def _fits_inside(fits: list[Mapping[str, Any]], source: str) -> tuple[int, int]:
    ranged = [e for f in fits if f["source"] == source for e in f["estimates"]
              if e["inside"] is not None]
    return sum(bool(e["inside"]) for e in ranged), len(ranged)


def _verdict(paper: dict[str, tuple[int, int]], bands: tuple[int, int],
             form_beats_state: list[str]) -> str:
    demo_hits, demo_total = paper["demonstrations"]
    if form_beats_state or (demo_total and demo_hits == 0):
        return "not human-like"
    all_paper = all(hits == total and total > 0 for hits, total in paper.values())
    band_hits, band_total = bands
    if all_paper and (band_total == 0 or band_hits >= 0.75 * band_total):
        return "human-like"
    return "partly"


def scorecard(exp: Mapping[str, Any]) -> dict[str, Any]:
    """Scorecard row of one experiment's ``summary.json`` block."""
    findings = exp.get("findings", [])
    fits = exp.get("fits", [])
    diag, training = exp.get("diagnostics", {}), exp.get("training", {})
    generalisation = training.get("generalisation") or {}
    paper = {s: _count(findings, "paper", s) for s in LEARNED}
    band_counts = [_count(findings, "human band", s) for s in LEARNED]
    bands = (sum(h for h, _ in band_counts), sum(t for _, t in band_counts))
    flagged = (exp.get("robustness") or {}).get("form_beats_state", [])
    return {
        "paper_findings": {s: {"reproduced": h, "checked": t} for s, (h, t) in paper.items()},
        "human_bands": {s: {"passed": h, "checked": t}
                        for s, (h, t) in zip(LEARNED, band_counts, strict=True)},
        "distance_to_humans": {k: v for k, v in exp.get("metrics", {})
                               .get("distance_to_humans", {}).items() if k in LEARNED},
        "fits_inside_human_range": {s: dict(zip(("inside", "ranged"), _fits_inside(fits, s),
                                                strict=True)) for s in LEARNED},
        "option_mass": diag.get("option_mass_mean"),
        "parse_failure_rate": diag.get("parse_failure_rate"),
        "fidelity_train_tv": training.get("fidelity_tv"),
        "fidelity_held_out_tv": generalisation.get("held_out_tv"),
        "held_out": generalisation.get("held_out"),
        "form_beats_state": flagged,
        "verdict": _verdict(paper, bands, flagged),
    }
