"""Evaluation of the ultimatum responder: acceptance curves, the paper's findings, human bands.

Sources of behaviour are named policies: ``demonstrations`` (the LLM's own distribution),
``policy`` (the learned network) and the experiment's baselines. Findings are checked on the
first two; baselines are plotted and sanity-checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.special import expit

from ...evaluation.behaviour import LEARNED_SOURCES, EvalSettings
from ...evaluation.fits import fit_logistic
from ...evaluation.records import (
    CONSISTENT,
    DESIGN_CHOICE,
    PAPER_CLAIM,
    PER_PERSONA,
    POPULATION_MEAN,
    Analysis,
    Curve,
    Finding,
    band_finding,
)
from ...evaluation.structural import StructuralModel
from ...experiments.core import Persona, Policy
from ...experiments.study import HumanReference

__all__ = ["analyse", "structural_models"]

PANEL = "Acceptance curve"
MIXTURE = {"typical": 0.8, "selfish": 0.2}
TIE_MARGIN = 0.01
"""Design choice: a rejection share within this of 1/2 is a coin toss, not a rejection (a policy
imitating a 50/50 answer lands on either side of 0.5 by chance)."""


def _p_reject(policy: Policy, states: Sequence[Any], persona: Persona) -> np.ndarray:
    return np.array([float(policy.action_probs(s, persona)[1]) for s in states])


def _curve(label: str, source: str, persona: str, offers: np.ndarray, p_reject: np.ndarray,
           **bands: Any) -> Curve:
    return Curve(PANEL, label, source, persona, offers.tolist(), (1 - p_reject).tolist(),
                 xlabel="offer (share of the pie)", ylabel="P(accept)", **bands)


def _human_curve(ref: Mapping[str, Any]) -> Curve:
    rc = ref["rejection_curve"]
    offers = np.asarray(rc["offer"])
    return _curve("humans (Heffner & FeldmanHall 2022)", "human", "", offers,
                  np.asarray(rc["p_reject"]), y_low=(1 - np.asarray(rc["ci_high"])).tolist(),
                  y_high=(1 - np.asarray(rc["ci_low"])).tolist(), band_label="humans: 95 % CI")


PAPER_REF = "Coletta et al. 2024 (abstract): rejection of unfair offers"
POPULATION = POPULATION_MEAN
"""Whose curve a population run checks: the mean of its people's (each person once)."""
POPULATION_REF = ("; applied to the population's mean curve (the paper checks a 'fair' "
                  "persona; the human shares are a population's)")


def _paper_findings(source: str, offers: np.ndarray, rej: np.ndarray,
                    bands: Mapping[str, Any], who: str = "fair persona") -> list[Finding]:
    """The paper's "rejection of unfair offers", its threshold from the human curve.

    Humans reject the two lowest offers of Heffner & FeldmanHall (2022), s = 0.05 and 0.10, more
    often than not (0.717 and 0.601) but only 0.29 at s = 0.25, so "rejects every offer below
    30 %" would fail a human; the claim checks the most unfair offers instead. ``who`` names
    whose curve ``rej`` is (the fair persona, or a population's mean curve: the human numbers
    are themselves a population's shares).
    """
    cut, least = bands.get("unfair_offer_max", 0.1), bands.get("unfair_reject_min", 0.5)
    unfair = rej[(offers > 0) & (offers <= cut + 1e-9)]
    low = float(unfair.mean()) if unfair.size else None
    half = float(1 - rej[np.isclose(offers, 0.5)][0])
    ref = f"{PAPER_REF}; threshold: humans reject 0.717 at s = 0.05, 0.601 at s = 0.10 " \
          "(Heffner & FeldmanHall 2022)" + (POPULATION_REF if who == POPULATION else "")
    return [
        Finding(f"{who} rejects the most unfair offers more often than not", source, low,
                f"mean P(reject | 0 < s <= {cut:g}) > {least:g} + {TIE_MARGIN} (coin-toss "
                "margin: design choice)",
                None if low is None else low > least + TIE_MARGIN, origin=PAPER_CLAIM,
                source_ref=ref),
        Finding(f"{who} accepts a 50/50 split", source, half, "P(accept | s = 0.5) >= 0.9",
                half >= 0.9, origin=DESIGN_CHOICE,
                source_ref=f"{DESIGN_CHOICE}; humans accept 0.991 at s = 0.5 (Heffner & "
                           "FeldmanHall 2022)"),
    ]


def _band_findings(source: str, offers: np.ndarray, rej: np.ndarray, human: np.ndarray,
                   human_offers: np.ndarray, bands: Mapping[str, Any],
                   who: str = "typical persona") -> list[Finding]:
    at_human = np.interp(human_offers, offers, rej)
    mad = float(np.mean(np.abs(at_human - human)))
    rise = float(np.max(np.diff(rej))) if len(rej) > 1 else 0.0
    # Pooled, not the max over cells: a max of sampled shares grows with the number of cells.
    high_half = float(rej[offers >= 0.5].mean())
    low_pool = float(rej[(offers > 0) & (offers <= bands["low_offer_max"])].mean())
    high_pool = float(rej[offers >= bands["high_offer_min"]].mean())
    thr = fit_logistic(offers, rej).threshold
    lo, hi = bands["pooled_reject_low_offers"]
    tlo, thi = bands["threshold_range"]
    tag = f"{who}: "
    return [
        band_finding(tag + "rejection does not rise with the offer", source, rise,
                     f"max increase <= {bands['monotone_tolerance']}",
                     rise <= bands["monotone_tolerance"], bands, "monotone_tolerance",
                     test=CONSISTENT),
        band_finding(tag + "rejects almost no fair split", source, high_half,
                     f"pooled P(reject | s >= 0.5) <= {bands['pooled_reject_at_half_max']}",
                     high_half <= bands["pooled_reject_at_half_max"], bands,
                     "pooled_reject_at_half_max"),
        band_finding(tag + "rejects low offers about half the time", source, low_pool,
                     f"pooled P(reject | 0 < s <= {bands['low_offer_max']}) in [{lo}, {hi}]",
                     lo <= low_pool <= hi, bands, "pooled_reject_low_offers", "low_offer_max"),
        band_finding(tag + "accepts generous offers", source, high_pool,
                     f"pooled P(reject | s >= {bands['high_offer_min']}) <= "
                     f"{bands['pooled_reject_high_offers_max']}",
                     high_pool <= bands["pooled_reject_high_offers_max"], bands,
                     "pooled_reject_high_offers_max", "high_offer_min"),
        band_finding(tag + "50 % rejection point like humans", source, thr,
                     f"logistic 50 % point in [{tlo}, {thi}]",
                     None if thr is None else tlo <= thr <= thi, bands, "threshold_range"),
        band_finding(tag + "close to the human rejection curve", source, mad,
                     f"mean |diff| <= {bands['mad_acceptable']} (<= {bands['mad_close']} is "
                     "close)", mad <= bands["mad_acceptable"], bands, "mad_acceptable",
                     "mad_close"),
    ]


def analyse(experiment: Any, policies: Mapping[str, Policy], personas: Sequence[Persona], *,
            settings: EvalSettings, human: HumanReference) -> Analysis:
    """Curves, findings, distances and fits for every persona and source present."""
    ref = human
    rc = ref["rejection_curve"]
    human_offers, human_rej = np.asarray(rc["offer"]), np.asarray(rc["p_reject"])
    states = list(experiment.states())
    offers = np.array([s.offer for s in states])
    out = Analysis(curves=[_human_curve(ref)])
    by_name = {p.name: p for p in personas}
    for source in [s for s in LEARNED_SOURCES if s in policies]:
        curves = {name: _p_reject(policies[source], states, p) for name, p in by_name.items()}
        for name, rej in curves.items():
            out.curves.append(_curve(f"{source}: {name}", source, name, offers, rej))
            fit = fit_logistic(offers, rej)
            at_human = np.interp(human_offers, offers, rej)
            out.per_persona(source)[name] = {
                "p_accept": (1 - rej).tolist(),
                "mad_to_human": float(np.mean(np.abs(at_human - human_rej))),
                "max_abs_to_human": float(np.max(np.abs(at_human - human_rej))),
                "logistic": {"intercept": fit.intercept, "slope": fit.slope,
                             "threshold": fit.threshold},
            }
        if "fair" in curves:
            out.findings.extend(_paper_findings(source, offers, curves["fair"], ref["bands"]))
        if "typical" in curves:
            out.findings.extend(_band_findings(source, offers, curves["typical"], human_rej,
                                               human_offers, ref["bands"]))
        people = [p for p in personas if p.traits]
        if people and "fair" not in curves and "typical" not in curves:
            # A population: its mean curve, each person counted as often as listed (a
            # bootstrap replicate lists people drawn with replacement).
            pop = np.mean([curves[p.name] for p in people], axis=0)
            out.curves.append(_curve(f"{source}: {POPULATION}", source, POPULATION, offers, pop))
            out.findings.extend(_paper_findings(source, offers, pop, ref["bands"], POPULATION))
            out.findings.extend(_band_findings(source, offers, pop, human_rej, human_offers,
                                               ref["bands"], POPULATION))
            out.per_persona(source)[POPULATION] = {
                "p_accept": (1 - pop).tolist(),
                "mad_to_human": float(np.mean(np.abs(np.interp(human_offers, offers, pop)
                                                     - human_rej)))}
        if set(MIXTURE) <= set(curves):
            mix = np.sum([w * curves[n] for n, w in MIXTURE.items()], axis=0)
            out.curves.append(_curve(f"{source}: 80 % typical + 20 % selfish", source,
                                     "mixture", offers, mix))
            at_human = np.interp(human_offers, offers, mix)
            out.per_persona(source)["mixture"] = {
                "mad_to_human": float(np.mean(np.abs(at_human - human_rej)))}
    _baselines(out, experiment, policies, states, offers, personas[0] if personas else None)
    whose = POPULATION if any(p.traits for p in personas) else "typical"
    out.metrics["distance_to_humans"] = {
        "measure": f"mean |P(reject) - human| over offers 5-50 %, {whose}"
                   f"{'' if whose == POPULATION else ' persona'}",
        **{src: stats[whose]["mad_to_human"]
           for src, stats in out.metrics.get(PER_PERSONA, {}).items()
           if src in LEARNED_SOURCES and whose in stats}}
    return out


def _baselines(out: Analysis, experiment: Any, policies: Mapping[str, Policy],
               states: Sequence[Any], offers: np.ndarray, persona: Persona | None) -> None:
    persona = persona or next(iter(experiment.personas.values()))
    for name in experiment.baselines():
        if name not in policies:
            continue
        rej = _p_reject(policies[name], states, persona)
        out.curves.append(_curve(name, "baseline", "", offers, rej))
        if name == "money-maximiser":
            worst = float(1 - rej[offers > 0].max())
            out.findings.append(Finding("money-maximiser accepts every positive offer", name,
                                        worst, "min P(accept | s > 0) >= 0.99", worst >= 0.99,
                                        origin=DESIGN_CHOICE))


def _offers(states: Sequence[Any]) -> np.ndarray:
    return np.fromiter((s.offer for s in states), dtype=float, count=len(states))


def _logistic(theta: np.ndarray, states: Sequence[Any], persona: Persona) -> np.ndarray:
    return expit(theta[0] + theta[1] * _offers(states))


def _logistic_many(thetas: np.ndarray, states: Sequence[Any], persona: Persona) -> np.ndarray:
    """:func:`_logistic` of each row of ``thetas`` (B, 2) at once: (B, S)."""
    return expit(thetas[:, :1] + thetas[:, 1:2] * _offers(states))


def _fehr_schmidt(theta: np.ndarray, states: Sequence[Any], persona: Persona) -> np.ndarray:
    s = _offers(states)
    return expit(theta[1] * (s - theta[0] * np.maximum(1.0 - 2.0 * s, 0.0)))


def _fehr_schmidt_many(thetas: np.ndarray, states: Sequence[Any],
                       persona: Persona) -> np.ndarray:
    """:func:`_fehr_schmidt` of each row of ``thetas`` (B, 2) at once: (B, S)."""
    s = _offers(states)
    return expit(thetas[:, 1:2] * (s - thetas[:, :1] * np.maximum(1.0 - 2.0 * s, 0.0)))


FLAT_CURVE = 0.01
"""Design choice: a fitted curve whose P(reject) moves less than this between offers 0 and 1 has
no 50 % point (a flat responder's "crossing" is wherever rounding puts it)."""


def _threshold(theta: np.ndarray) -> dict[str, float]:
    # Undefined (NaN) when the fitted curve does not cross 50 % between offers 0 and 1, or is
    # flat: an extrapolated crossing, or the crossing of a flat curve, is a meaningless number.
    if abs(float(expit(theta[0] + theta[1]) - expit(theta[0]))) < FLAT_CURVE:
        return {"threshold": float("nan")}
    threshold = -theta[0] / theta[1]
    return {"threshold": threshold if 0.0 <= threshold <= 1.0 else float("nan")}


def structural_models(experiment: Any, human: HumanReference) -> list[StructuralModel]:
    """Logistic rejection curve (50 % point, slope) and Fehr-Schmidt inequity aversion alpha.

    Human ranges: the 50 % point band of HUMAN_DATA (0.10-0.30); for alpha, the values that put
    the Fehr-Schmidt responder's 50 % point, alpha / (1 + 2 alpha), inside that band.
    """
    tlo, thi = human["bands"]["threshold_range"]
    band = "HUMAN_DATA ultimatum band (Heffner & FeldmanHall 2022 data)"
    return [
        StructuralModel("logistic rejection curve", ("intercept", "slope"), (1.0, -5.0),
                        ((-50.0, 50.0), (-200.0, 200.0)), _logistic, action=1,
                        report=("threshold", "slope"), derived=_threshold,
                        human_range={"threshold": (tlo, thi)}, human_source=band,
                        predict_many=_logistic_many),
        StructuralModel("Fehr-Schmidt inequity aversion", ("alpha", "precision"), (0.5, 10.0),
                        ((0.0, 10.0), (0.01, 200.0)), _fehr_schmidt, action=0,
                        report=("alpha",),
                        human_range={"alpha": (tlo / (1 - 2 * tlo), thi / (1 - 2 * thi))},
                        human_source=band + "; alpha implied by the 50 % point band",
                        predict_many=_fehr_schmidt_many),
    ]
