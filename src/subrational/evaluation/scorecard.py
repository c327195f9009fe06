"""The fidelity scorecard: one row per study, and a one-line verdict with its rule.

It reads only an experiment's block of ``summary.json`` (findings, metrics, fits, diagnostics,
training, robustness, ``from_paper``), so ``subrational compare`` can score old runs the same
way (a block without ``from_paper``, written before it was stored, is read as a paper study;
findings without bootstrap replicates give no verdict probability).

The verdict is the LLM's: it counts the demonstrations' checks only, each already decided on
its bootstrap interval (:mod:`.uncertainty`). The claims counted under ``paper_findings`` are a
study's findings of kind ``"paper"`` (origin ``"paper claim"``) or ``"claim"`` (a claim of one's
own study). The checks counted under ``human_bands`` (origin ``"human band"``) and
``design_choices`` (origin ``"design choice"``) are pooled for the three-quarters rule. A check
whose statistic is undefined is counted as ``not_assessed``: it is never a pass, and a paper
claim not assessed keeps the study from ``human-like``. A study with nothing checked, or one
failing a gate (:data:`GATES`), is ``"not assessed"``, never given a verdict. The policy's
checks are counted too (``policy``) and compared with the demonstrations' (``imitation``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["VERDICT_RULE", "NOT_ASSESSED", "CLAIM_KINDS", "BAND_KINDS", "GATES", "scorecard"]

LEARNED = ("demonstrations", "policy")
CLAIM_KINDS = ("paper", "claim")
"""Finding kinds that are a study's claims (the rest, ``"human band"``, are bands)."""
BAND_KINDS = ("human band", "design choice")
"""Finding kinds pooled for the three-quarters rule: human bands and design choices."""
NOT_ASSESSED = "not assessed"
GATES = {"option_mass_mean": 0.5, "parse_failure_rate": 0.25}
"""Design choices. Choice-probs: the mean probability mass the model puts on the options must
be at least 0.5, or its renormalised option probabilities describe a minority of what it would
say. Sample method: at most a quarter of the sampled answers may fail to parse, or the parsed
ones are a selected minority. A study failing a gate gets no verdict (``not assessed``)."""

VERDICT_RULE = (
    "Each check is tagged with where it comes from: a paper claim (the paper's own wording, its "
    "threshold taken from the human data where there is any), a human band (a threshold from a "
    "cited human number) or a design choice (a threshold of our own, shown as such). "
    "The verdict is earned by the LLM's demonstrations, each check decided on its bootstrap "
    "interval over the LLM's own variability (claims and directions confirmed with 95 % "
    "confidence after Holm's correction over the study's claims; a level against a human band "
    "or a threshold of our own passes unless it fails with 95 % confidence). The learned "
    "policy is reported separately, as the "
    "imitation check. "
    "Gates (design choices): mean option mass >= 0.5 (choice-probs) and parse failure rate <= "
    "0.25 (sample method); a study failing one is not assessed, unless the wording or option "
    "order moves its answers more than the situation does (not human-like). "
    "human-like: every paper claim the study checks is reproduced (a study of a paper, such as "
    "the four built-in ones, must check its claims; a claim that could not be assessed counts "
    "against it), at least three quarters of the other checks (human bands and design choices "
    "pooled) pass, and neither the wording nor the option order moves the answers more than the "
    "situation does. "
    "not human-like: the demonstrations confirm none of the study's claims and refute at least "
    "one (it fails with 95 % confidence), or the wording or option order moves the answers more "
    "than the situation does. "
    "not assessed: nothing could be checked (no claim or human band defined, or all undefined "
    "on this model's answers), or a gate failed; no verdict is given. "
    "partly: everything in between, including claims undecided at this number of draws (more "
    "--samples would decide them). "
    "Each study also gets the probability of its verdict: the share of bootstrap replicates of "
    "the LLM's answers whose checks, each decided on that replicate's own estimate, give the same "
    "verdict.")


def _assessed(f: Mapping[str, Any]) -> bool:
    return f["reproduced"] is not None and f.get("outcome") != NOT_ASSESSED


def _count(findings: list[Mapping[str, Any]], kinds: tuple[str, ...],
           source: str) -> tuple[int, int, int]:
    """(passed, checked, not assessed) among ``source``'s findings of ``kinds``."""
    mine = [f for f in findings if f["kind"] in kinds and f["source"] == source]
    checked = [f for f in mine if _assessed(f)]
    return (sum(bool(f["reproduced"]) for f in checked), len(checked),
            len(mine) - len(checked))


def _fits_inside(fits: list[Mapping[str, Any]], source: str) -> tuple[int, int]:
    ranged = [e for f in fits if f["source"] == source for e in f["estimates"]
              if e["inside"] is not None]
    return sum(bool(e["inside"]) for e in ranged), len(ranged)


def _gate_failures(diag: Mapping[str, Any], method: str | None) -> list[str]:
    out = []
    mass = diag.get("option_mass_mean")
    if method != "sample" and mass is not None and mass < GATES["option_mass_mean"]:
        out.append(f"mean option mass {mass:.2f} < {GATES['option_mass_mean']}")
    rate = diag.get("parse_failure_rate")
    if rate is not None and rate > GATES["parse_failure_rate"]:
        out.append(f"parse failure rate {rate:.2f} > {GATES['parse_failure_rate']}")
    return out


def _refuted(findings: list[Mapping[str, Any]], source: str) -> int:
    """Claims of ``source`` that fail with confidence.

    Any failed claim decided on its point estimate counts (an old summary, or findings not
    assessed on intervals).
    """
    return sum(1 for f in findings if f["kind"] in CLAIM_KINDS and f["source"] == source
               and _assessed(f) and not f["reproduced"]
               and (f.get("outcome") or "refuted") in ("refuted", "exact: fails"))


def _verdict(claims: tuple[int, int, int], bands: tuple[int, int], form_beats_state: list[str],
             *, from_paper: bool, gated: bool, refuted: int | None = None) -> str:
    hits, total, unassessed = claims
    band_hits, band_total = bands
    refuted = total - hits if refuted is None else refuted
    if band_total == 0 and total == 0:
        return NOT_ASSESSED
    if form_beats_state:  # shown with 95 % confidence, whatever the option mass
        return "not human-like"
    if gated:
        return NOT_ASSESSED
    if total and hits == 0 and refuted > 0:
        return "not human-like"
    # A paper study must check its claims; one's own study may define none.
    all_claims = hits == total and not unassessed and (total > 0 or not from_paper)
    if all_claims and (band_total == 0 or band_hits >= 0.75 * band_total):
        return "human-like"
    return "partly"


def _replicate_verdicts(findings: list[Mapping[str, Any]], flagged: list[str], *,
                        from_paper: bool) -> dict[str, float]:
    """Verdict distribution over bootstrap replicates, each check on its replicate's estimate."""
    mine = [f for f in findings if f["source"] == "demonstrations" and f.get("replicates")]
    if not mine:
        return {}
    n = min(len(f["replicates"]) for f in mine)
    out: dict[str, float] = {}
    for b in range(n):
        def tally(kinds: tuple[str, ...], b: int = b) -> tuple[int, int, int]:
            marks = [f["replicates"][b] for f in mine if f["kind"] in kinds]
            return marks.count("1"), marks.count("1") + marks.count("0"), marks.count("-")
        claims = tally(CLAIM_KINDS)
        h, t, _ = tally(BAND_KINDS)
        v = _verdict(claims, (h, t), flagged, from_paper=from_paper, gated=False)
        out[v] = out.get(v, 0.0) + 1.0 / n
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _imitation(findings: list[Mapping[str, Any]]) -> dict[str, int]:
    """How many checks the policy decides as the demonstrations' point estimates do."""
    demo = {f["claim"]: f.get("point_reproduced", f["reproduced"]) for f in findings
            if f["source"] == "demonstrations"}
    pairs = [(demo[f["claim"]], f["reproduced"]) for f in findings
             if f["source"] == "policy" and f["claim"] in demo]
    compared = [(d, p) for d, p in pairs if d is not None and p is not None]
    return {"agree": sum(d == p for d, p in compared), "compared": len(compared)}


def scorecard(exp: Mapping[str, Any]) -> dict[str, Any]:
    """Scorecard row of one experiment's ``summary.json`` block."""
    findings = exp.get("findings", [])
    fits = exp.get("fits", [])
    diag, training = exp.get("diagnostics", {}), exp.get("training", {})
    generalisation = training.get("generalisation") or {}
    from_paper = exp.get("from_paper", True)
    paper = {s: _count(findings, CLAIM_KINDS, s) for s in LEARNED}
    band_counts = [_count(findings, ("human band",), s) for s in LEARNED]
    design_counts = [_count(findings, ("design choice",), s) for s in LEARNED]
    demo_bands = [band_counts[0], design_counts[0]]
    bands = (sum(h for h, _, _ in demo_bands), sum(t for _, t, _ in demo_bands))
    flagged = (exp.get("robustness") or {}).get("form_beats_state", [])
    gates = _gate_failures(diag, exp.get("method"))
    refuted = _refuted(findings, "demonstrations")
    verdict = _verdict(paper["demonstrations"], bands, flagged, from_paper=from_paper,
                       gated=bool(gates), refuted=refuted)
    distribution = {} if gates else _replicate_verdicts(findings, flagged,
                                                        from_paper=from_paper)
    return {
        "paper_findings": {s: {"reproduced": h, "checked": t, "not_assessed": u}
                           for s, (h, t, u) in paper.items()},
        "claims_refuted": refuted,
        "claims_undecided": paper["demonstrations"][1] - paper["demonstrations"][0] - refuted,
        "human_bands": {s: {"passed": h, "checked": t, "not_assessed": u}
                        for s, (h, t, u) in zip(LEARNED, band_counts, strict=True)},
        "design_choices": {s: {"passed": h, "checked": t, "not_assessed": u}
                           for s, (h, t, u) in zip(LEARNED, design_counts, strict=True)},
        "distance_to_humans": {k: v for k, v in exp.get("metrics", {})
                               .get("distance_to_humans", {}).items()
                               if k in LEARNED or k == "demonstrations_interval"},
        "fits_inside_human_range": {s: dict(zip(("inside", "ranged"), _fits_inside(fits, s),
                                                strict=True)) for s in LEARNED},
        "option_mass": diag.get("option_mass_mean"),
        "parse_failure_rate": diag.get("parse_failure_rate"),
        "gates_failed": gates,
        "fidelity_train_tv": training.get("fidelity_tv"),
        "fidelity_held_out_tv": generalisation.get("held_out_tv"),
        "held_out": generalisation.get("held_out"),
        "imitation": _imitation(findings),
        "form_beats_state": flagged,
        "verdict": verdict,
        "verdict_probability": distribution.get(verdict, 0.0) if distribution else None,
        "verdict_distribution": distribution,
        "controls": _controls(exp),
    }


def _controls(exp: Mapping[str, Any]) -> str:
    """The controls' word: simulation, recall, stereotyping, no behaviour, undecided, ...

    ``not run`` without ``--controls`` (or in an older summary); see
    :mod:`subrational.controls`.
    """
    block = exp.get("controls") or {}
    return str(block.get("verdict", "not run")) if block.get("run") else "not run"
