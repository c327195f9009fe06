"""The fidelity scorecard: one row per study, and a one-line verdict with its rule.

It reads only an experiment's block of ``summary.json`` (findings, metrics, fits, diagnostics,
training, robustness, ``from_paper``), so ``subrational compare`` can score old runs the same
way (a block without ``from_paper``, written before it was stored, is read as a paper study).

The claims counted under ``paper_findings`` are a study's findings of kind ``"paper"`` (the
published findings a study reproduces, origin ``"paper claim"``) or ``"claim"`` (a claim of one's
own study). The checks counted under ``human_bands`` (origin ``"human band"``, a threshold from a
cited human number) and ``design_choices`` (origin ``"design choice"``, a threshold of our own)
are pooled for the three-quarters rule. A study with
nothing checked (no claim and no human band defined on either source, or only undefined ones)
is ``"not assessed"``, never given a verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["VERDICT_RULE", "NOT_ASSESSED", "CLAIM_KINDS", "BAND_KINDS", "scorecard"]

LEARNED = ("demonstrations", "policy")
CLAIM_KINDS = ("paper", "claim")
"""Finding kinds that are a study's claims (the rest, ``"human band"``, are bands)."""
BAND_KINDS = ("human band", "design choice")
"""Finding kinds pooled for the three-quarters rule: human bands and design choices."""
NOT_ASSESSED = "not assessed"

VERDICT_RULE = (
    "Each check is tagged with where it comes from: a paper claim (the paper's own wording, its "
    "threshold taken from the human data where there is any), a human band (a threshold from a "
    "cited human number) or a design choice (a threshold of our own, shown as such). "
    "human-like: every paper claim the study checks is reproduced by both the LLM demonstrations "
    "and the learned policy (a study of a paper, such as the four built-in ones, must check the "
    "paper's claims on both), at least three quarters of the other checks (human bands and design "
    "choices pooled, on both sources) pass, and "
    "neither the wording nor the option order moves the answers more than the situation does. "
    "not human-like: the demonstrations reproduce none of the study's claims, or the wording or "
    "option order moves the answers more than the situation does. "
    "not assessed: nothing was checked (no claim or human band defined, or none defined on this "
    "model's answers); no verdict is given. "
    "partly: everything in between. "
    "Each check is decided on its own point estimate; no correction for the number of checks "
    "(family-wise error control) is made yet.")


def _count(findings: list[Mapping[str, Any]], kinds: tuple[str, ...],
           source: str) -> tuple[int, int]:
    """(passed, checked) among ``source``'s findings of ``kinds``; undefined ones are unchecked."""
    checked = [f for f in findings if f["kind"] in kinds and f["source"] == source
               and f["reproduced"] is not None]
    return sum(bool(f["reproduced"]) for f in checked), len(checked)


def _fits_inside(fits: list[Mapping[str, Any]], source: str) -> tuple[int, int]:
    ranged = [e for f in fits if f["source"] == source for e in f["estimates"]
              if e["inside"] is not None]
    return sum(bool(e["inside"]) for e in ranged), len(ranged)


def _verdict(paper: dict[str, tuple[int, int]], bands: tuple[int, int],
             form_beats_state: list[str], *, from_paper: bool) -> str:
    demo_hits, demo_total = paper["demonstrations"]
    band_hits, band_total = bands
    if band_total == 0 and all(total == 0 for _, total in paper.values()):
        return NOT_ASSESSED
    if form_beats_state or (demo_total and demo_hits == 0):
        return "not human-like"
    # A paper study must check its findings on both sources; one's own study may define none.
    all_paper = all(hits == total and (total > 0 or not from_paper)
                    for hits, total in paper.values())
    if all_paper and (band_total == 0 or band_hits >= 0.75 * band_total):
        return "human-like"
    return "partly"


def scorecard(exp: Mapping[str, Any]) -> dict[str, Any]:
    """Scorecard row of one experiment's ``summary.json`` block."""
    findings = exp.get("findings", [])
    fits = exp.get("fits", [])
    diag, training = exp.get("diagnostics", {}), exp.get("training", {})
    generalisation = training.get("generalisation") or {}
    paper = {s: _count(findings, CLAIM_KINDS, s) for s in LEARNED}
    band_counts = [_count(findings, ("human band",), s) for s in LEARNED]
    design_counts = [_count(findings, ("design choice",), s) for s in LEARNED]
    pooled = band_counts + design_counts
    bands = (sum(h for h, _ in pooled), sum(t for _, t in pooled))
    flagged = (exp.get("robustness") or {}).get("form_beats_state", [])
    return {
        "paper_findings": {s: {"reproduced": h, "checked": t} for s, (h, t) in paper.items()},
        "human_bands": {s: {"passed": h, "checked": t}
                        for s, (h, t) in zip(LEARNED, band_counts, strict=True)},
        "design_choices": {s: {"passed": h, "checked": t}
                           for s, (h, t) in zip(LEARNED, design_counts, strict=True)},
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
        "verdict": _verdict(paper, bands, flagged, from_paper=exp.get("from_paper", True)),
    }
