"""Reference points for the held-out persona test: what a network's distance should beat.

The generalisation fit leaves a persona value out (e.g. age 6) and scores the network on the
LLM's targets for it. A small distance means little on its own, so three references sit next
to it, each a mean total-variation distance to the same targets over the same states:

``nearest``
    Copy the targets of the trained persona nearest in the network's persona features
    (:meth:`Experiment.persona_vector`): what a lookup table would answer.
``linear``
    Per state, interpolate the targets of the nearest trained persona on each side of the held-
    out one (the nearest ``b`` with ``(b - h) . (a - h) < 0`` for the nearest ``a``), weighted by
    distance; on one numeric axis this is linear interpolation between the neighbouring values.
    ``None`` when the held-out persona is not between two trained ones.
``noise floor``
    How far the LLM is from its own target for that persona when only the form of the question
    changes: per state, the mean distance of each wording's answer (option orders averaged) to
    the cell's target, averaged over states; over option orders when there is one wording;
    ``None`` with one of each. A network cannot be expected to come much closer than this.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..experiments.core import Experiment, state_key
from .dataset import Target

__all__ = ["persona_baselines", "noise_floor"]


def _tv(a: np.ndarray, b: np.ndarray) -> float:
    return float(0.5 * np.abs(a - b).sum())


def persona_baselines(experiment: Experiment, seen: Sequence[Target],
                      unseen: Sequence[Target]) -> dict[str, dict[str, Any]]:
    """Nearest-neighbour and interpolation distances for each held-out persona, by name."""
    table: dict[str, dict[str, np.ndarray]] = {}
    for t in seen:
        table.setdefault(t.persona.name, {})[state_key(t.state)] = t.probs
    vectors = {t.persona.name: experiment.persona_vector(t.persona).astype(float) for t in seen}
    out = {}
    for name in sorted({t.persona.name for t in unseen}):
        rows = [t for t in unseen if t.persona.name == name]
        h = experiment.persona_vector(rows[0].persona).astype(float)
        ranked = sorted(vectors, key=lambda n: (round(float(np.linalg.norm(vectors[n] - h)), 6), n))
        near = ranked[0]
        other = next((n for n in ranked[1:]
                      if float(np.dot(vectors[n] - h, vectors[near] - h)) < 0), None)
        out[name] = {"nearest": near, "nearest_tv": _copy_tv(rows, table[near]),
                     "linear": [near, other] if other else None,
                     "linear_tv": (_interpolated_tv(rows, table[near], table[other],
                                                    vectors[near], vectors[other], h)
                                   if other else None)}
    return out


def _copy_tv(rows: Sequence[Target], source: dict[str, np.ndarray]) -> float | None:
    dists = [_tv(t.probs, source[state_key(t.state)]) for t in rows
             if state_key(t.state) in source]
    return float(np.mean(dists)) if dists else None


def _interpolated_tv(rows: Sequence[Target], a: dict[str, np.ndarray], b: dict[str, np.ndarray],
                     va: np.ndarray, vb: np.ndarray, h: np.ndarray) -> float | None:
    da, db = float(np.linalg.norm(va - h)), float(np.linalg.norm(vb - h))
    share_b = da / (da + db)
    dists = [_tv(t.probs, (1 - share_b) * a[k] + share_b * b[k]) for t in rows
             if (k := state_key(t.state)) in a and k in b]
    return float(np.mean(dists)) if dists else None


def noise_floor(frame: Any, persona: str) -> dict[str, Any] | None:
    """The LLM's distance to its own target under other wordings (or option orders).

    ``frame`` is a demonstrations table (:mod:`subrational.demonstrations.table`); returns
    ``{"tv", "between", "n_states"}`` or ``None`` when the cells have one wording and one order.
    """
    ok = frame[(frame["status"] == "ok") & (frame["persona"] == persona)]
    if ok.empty:
        return None
    column = next((c for c in ("paraphrase", "variant") if ok[c].nunique() > 1), None)
    if column is None:
        return None
    per_state = []
    for _, cell in ok.groupby("state", sort=False):
        probs = np.stack([np.asarray(p, dtype=float) for p in cell["probs"]])
        target = probs.mean(axis=0)
        by_form = [probs[(cell[column] == v).to_numpy()].mean(axis=0)
                   for v in sorted(cell[column].unique())]
        if len(by_form) > 1:
            per_state.append(np.mean([_tv(f, target) for f in by_form]))
    if not per_state:
        return None
    return {"tv": float(np.mean(per_state)),
            "between": "wordings" if column == "paraphrase" else "option orders",
            "n_states": len(per_state)}
