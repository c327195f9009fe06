"""Population results of the ultimatum game: each person's minimum acceptable offer.

Over the offers humans were shown (5-50 % of the pie, Heffner & FeldmanHall 2022), per persona:

* ``mao``: the minimum acceptable offer, the smallest offer of at least 5 % with
  P(accept) >= 0.5 (a design choice: the 50 % rule; NaN for a person who accepts no offer);
* ``never_reject``: 1 when P(reject) < 0.5 at every offer from 5 % to 50 % (the rule is a
  design choice; humans counted people who rejected no offer they were shown);
* ``acceptance``: mean P(accept) over those offers, with its within-person (Bernoulli)
  variance, the model's own randomness for one person.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...evaluation.behaviour import LEARNED_SOURCES, EvalSettings
from ...evaluation.people import PersonMeasures, PersonOutcome, person_id
from ...evaluation.records import Analysis
from ...experiments.core import Persona, Policy
from .game import ACCEPT

__all__ = ["person_measures", "LOW", "HIGH"]

LOW, HIGH = 0.05, 0.5
"""The offers Heffner & FeldmanHall (2022) showed, as shares of the pie."""

LABELS = {
    "mao": "minimum acceptable offer: smallest offer >= 5 % with P(accept) >= 0.5 (design "
           "choice: the 50 % rule)",
    "never_reject": "never rejects: P(reject) < 0.5 at every offer 5-50 % (design choice)",
    "acceptance": "mean P(accept) over offers 5-50 % (within-person: the Bernoulli variance "
                  "of one decision, averaged over the offers)",
    "never_reject_share": "share of people who never reject (offers 5-50 %)",
    "mao_median": "median minimum acceptable offer",
    "mao_mean": "mean minimum acceptable offer",
    "accepts_none_share": "share of people who accept no offer (no minimum acceptable offer)",
}


def _statistics(outcomes: Sequence[PersonOutcome]) -> dict[str, float]:
    mao = np.array([o.values["mao"] for o in outcomes])
    known = mao[np.isfinite(mao)]
    return {"never_reject_share": float(np.mean([o.values["never_reject"] for o in outcomes])),
            "mao_median": float(np.median(known)) if len(known) else float("nan"),
            "mao_mean": float(np.mean(known)) if len(known) else float("nan"),
            "accepts_none_share": float(np.mean(~np.isfinite(mao)))}


def _p_accept(analysis: Analysis, source: str, policy: Policy, persona: Persona,
              states: Sequence[Any]) -> np.ndarray:
    stored = analysis.metrics.get("per_persona", {}).get(source, {}).get(persona.name, {})
    if "p_accept" in stored:
        return np.asarray(stored["p_accept"], dtype=float)
    return np.array([float(policy.action_probs(s, persona)[ACCEPT]) for s in states])


def person_measures(experiment: Any, policies: Mapping[str, Policy],
                    personas: Sequence[Persona], *, settings: EvalSettings,
                    analysis: Analysis) -> PersonMeasures:
    """Each person's minimum acceptable offer, never-reject and acceptance (module docstring)."""
    states = list(experiment.states())
    offers = np.array([s.offer for s in states])
    shown = (offers >= LOW - 1e-9) & (offers <= HIGH + 1e-9)
    support = offers[offers >= LOW - 1e-9]
    out: dict[str, list[PersonOutcome]] = {}
    for source in [s for s in LEARNED_SOURCES if s in policies]:
        rows = []
        for persona in personas:
            acc = _p_accept(analysis, source, policies[source], persona, states)
            ok = np.flatnonzero((offers >= LOW - 1e-9) & (acc >= 0.5))
            mao = float(offers[ok[0]]) if len(ok) else float("nan")
            pmf = (support == mao).astype(float)
            p = acc[shown]
            rows.append(PersonOutcome(
                persona.name, person_id(persona.name), dict(persona.traits),
                {"mao": mao, "never_reject": float(np.all(1 - p < 0.5)),
                 "acceptance": float(p.mean())},
                {"acceptance": float(np.mean(p * (1 - p)))}, pmf))
        out[source] = rows
    return PersonMeasures(out, _statistics, LABELS, support.tolist(),
                          "minimum acceptable offer (share of the pie)",
                          marks=("mao_median", "mao_mean"),
                          shares=("never_reject_share", "accepts_none_share"),
                          notes=["Offers 5-50 % as Heffner & FeldmanHall (2022) showed them; "
                                 "their people decided each offer twice, ours are read as "
                                 "probabilities with the 50 % rule (a design choice)."])
