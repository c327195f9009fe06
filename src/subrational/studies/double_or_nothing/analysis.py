"""Evaluation of double-or-nothing: gamble rates by stake, round and odds; the paper's findings.

Sources are named policies: ``demonstrations`` (the LLM's own distribution), ``policy`` (the
learned network) and the experiment's baselines. Their statistics, per stake persona:

* ``P(gamble | round k)`` is the policy's own P(gamble) in the state of round ``k`` (the win
  path: round ``k`` is only reached by winning ``k`` flips in a row, so there is one state per
  round). Read from ``action_probs``, it has no Monte Carlo error, so a flat 50/50 policy gives
  exactly 0.5 and the paper's strict inequalities cannot pass by sampling luck; and it exists for
  late rounds, which rollouts of a cautious agent almost never reach.
* The flips taken (0 .. ``max_flips``, however the last flip went), P(taking all flips) and the
  mean payout come from the episodes from round 0 at fair odds that
  :func:`~subrational.evaluation.behaviour.episodes` gives: every episode weighted by its
  probability (exact; the game has ``2 * max_flips + 1`` of them), rollouts where a policy has
  too many, or the LLM's own sampled episodes. So does an episode estimate of
  P(gamble | round 0), kept as a cross-check (exact episodes reproduce the policy's own).
* "Eventually stops" uses P(taking every flip | winning every flip), the product of the
  per-round P(gamble) along the win path.

Episodes are played at fair odds (or at the grid's first win probability when it has none);
rollouts with one generator per (source, persona) as :func:`simulate` derives it. The paper's
findings and most
human bands are stated at fair odds (p = 0.5) and round 0 and are skipped when the grid has no
fair odds; findings that compare stakes are undefined (``None``) with one stake.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit
from scipy.stats import spearmanr

from ...elicitation.smoothing import wilson
from ...evaluation.behaviour import (
    LEARNED_SOURCES,
    EvalSettings,
    MemoPolicy,
    episode_weights,
    episodes,
)
from ...evaluation.records import (
    CONSISTENT,
    DESIGN_CHOICE,
    HUMAN_BAND,
    PAPER_CLAIM,
    Analysis,
    Curve,
    Finding,
    band_finding,
)
from ...evaluation.structural import StructuralModel
from ...experiments.core import Persona, Policy
from ...experiments.study import HumanReference
from .game import (
    GAMBLE,
    SENSITIVITY,
    DoubleState,
    cpt_certainty_equivalent,
    cpt_weight,
)

COIN_TOSS = 0.01
"""Design choice: a share within this of 1/2 (or a change within this of 0) is a coin toss, not
risk aversion (a policy imitating a 50/50 answer lands on either side by chance)."""

__all__ = ["GambleStats", "analyse", "gamble_stats", "structural_models"]

FAIR = 0.5
BY_ROUND, FLIPS, BY_ODDS = "P(gamble) by round", "Flips taken", "P(gamble) by win probability"
SANITY_TOLERANCE = 1e-9


@dataclass(frozen=True)
class GambleStats:
    """One source's behaviour for one stake, at the reference win probability unless noted.

    Attributes:
        p_gamble_by_round: The policy's P(gamble) at rounds ``0 .. max_flips - 1``.
        p_gamble_round0_by_win_prob: The policy's P(gamble | round 0) at every win probability
            of the grid.
        p_gamble_round0_rollouts: Share of episodes whose first decision is to gamble.
        flips: Share of episodes that took ``0 .. max_flips`` flips (sums to 1).
        p_all_flips: Share of episodes that took every flip allowed.
        p_all_flips_given_wins: Product of ``p_gamble_by_round`` (the all-win path).
        mean_payout: Mean money taken home in the episodes.
        n_episodes: Episodes behind the shares: the LLM's own sampled episodes at these odds
            for sampled demonstrations, else rollouts (0: unknown, shares NaN); ``None`` for
            exact shares (every episode weighted by its probability).
        p_all_flips_interval: 95 % Wilson interval of ``p_all_flips``; ``(p, p)`` for an exact
            share, which has no sampling error.
        origin: Where the episodes come from (``exact``, ``rollouts``, ``sampled episodes``);
            ``""`` when unknown.
    """

    p_gamble_by_round: tuple[float, ...]
    p_gamble_round0_by_win_prob: Mapping[float, float]
    p_gamble_round0_rollouts: float
    flips: tuple[float, ...]
    p_all_flips: float
    p_all_flips_given_wins: float
    mean_payout: float
    n_episodes: int | None = 0
    p_all_flips_interval: tuple[float, float] = (math.nan, math.nan)
    origin: str = ""

    @property
    def p_gamble_round0(self) -> float:
        """P(gamble) at the first decision."""
        return self.p_gamble_by_round[0]


def gamble_stats(experiment: Any, policy: Policy, persona: Persona, *, source: str,
                 settings: EvalSettings, win_prob: float) -> GambleStats:
    """Statistics of ``policy`` for ``persona``, rollouts at ``win_prob`` (see module docstring)."""
    observed = getattr(policy, "observed", None)
    policy = policy if isinstance(policy, MemoPolicy) else MemoPolicy(policy)
    # A round the LLM never reached in sampled episodes has no answer: NaN, not the lookup's
    # uniform fallback. The all-win product then treats it as 1, an upper bound.
    rounds = tuple(float(policy.action_probs(DoubleState(k, win_prob), persona)[GAMBLE])
                   if observed is None or observed(DoubleState(k, win_prob), persona)
                   else math.nan for k in range(experiment.max_flips))
    by_odds = {q: float(policy.action_probs(DoubleState(0, q), persona)[GAMBLE])
               for q in experiment.win_probs}
    # Sampled demonstrations: the LLM's own episodes played at these odds; else every episode
    # (exact), or rollouts for a policy with too many.
    got = episodes(experiment, policy, persona, source=source, settings=settings,
                   start_state=DoubleState(0, win_prob),
                   keep=lambda s: math.isclose(s.win_prob, win_prob))
    trajs = got.trajectories if got is not None else []
    if not trajs:  # unknown: an episode reached an unanswered state, or none at these odds
        nan = (math.nan,) * (experiment.max_flips + 1)
        return GambleStats(rounds, by_odds, math.nan, nan, math.nan, float(np.nanprod(rounds)),
                           math.nan, 0, (math.nan, math.nan))
    origin = got.origin if got is not None else ""
    taken = [sum(a == GAMBLE for a in t.actions) for t in trajs]
    weights = episode_weights(trajs, origin)
    if weights is not None:
        # Weights sum to 1 up to rounding: a share of "all" is clipped to 1, not 1 + 2e-16.
        flips = np.minimum(np.bincount(taken, weights=weights, minlength=experiment.max_flips + 1),
                           1.0)
        first = min(float(weights @ np.array([t.actions[0] == GAMBLE for t in trajs])), 1.0)
        payout = float(weights @ np.array([t.total_reward for t in trajs]))
        return GambleStats(rounds, by_odds, first, tuple(flips.tolist()), float(flips[-1]),
                           float(np.nanprod(rounds)), payout, None,
                           (float(flips[-1]), float(flips[-1])), origin)
    flips = np.bincount(taken, minlength=experiment.max_flips + 1) / len(trajs)
    return GambleStats(rounds, by_odds, float(np.mean([t.actions[0] == GAMBLE for t in trajs])),
                       tuple(flips.tolist()), float(flips[-1]), float(np.nanprod(rounds)),
                       float(np.mean([t.total_reward for t in trajs])), len(trajs),
                       wilson(float(flips[-1]) * len(trajs), len(trajs)), origin)


def _stats_by_persona(experiment: Any, policy: Policy, personas: Sequence[Persona], *,
                      source: str, settings: EvalSettings,
                      ref_p: float) -> dict[str, GambleStats]:
    memo = MemoPolicy(policy)
    return {p.name: gamble_stats(experiment, memo, p, source=source, settings=settings,
                                 win_prob=ref_p) for p in personas}


def _metrics(ref: GambleStats, stake: float, ref_p: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "stake": stake, "win_prob": ref_p, "p_gamble_round0": ref.p_gamble_round0,
        "p_gamble_round0_rollouts": ref.p_gamble_round0_rollouts,
        "p_gamble_by_round": list(ref.p_gamble_by_round),
        "flips_distribution": list(ref.flips), "p_all_flips": ref.p_all_flips,
        "p_all_flips_given_wins": ref.p_all_flips_given_wins, "mean_payout": ref.mean_payout,
        "p_all_flips_interval": list(ref.p_all_flips_interval), "episodes": ref.n_episodes,
        "episodes_from": ref.origin or "unknown"}
    if len(ref.p_gamble_round0_by_win_prob) > 1:
        out["p_gamble_round0_by_win_prob"] = {f"{q:g}": v for q, v
                                              in ref.p_gamble_round0_by_win_prob.items()}
    return out


def _round0_by_stake(stats: Mapping[str, GambleStats],
                     personas: Sequence[Persona], win_prob: float) -> list[float]:
    """P(gamble | round 0) at ``win_prob``, personas in increasing stake order."""
    ordered = sorted(personas, key=lambda p: p.values["stake"])
    return [stats[p.name].p_gamble_round0_by_win_prob[win_prob] for p in ordered]


PAPER_REF = "Coletta et al. 2024 (abstract): risk biases"


def _paper_findings(source: str, rates: Sequence[float]) -> list[Finding]:
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


def _fair_band_findings(source: str, rates: Sequence[float], all_win: float,
                        bands: Mapping[str, Any]) -> list[Finding]:
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


def _odds_band_findings(source: str, probs: Sequence[float], rates: Sequence[float],
                        bands: Mapping[str, Any]) -> list[Finding]:
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


def _learned_findings(experiment: Any, source: str,
                      stats: Mapping[str, GambleStats],
                      personas: Sequence[Persona], bands: Mapping[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    fair = _grid_p(experiment, FAIR)
    if fair is not None:
        rates = _round0_by_stake(stats, personas, fair)
        all_win = max(stats[p.name].p_all_flips_given_wins for p in personas)
        out += _paper_findings(source, rates) + _fair_band_findings(source, rates, all_win,
                                                                    bands)
    if _grid_p(experiment, bands["high_win_prob"]) is not None:
        probs = list(experiment.win_probs)
        rates = [float(np.mean(_round0_by_stake(stats, personas, q))) for q in probs]
        out += _odds_band_findings(source, probs, rates, bands)
    return out


def _grid_p(experiment: Any, p: float) -> float | None:
    """The grid's own float for win probability ``p`` (so lookups match), or None."""
    return next((q for q in experiment.win_probs if math.isclose(q, p)), None)


def _human_curves(experiment: Any, bands: Mapping[str, Any], ref_p: float) -> list[Curve]:
    """The fair-odds, round-0 band drawn across rounds (HUMAN_DATA has no per-round numbers)."""
    if not math.isclose(ref_p, FAIR):
        return []
    lo, hi = bands["fair_odds_p_gamble"]
    rounds = list(range(experiment.max_flips))
    return [Curve(BY_ROUND, f"humans: P(gamble) at round 0, fair odds, in [{lo}, {hi}] "
                            "(band, drawn across rounds)", "human", "", rounds,
                  [(lo + hi) / 2] * len(rounds), y_low=[lo] * len(rounds),
                  y_high=[hi] * len(rounds), xlabel="round (flips won so far)",
                  ylabel=f"P(gamble), win probability {ref_p:g}",
                  band_label="human band at round 0 (HUMAN_DATA, across studies)")]


def _curves(experiment: Any, label: str, source: str, persona: str,
            stats: Sequence[GambleStats], ref_p: float) -> list[Curve]:
    """Curves of one source for one persona (or averaged over personas for a baseline)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a round no persona reached stays NaN
        by_round = np.nanmean([s.p_gamble_by_round for s in stats], axis=0)
    flips = np.mean([s.flips for s in stats], axis=0)
    out = [Curve(BY_ROUND, label, source, persona, list(range(experiment.max_flips)),
                 by_round.tolist(), xlabel="round (flips won so far)",
                 ylabel=f"P(gamble), win probability {ref_p:g}"),
           Curve(FLIPS, label, source, persona, list(range(experiment.max_flips + 1)),
                 flips.tolist(), xlabel="flips taken", ylabel="share of episodes")]
    if len(experiment.win_probs) > 1:
        odds = [float(np.mean([s.p_gamble_round0_by_win_prob[q] for s in stats]))
                for q in experiment.win_probs]
        out.append(Curve(BY_ODDS, label, source, persona, list(experiment.win_probs), odds,
                         xlabel="win probability of a flip", ylabel="P(gamble) at round 0"))
    return out


def _sanity(experiment: Any, policy: Policy, personas: Sequence[Persona]) -> Finding:
    """The risk-neutral chooser is exactly indifferent at fair odds, in every round and stake."""
    dev = max(abs(float(policy.action_probs(DoubleState(k, FAIR), p)[GAMBLE]) - 0.5)
              for p in personas for k in range(experiment.max_flips))
    return Finding("risk-neutral chooser is indifferent at fair odds", "risk-neutral", dev,
                   f"max |P(gamble) - 0.5| at p = 0.5 over rounds and stakes <= "
                   f"{SANITY_TOLERANCE:g}", dev <= SANITY_TOLERANCE, origin=DESIGN_CHOICE)


def _distance(lo: float, hi: float, value: float) -> float:
    return max(lo - value, 0.0, value - hi)


def _add_source(out: Analysis, experiment: Any, source: str,
                stats: Mapping[str, GambleStats], personas: Sequence[Persona], *,
                ref_p: float, baseline: bool) -> None:
    """Metrics and curves of one source; per-persona curves only for the learned sources."""
    for p in personas:
        out.per_persona(source)[p.name] = _metrics(stats[p.name], p.values["stake"], ref_p)
    if baseline:
        if stats:
            out.curves.extend(_curves(experiment, source, "baseline", "", list(stats.values()),
                                      ref_p))
        return
    for p in personas:
        out.curves.extend(_curves(experiment, f"{source}: {p.name}", source, p.name,
                                  [stats[p.name]], ref_p))


def analyse(experiment: Any, policies: Mapping[str, Policy], personas: Sequence[Persona], *,
            settings: EvalSettings, human: HumanReference) -> Analysis:
    """Curves, findings, human bands and metrics for every stake persona and source present."""
    bands = human["bands"]
    fair = _grid_p(experiment, FAIR)
    ref_p = fair if fair is not None else experiment.win_probs[0]
    out = Analysis(curves=_human_curves(experiment, bands, ref_p))
    lo, hi = bands["fair_odds_p_gamble"]
    distance: dict[str, Any] = {"measure": f"distance from the mean over stakes of P(gamble | "
                                           f"round 0, p = 0.5) to the human band [{lo}, {hi}] "
                                           f"(0 inside the band)"}
    baselines = [b for b in experiment.baselines() if b in policies]
    for source in [s for s in LEARNED_SOURCES if s in policies] + baselines:
        stats = _stats_by_persona(experiment, policies[source], personas, source=source,
                                  settings=settings, ref_p=ref_p)
        _add_source(out, experiment, source, stats, personas, ref_p=ref_p,
                    baseline=source in baselines)
        if source in LEARNED_SOURCES and personas:
            out.findings.extend(_learned_findings(experiment, source, stats, personas, bands))
            if fair is not None:
                mean = float(np.mean(_round0_by_stake(stats, personas, fair)))
                distance[source] = _distance(lo, hi, mean)
    if "risk-neutral" in policies:
        out.findings.append(_sanity(experiment, policies["risk-neutral"],
                                    personas or list(experiment.personas.values())[:1]))
    out.metrics["distance_to_humans"] = distance
    out.notes.append("P(gamble) at round k is the policy's probability in the state reached by "
                     "winning k flips (no sampling error); flips taken, P(taking all flips) and "
                     "payouts come from the episodes from round 0 (every episode weighted by "
                     "its probability where episodes_from is exact, else rollouts or the LLM's "
                     "sampled episodes); P(taking all flips | winning every flip) is the "
                     "product of P(gamble) along the all-win path.")
    if fair is None:
        out.notes.append("The grid has no fair odds (p = 0.5): the paper's findings and the "
                         "fair-odds human bands were not checked.")
    return out


# -- structural calibration --------------------------------------------------------------------
CPT_GAMMA = 0.61
"""Probability-weighting curvature for gains, fixed at the TK92 median (HUMAN_DATA section 3)."""


def _cpt_log_ratio(alpha: float | np.ndarray, win_prob: np.ndarray) -> np.ndarray:
    """``log(CE / w) = log 2 + log(w+(p)) / alpha``, elementwise over the rows."""
    return math.log(2.0) + np.log(cpt_weight(win_prob, CPT_GAMMA)) / alpha


def _cpt_gamble(theta: np.ndarray, states: Sequence[Any], persona: Persona) -> np.ndarray:
    """P(gamble) of :class:`~subrational.experiments.double_or_nothing.CPTGambler`."""
    win_prob = np.fromiter((s.win_prob for s in states), dtype=float, count=len(states))
    return expit(SENSITIVITY * _cpt_log_ratio(theta[0], win_prob))


def _ce_ev(theta: np.ndarray) -> dict[str, float]:
    """CE / EV of the fair double-or-nothing: ``2 w+(0.5)**(1/alpha)`` (EV = w)."""
    return {"ce_ev": cpt_certainty_equivalent(1.0, FAIR, float(theta[0]), CPT_GAMMA) / (2 * FAIR)}


def _alpha_for_ce_ev(ratio: float) -> float:
    """The alpha whose fair-odds CE / EV is ``ratio`` (inverts :func:`_ce_ev`)."""
    return math.log(cpt_weight(FAIR, CPT_GAMMA)) / math.log(ratio / 2.0)


def structural_models(experiment: Any, human: HumanReference) -> list[StructuralModel]:
    """CPT value curvature alpha (and the fair-odds CE / EV ratio) of a myopic one-flip chooser.

    The model is the study's CPT baseline: ``P(gamble) = sigmoid(s log(CE / w))`` with
    ``CE / w = 2 w+(p)**(1/alpha)``, gamma fixed at the TK92 median 0.61 and the sensitivity
    ``s`` fixed at the baselines' 5. Both are fixed because the default grid asks only at fair
    odds, where every state has the same prediction: the data pin down one number, P(gamble), so
    alpha, gamma and ``s`` are not separately identified. The fitted alpha is therefore "the alpha
    a CPT chooser with TK92 weighting and the baselines' noise would need"; the CE / EV ratio is
    the same fact in money. Alpha is bounded to [0.05, 3], so P(gamble) at fair odds above 0.88
    sits at the upper bound. The model ignores round and stake (it is scale-free and myopic), so
    each stake persona gets its own fit.

    Human ranges: CE / EV from the HUMAN_DATA band [0.6, 0.95]; alpha is the range that band
    implies through this model (about [0.72, 1.16]).
    """
    lo, hi = human["bands"]["ce_ev_ratio"]
    source = (f"HUMAN_DATA double-or-nothing band CE/EV in [{lo:g}, {hi:g}] (fair odds); alpha "
              f"range implied by that band through 2 w+(0.5)^(1/alpha) with gamma = {CPT_GAMMA} "
              f"(TK92 median alpha = 0.88, inside it); gamma and the sensitivity "
              f"({SENSITIVITY:g}) are fixed, not fitted, as alpha is not identified apart from "
              f"them at one win probability")
    return [StructuralModel("CPT value curvature (myopic one flip)", ("alpha",), (0.88,),
                            ((0.05, 3.0),), _cpt_gamble, action=GAMBLE,
                            report=("alpha", "ce_ev"), derived=_ce_ev,
                            human_range={"alpha": (_alpha_for_ce_ev(lo), _alpha_for_ce_ev(hi)),
                                         "ce_ev": (lo, hi)},
                            human_source=source)]
