"""The checks of double-or-nothing: the paper's findings, the human bands, the framing effect.

Each function turns one source's statistics (mean over stakes, increasing stake order) into
:class:`~subrational.evaluation.records.Finding` records; :mod:`.analysis` computes the
statistics and decides which checks the grid allows.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from ...evaluation.records import CONSISTENT, HUMAN_BAND, PAPER_CLAIM, Finding, band_finding

__all__ = ["COIN_TOSS", "fair_band_findings", "frame_findings", "identification_note",
           "odds_band_findings", "paper_findings"]

COIN_TOSS = 0.01
"""Design choice: a share within this of 1/2 (or a change within this of 0) is a coin toss, not
risk aversion (a policy imitating a 50/50 answer lands on either side by chance)."""

PAPER_REF = "Coletta et al. 2024 (abstract): risk biases"


def paper_findings(source: str, rates: Sequence[float]) -> list[Finding]:
    """The paper's "risk biases": risk aversion at fair odds, and less gambling at larger stakes.

    "Risk averse" is checked as gambling less than half the time at fair odds, as people do
    (16 % gamble in Kahneman & Tversky 1979, 0.37-0.47 in choices13k). The stake claim is
    checked as a human band (Holt & Laury 2002), not a paper claim: a CPT chooser with the
    Tversky & Kahneman 1992 medians is scale-free and cannot show it.
    """
    mean = float(np.mean(rates))
    drop = float(rates[-1] - rates[0]) if len(rates) > 1 else None
    return [
        Finding("risk averse at fair odds", source, mean,
                f"mean over stakes of P(gamble | round 0, p = 0.5) < 0.5 - {COIN_TOSS} "
                "(coin-toss margin: design choice)", mean < 0.5 - COIN_TOSS,
                origin=PAPER_CLAIM,
                source_ref=f"{PAPER_REF}; threshold: 16 % gamble (Kahneman & Tversky 1979, "
                           "problem 11), 0.37-0.47 (choices13k, Peterson et al. 2021)"),
        Finding("gambles less as the stake grows", source, drop,
                f"P(gamble | round 0, p = 0.5) at the largest stake minus at the smallest < "
                f"-{COIN_TOSS} (margin: design choice)",
                None if drop is None else drop < -COIN_TOSS, origin=HUMAN_BAND,
                source_ref="Holt & Laury 2002 (AER): risk aversion rises with real stakes",
                direction="persona"),
    ]


def fair_band_findings(source: str, rates: Sequence[float], all_win: float,
                       bands: Mapping[str, Any]) -> list[Finding]:
    """Human bands at fair odds: the level, no rise with the stake, and eventually stopping."""
    lo, hi = bands["fair_odds_p_gamble"]
    tol, stop = bands["stake_rise_tolerance"], bands["max_p_all_flips_given_wins"]
    mean = float(np.mean(rates))
    rise = float(np.max(np.diff(rates))) if len(rates) > 1 else None
    return [
        band_finding("gambles at fair odds about as often as people", source, mean,
                     f"mean over stakes of P(gamble | round 0, p = 0.5) in [{lo}, {hi}]",
                     lo <= mean <= hi, bands, "fair_odds_p_gamble"),
        band_finding("gambling does not rise with the stake", source, rise,
                     f"max increase of P(gamble | round 0, p = 0.5) between consecutive stakes "
                     f"<= {tol}", None if rise is None else rise <= tol, bands,
                     "stake_rise_tolerance", test=CONSISTENT),
        band_finding("eventually stops", source, all_win,
                     f"max over stakes of P(taking all flips | winning every flip, p = 0.5) "
                     f"<= {stop}", all_win <= stop, bands, "max_p_all_flips_given_wins"),
    ]


def odds_band_findings(source: str, probs: Sequence[float], rates: Sequence[float],
                       bands: Mapping[str, Any]) -> list[Finding]:
    """Human bands over the odds: gambles at p = 0.8, and more as the win probability rises."""
    high, floor = bands["high_win_prob"], bands["min_p_gamble_at_high_win_prob"]
    at_high = float(rates[[i for i, q in enumerate(probs) if math.isclose(q, high)][0]])
    with warnings.catch_warnings():  # a constant curve has no rank correlation: None below
        warnings.simplefilter("ignore")
        rho = float(spearmanr(probs, rates).statistic) if len(probs) > 1 else math.nan
    rho_min = bands["win_prob_spearman_min"]
    return [
        band_finding(f"clearly gambles at win probability {high:g}", source, at_high,
                     f"mean over stakes of P(gamble | round 0, p = {high:g}) > {floor}",
                     at_high > floor, bands, "high_win_prob", "min_p_gamble_at_high_win_prob"),
        band_finding("gambles more as the win probability rises", source,
                     None if math.isnan(rho) else rho,
                     f"Spearman rho(p, mean over stakes of P(gamble | round 0)) > {rho_min}",
                     None if math.isnan(rho) else rho > rho_min, bands,
                     "win_prob_spearman_min", direction="state"),
    ]


def frame_findings(source: str, gains: Sequence[float], losses: Sequence[float],
                    bands: Mapping[str, Any]) -> list[Finding]:
    """Reflection: more gambling when the same choice is told as losses, and a loss-frame level."""
    effect = float(np.mean(losses) - np.mean(gains))
    margin, floor = bands["framing_effect_min"], bands["loss_frame_min_p_gamble"]
    loss = float(np.mean(losses))
    return [
        band_finding("more risk seeking in the loss frame (reflection)", source, effect,
                     "mean over stakes of P(gamble | round 0, p = 0.5) in the loss frame minus "
                     f"in the gain frame > {margin} (margin: design choice)", effect > margin,
                     bands, "framing_effect_min", direction="state"),
        band_finding("gambles more often than not in the loss frame", source, loss,
                     "mean over stakes of P(gamble | round 0, p = 0.5, loss frame) > "
                     f"{floor}", loss > floor, bands, "loss_frame_min_p_gamble"),
    ]




def identification_note(experiment: Any) -> str:
    """What the grid identifies about risk attitudes (DESIGN 3.3; issue 12)."""
    gains = len(experiment.win_probs)
    if gains == 1:
        text = ("Asked at one win probability only, the grid pins down one number per stake, "
                "P(gamble): risk aversion cannot be told apart from a bias for the word "
                f"'{experiment.actions[0]}' or from choice noise, so the CPT fit holds gamma and "
                "the sensitivity fixed.")
    else:
        text = (f"Asked at {gains} win probabilities, the grid identifies how P(gamble) moves "
                "with the odds: the indifference win probability and the sensitivity to the "
                "odds; curvature (alpha), probability weighting (gamma) and noise are fitted "
                "jointly only through CPT's functional form (gamma from the bend of the curve "
                "in p), and a constant bias for either answer word is still absorbed by "
                "alpha.")
    if getattr(experiment, "loss_win_probs", ()):
        text += (" The loss frame tells the same final outcomes as losses with the same "
                 "answer words: a word bias or plain risk aversion over final money keeps in "
                 "both frames, CPT reflects and gambles in losses (Kahneman & Tversky 1979), "
                 "so the framing effect separates them.")
    else:
        text += " Without the loss frame a bias for an answer word is not separated."
    return text
