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
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ...elicitation.smoothing import wilson
from ...evaluation.behaviour import (
    LEARNED_SOURCES,
    EvalSettings,
    MemoPolicy,
    episode_weights,
    episodes,
)
from ...evaluation.records import (
    DESIGN_CHOICE,
    Analysis,
    Curve,
    Finding,
)
from ...experiments.core import Persona, Policy
from ...experiments.study import HumanReference
from .findings import (
    fair_band_findings,
    frame_findings,
    identification_note,
    odds_band_findings,
    paper_findings,
)
from .fits import structural_models
from .game import GAIN, GAMBLE, LOSS

__all__ = ["GambleStats", "analyse", "gamble_stats", "structural_models"]

FAIR = 0.5
BY_ROUND, FLIPS, BY_ODDS = "P(gamble) by round", "Flips taken", "P(gamble) by win probability"
BY_FRAME = "P(gamble) in the gain and loss frames"
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
        p_gamble_round0_loss_by_win_prob: The policy's P(gamble | round 0) in the loss frame
            at every win probability the loss frame is asked at (empty without one).
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
    p_gamble_round0_loss_by_win_prob: Mapping[float, float] = field(default_factory=dict)

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
    at = experiment.decision
    rounds = tuple(float(policy.action_probs(at(k, win_prob), persona)[GAMBLE])
                   if observed is None or observed(at(k, win_prob), persona)
                   else math.nan for k in range(experiment.max_flips))
    by_odds = {q: float(policy.action_probs(at(0, q), persona)[GAMBLE])
               for q in experiment.win_probs}
    losses = {q: float(policy.action_probs(at(0, q, LOSS), persona)[GAMBLE])
              for q in getattr(experiment, "loss_win_probs", ())}
    # Sampled demonstrations: the LLM's own episodes played at these odds; else every episode
    # (exact), or rollouts for a policy with too many.
    got = episodes(experiment, policy, persona, source=source, settings=settings,
                   start_state=at(0, win_prob),
                   keep=lambda s: (math.isclose(s.win_prob, win_prob)
                                   and getattr(s, "frame", GAIN) == GAIN))
    trajs = got.trajectories if got is not None else []
    if not trajs:  # unknown: an episode reached an unanswered state, or none at these odds
        nan = (math.nan,) * (experiment.max_flips + 1)
        return GambleStats(rounds, by_odds, math.nan, nan, math.nan, float(np.nanprod(rounds)),
                           math.nan, 0, (math.nan, math.nan),
                           p_gamble_round0_loss_by_win_prob=losses)
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
                           (float(flips[-1]), float(flips[-1])), origin, losses)
    flips = np.bincount(taken, minlength=experiment.max_flips + 1) / len(trajs)
    return GambleStats(rounds, by_odds, float(np.mean([t.actions[0] == GAMBLE for t in trajs])),
                       tuple(flips.tolist()), float(flips[-1]), float(np.nanprod(rounds)),
                       float(np.mean([t.total_reward for t in trajs])), len(trajs),
                       wilson(float(flips[-1]) * len(trajs), len(trajs)), origin, losses)


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
    losses = ref.p_gamble_round0_loss_by_win_prob
    if losses:
        out["p_gamble_round0_loss_by_win_prob"] = {f"{q:g}": v for q, v in losses.items()}
        gain = next((v for q, v in ref.p_gamble_round0_by_win_prob.items()
                     if math.isclose(q, ref_p)), None)
        loss = next((v for q, v in losses.items() if math.isclose(q, ref_p)), None)
        if gain is not None and loss is not None:
            out["framing_effect"] = loss - gain
    return out


def _round0_by_stake(stats: Mapping[str, GambleStats],
                     personas: Sequence[Persona], win_prob: float) -> list[float]:
    """P(gamble | round 0) at ``win_prob``, personas in increasing stake order."""
    ordered = sorted(personas, key=lambda p: p.values["stake"])
    return [stats[p.name].p_gamble_round0_by_win_prob[win_prob] for p in ordered]


def _learned_findings(experiment: Any, source: str,
                      stats: Mapping[str, GambleStats],
                      personas: Sequence[Persona], bands: Mapping[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    fair = _grid_p(experiment, FAIR)
    if fair is not None:
        rates = _round0_by_stake(stats, personas, fair)
        all_win = max(stats[p.name].p_all_flips_given_wins for p in personas)
        out += paper_findings(source, rates) + fair_band_findings(source, rates, all_win,
                                                                    bands)
    if _grid_p(experiment, bands["high_win_prob"]) is not None:
        probs = list(experiment.win_probs)
        rates = [float(np.mean(_round0_by_stake(stats, personas, q))) for q in probs]
        out += odds_band_findings(source, probs, rates, bands)
    loss_fair = _loss_p(experiment, FAIR)
    if fair is not None and loss_fair is not None and personas:
        ordered = sorted(personas, key=lambda p: p.values["stake"])
        losses = [stats[p.name].p_gamble_round0_loss_by_win_prob[loss_fair] for p in ordered]
        out += frame_findings(source, _round0_by_stake(stats, personas, fair), losses, bands)
    return out


def _loss_p(experiment: Any, p: float) -> float | None:
    """The grid's own float for win probability ``p`` in the loss frame, or None."""
    return next((q for q in getattr(experiment, "loss_win_probs", ()) if math.isclose(q, p)),
                None)


def _grid_p(experiment: Any, p: float) -> float | None:
    """The grid's own float for win probability ``p`` (so lookups match), or None."""
    return next((q for q in experiment.win_probs if math.isclose(q, p)), None)


def _kt_curve(human: HumanReference) -> Curve:
    """Kahneman & Tversky 1979 problems 11 and 12 (gain, loss), with 95 % Wilson intervals."""
    gain, loss = human["gain_frame_gamble"], human["loss_frame_gamble"]
    cis = [wilson(ref["value"] * ref["n"], ref["n"]) for ref in (gain, loss)]
    return Curve(BY_FRAME, "humans: Kahneman & Tversky 1979, problems 11 and 12", "human", "",
                 [0, 1], [gain["value"], loss["value"]], y_low=[c[0] for c in cis],
                 y_high=[c[1] for c in cis], xlabel="frame (0 gain, 1 loss), round 0, p = 0.5",
                 ylabel="P(gamble)", band_label="humans: 95 % Wilson interval (N = 70, 68)")


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
    loss_p = _loss_p(experiment, ref_p)
    if loss_p is not None:
        pair = [float(np.mean([s.p_gamble_round0_by_win_prob[ref_p] for s in stats])),
                float(np.mean([s.p_gamble_round0_loss_by_win_prob[loss_p] for s in stats]))]
        out.append(Curve(BY_FRAME, label, source, persona, [0, 1], pair,
                         xlabel=f"frame (0 gain, 1 loss), round 0, p = {ref_p:g}",
                         ylabel="P(gamble)"))
    return out


def _sanity(experiment: Any, policy: Policy, personas: Sequence[Persona]) -> Finding:
    """The risk-neutral chooser is exactly indifferent at fair odds, in every round and stake."""
    dev = max(abs(float(policy.action_probs(replace(s, win_prob=FAIR), p)[GAMBLE]) - 0.5)
              for p in personas for s in experiment.states())
    return Finding("risk-neutral chooser is indifferent at fair odds", "risk-neutral", dev,
                   f"max |P(gamble) - 0.5| at p = 0.5 over rounds, frames and stakes <= "
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
    if _loss_p(experiment, FAIR) is not None and fair is not None:
        out.curves.append(_kt_curve(human))
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
    out.notes.append(identification_note(experiment))
    if fair is None:
        out.notes.append("The grid has no fair odds (p = 0.5): the paper's findings and the "
                         "fair-odds human bands were not checked.")
    return out



