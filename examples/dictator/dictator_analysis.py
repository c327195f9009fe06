"""The dictator game's analysis: how much is given, next to Engel (2011)'s meta-analysis.

A helper module beside ``dictator.py``: a file given to ``--import`` imports the modules next
to it, as ``python dictator.py`` would. It knows the game only through the ``experiment`` it
is handed (its ``gifts`` in dollars per action and its states), so the game never imports it.

Statistics come from ``settings.episodes`` rollouts of each source in the game's Gymnasium
environment (:func:`subrational.evaluation.behaviour.simulate`), each with a 95 % interval and
the count behind it; every check is decided on its interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from subrational.evaluation.behaviour import EvalSettings, simulate
from subrational.evaluation.records import Analysis, Curve, Finding
from subrational.evaluation.structural import StructuralModel
from subrational.experiments import HumanReference, Persona, Policy

__all__ = ["HUMAN", "REFERENCE_PERSONA", "analyse", "structural_models"]

HUMAN = HumanReference.load(Path(__file__).with_name("human.json"))
"""The human reference numbers, read from ``human.json`` beside this file."""

REFERENCE_PERSONA = "participant"
"""The persona compared with the human numbers (a typical participant of a lab experiment)."""
PANEL = "Gifts out of $10"
Z95 = 1.96


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and normal 95 % interval of ``values`` (one number per episode)."""
    mean = float(values.mean())
    half = Z95 * float(values.std(ddof=1)) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return mean, mean - half, mean + half


def _giving(experiment: Any, policy: Policy, persona: Persona, *, source: str,
            settings: EvalSettings) -> dict[str, Any]:
    """Share of the pie given and P(give nothing), from rollouts, with 95 % intervals."""
    episodes = simulate(experiment, policy, persona, source=source, settings=settings)
    gifts = np.array([experiment.gifts[t.actions[0]] / t.states[0].pie for t in episodes])
    share, share_low, share_high = _interval(gifts)
    nothing, nothing_low, nothing_high = _interval((gifts == 0).astype(float))
    return {"mean_share": share, "mean_share_ci": [share_low, share_high],
            "p_give_nothing": nothing, "p_give_nothing_ci": [nothing_low, nothing_high],
            "episodes": len(episodes), "shares": gifts}


def _band(claim: str, source: str, stat: float, ci: Sequence[float], centre: float,
          tolerance: float, episodes: int) -> Finding:
    low, high = centre - tolerance, centre + tolerance
    return Finding(claim, source, stat,
                   f"95 % CI [{ci[0]:.3f}, {ci[1]:.3f}] (n = {episodes} episodes) overlaps "
                   f"[{low:.3f}, {high:.3f}] (human value ± {tolerance}, a design choice)",
                   bool(ci[1] >= low and ci[0] <= high), "human band")


def _human_curve(giving: Mapping[str, Any], bands: Mapping[str, Any]) -> Curve:
    p0, tol = giving["p_give_nothing"], bands["p_give_nothing_tolerance"]
    return Curve(PANEL, "humans give nothing (Engel 2011)", "human", "", [0.0], [p0],
                 y_low=[p0 - tol], y_high=[p0 + tol], band_label=f"± {tol}, design choice",
                 xlabel="gift ($)", ylabel="P(gift)")


def analyse(experiment: Any, policies: Mapping[str, Policy], personas: Sequence[Persona], *,
            settings: EvalSettings, human: HumanReference) -> Analysis:
    """Distribution of gifts, giving statistics per persona, the claim and the human bands."""
    giving, bands = human["giving"], human["bands"]
    state = experiment.states()[0]
    out = Analysis(curves=[_human_curve(giving, bands)])
    distance: dict[str, Any] = {"measure": "|mean share given - 0.2835| (Engel 2011), "
                                           f"{REFERENCE_PERSONA} persona"}
    for source in [s for s in ("demonstrations", "policy") if s in policies]:
        stats = {}
        for persona in personas:
            probs = np.asarray(policies[source].action_probs(state, persona), dtype=float)
            out.curves.append(Curve(PANEL, f"{source}: {persona.name}", source, persona.name,
                                    list(experiment.gifts), probs.tolist(),
                                    xlabel="gift ($)", ylabel="P(gift)"))
            stats[persona.name] = _giving(experiment, policies[source], persona,
                                          source=source, settings=settings)
            out.per_persona(source)[persona.name] = {
                k: v for k, v in stats[persona.name].items() if k != "shares"}
        out.findings.extend(_findings(source, stats, giving, bands))
        if REFERENCE_PERSONA in stats:
            distance[source] = abs(stats[REFERENCE_PERSONA]["mean_share"] - giving["mean_share"])
    for name, baseline in experiment.baselines().items():
        probs = np.asarray(baseline.action_probs(state, personas[0]), dtype=float)
        out.curves.append(Curve(PANEL, name, "baseline", "", list(experiment.gifts),
                                probs.tolist(), xlabel="gift ($)", ylabel="P(gift)"))
    out.metrics["distance_to_humans"] = distance
    return out


def _findings(source: str, stats: Mapping[str, Mapping[str, Any]], giving: Mapping[str, Any],
              bands: Mapping[str, Any]) -> list[Finding]:
    found = []
    if "selfish" in stats and REFERENCE_PERSONA in stats:
        diff = stats[REFERENCE_PERSONA]["shares"] - stats["selfish"]["shares"]
        gap, low, high = _interval(diff)
        found.append(Finding("the selfish persona gives less than the participant", source, gap,
                             f"95 % CI of the difference in mean share [{low:.3f}, {high:.3f}] "
                             f"> 0 (n = {len(diff)} episode pairs)", bool(low > 0), "claim"))
    ref = stats.get(REFERENCE_PERSONA)
    if ref is not None:
        found += [
            _band(f"{REFERENCE_PERSONA}: gives a share of the pie like humans (28.35 %)", source,
                  ref["mean_share"], ref["mean_share_ci"], giving["mean_share"],
                  bands["mean_share_tolerance"], ref["episodes"]),
            _band(f"{REFERENCE_PERSONA}: gives nothing as often as humans (36 %)", source,
                  ref["p_give_nothing"], ref["p_give_nothing_ci"], giving["p_give_nothing"],
                  bands["p_give_nothing_tolerance"], ref["episodes"]),
        ]
    return found


def _selfish_share(theta: np.ndarray, states: Sequence[Any], persona: Persona) -> np.ndarray:
    return np.full(len(states), theta[0])


def structural_models(experiment: Any, human: HumanReference) -> list[StructuralModel]:
    """A two-type mixture: a share of money-maximisers who give nothing, the rest give.

    Fitted to P(give nothing) on every demonstration row; the human range is Engel (2011)'s
    36 % with this example's tolerance (a design choice).
    """
    p0, tol = human["giving"]["p_give_nothing"], human["bands"]["p_give_nothing_tolerance"]
    return [StructuralModel("share of money-maximisers", ("selfish_share",), (0.5,),
                            ((0.0, 1.0),), _selfish_share, action=0,
                            human_range={"selfish_share": (p0 - tol, p0 + tol)},
                            human_source=f"{human['giving']['source']}: {p0:.0%} give nothing; "
                                         f"± {tol} is a design choice")]
