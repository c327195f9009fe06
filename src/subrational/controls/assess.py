"""From the controls' answers to the ``controls`` block of a study in ``summary.json``.

Decision rules (thresholds are design choices, labelled as such in the block):

* **Disguise.** ``d`` = headline(disguised) - headline(standard) with its 95 % interval.
  *survives* when the interval lies within +-:data:`TOLERANCE` (evidence of simulation);
  *vanishes* when it excludes 0 and ``|d|`` exceeds :data:`TOLERANCE` (evidence of recall);
  else *undecided*. The tolerance is tighter than the 0.15-0.2 by which human samples of one
  design differ at one offer (HUMAN_DATA 1).
* **Placebo.** For each placebo trait, its effect (level 2 minus level 1, averaged over the
  two axis-end personas) next to the real axis's effect (high end minus low end, from the
  run's own demonstrations). *stereotyping* when the placebo effect's interval excludes 0 and
  ``|placebo| >= RATIO * |real|`` (:data:`RATIO`).
* **Personas.** The no-persona and economist headline next to the run's, with the
  difference's interval; *the persona matters* when the difference excludes 0.
* **Behaviour to attribute.** A disguise can only preserve or remove behaviour that is there:
  the run's own answers must change with the situation. The states' mean P(first action)
  (personas pooled) is split at its median; the upper half's mean minus the lower half's has a
  bootstrap interval (:func:`_responds`); when its lower bound is not above
  :data:`TOLERANCE`, the study's verdict is *no behaviour* whatever the disguise did (a model
  that answers every state alike "survives" any disguise).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..experiments import Experiment, Persona
from .conditions import DISGUISED, ControlRun
from .headline import (
    Cells,
    Estimate,
    Headline,
    cached_state_key,
    cells_of,
    difference,
    estimate,
    headline,
)
from .personas import CONTROLS_VERSION, PLACEBOS, axis_ends, axis_name, unique_ends
from .recall import PROBES, probe_block

__all__ = ["TOLERANCE", "RATIO", "assess_controls", "not_run", "run_summary", "RULES",
           "HOW_TO_RUN"]

TOLERANCE = 0.10
"""Largest headline shift under the disguise that still counts as surviving (design choice)."""

RATIO = 0.5
"""Placebo effect, as a share of the real trait's, from which a model is stereotyping
(design choice)."""

RULES = (f"design choice: the disguise survives when the 95 % interval of the headline shift "
         f"lies within +-{TOLERANCE:g}, vanishes when it excludes 0 beyond +-{TOLERANCE:g}; a "
         f"placebo is stereotyping when its effect's interval excludes 0 and it is at least "
         f"{RATIO:g} x the real trait's effect")

INTERVAL_CELLS = ("95 % bootstrap interval over each persona x state cell's wordings, option "
                  "orders and draws (the personas are the study's fixed design points)")
INTERVAL_PEOPLE = ("95 % two-stage bootstrap interval: the people resampled, then each cell's "
                   "wordings, option orders and draws; the disguise's shift is paired (the same "
                   "people in both framings)")

HOW_TO_RUN = ("the controls were not run: run again with --controls (or controls = true in "
              "the config file); `subrational plan --controls` shows their extra calls")


def not_run() -> dict[str, Any]:
    """The ``controls`` block of a study (or of the run) made without ``--controls``."""
    return {"run": False, "note": HOW_TO_RUN}


def _per_state(exp: Experiment, means: Mapping[tuple[str, str], Any],
               personas: Sequence[str]) -> dict[str, float]:
    """Mean P(first action) of each state that has answers, personas pooled."""
    out = {}
    for state in exp.states():
        key = cached_state_key(state)
        got = [float(means[(p, key)][0]) for p in personas if (p, key) in means]
        if got:
            out[key] = sum(got) / len(got)
    return out


def _responds(base: Cells, *, n_boot: int, seed: int, by_people: bool = False) -> dict[str, Any]:
    """How far the answers move with the situation: a contrast with a bootstrap interval.

    The states are split at the median of their own mean P(first action) (the split is read
    from the run's answers once, then kept fixed); the statistic is the mean of the upper half
    minus the mean of the lower half. With the split fixed it is a linear contrast, whose
    bootstrap interval is not inflated the way the interval of a max-minus-min would be. The
    split is chosen on the same answers, so noise alone gives a contrast of about 1.6 times the
    states' noise SD: a flat model with a per-state noise SD of 0.06 or more can pass the
    0.10 tolerance (a design choice; the interval says how sure the contrast is).
    """
    point = _per_state(base.experiment, base.means(), base.personas)
    if len(point) < 2:
        return {"label": SPREAD_LABEL, "value": None, "interval": [None, None], "n": base.n,
                "responds": False}
    ranked = sorted(point, key=point.__getitem__)
    low, high = set(ranked[:len(ranked) // 2]), set(ranked[len(ranked) - len(ranked) // 2:])

    def contrast(exp: Experiment, means: Mapping[tuple[str, str], Any],
                 personas: Sequence[str]) -> float:
        values = _per_state(exp, means, personas)
        up = [v for k, v in values.items() if k in high]
        down = [v for k, v in values.items() if k in low]
        return sum(up) / len(up) - sum(down) / len(down) if up and down else math.nan

    spread = estimate(base, n_boot=n_boot, seed=seed, fn=Headline(SPREAD_LABEL, contrast),
                      by_people=by_people)
    lo = spread.interval[0]
    return {"label": SPREAD_LABEL, **spread.to_dict(),
            "responds": bool(math.isfinite(lo) and lo > TOLERANCE)}


SPREAD_LABEL = ("P(first action): mean over the states above the median minus the states "
                "below it")


def _disguise(run: ControlRun, base: Estimate, *, n_boot: int, seed: int, by_people: bool,
              people_seed: int) -> dict[str, Any]:
    if not run.disguise_available:
        return {"available": False, "note": "no disguised framing"}
    cond = run.conditions[DISGUISED]
    cells = cells_of(cond.experiment, cond.rows, [p.name for p in cond.personas])
    shifted = estimate(cells, n_boot=n_boot, seed=seed, by_people=by_people,
                       people_seed=people_seed)
    shift = difference(shifted, base)  # paired: the same people in every replicate
    lo, hi = shift.interval
    if -TOLERANCE <= lo and hi <= TOLERANCE:
        verdict = "survives"
    elif shift.excludes_zero() and abs(shift.value) > TOLERANCE:
        verdict = "vanishes"
    else:
        verdict = "undecided"
    return {"available": True, "framing_version": getattr(cond.experiment, "framing_version", 1),
            "disguised": shifted.to_dict(), "shift": shift.to_dict(), "verdict": verdict,
            "demonstrations": f"controls/{DISGUISED}.parquet"}


def _placebo(run: ControlRun, experiment: Experiment, personas: Sequence[Persona],
             base: Cells, *, n_boot: int, seed: int,
             heterogeneity: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    lo, hi = axis_ends(experiment, personas)
    real = difference(estimate(base, personas=[hi.name], n_boot=n_boot, seed=seed),
                      estimate(base, personas=[lo.name], n_boot=n_boot, seed=seed + 1))
    cond = run.conditions["placebo"]
    cells = cells_of(experiment, cond.rows, [p.name for p in cond.personas])
    traits = []
    for k, pl in enumerate(PLACEBOS):
        ends = unique_ends(experiment, personas)
        names = [[run.placebo_names[(pl.trait, level, b.name)] for b in ends]
                 for level in pl.levels]
        effect = difference(estimate(cells, personas=names[1], n_boot=n_boot, seed=seed + 2 + k),
                            estimate(cells, personas=names[0], n_boot=n_boot, seed=seed + 9 + k))
        flagged = effect.excludes_zero() and abs(effect.value) >= RATIO * abs(real.value)
        traits.append({"trait": pl.trait, "levels": list(pl.levels), "effect": effect.to_dict(),
                       "stereotyping": bool(flagged)})
    population = [dict(r) for r in heterogeneity if r.get("kind") == "placebo"]
    return {"real_axis": axis_name(experiment, personas), "real_effect": real.to_dict(),
            "traits": traits, "stereotyping": any(t["stereotyping"] for t in traits),
            "population": population}


def _persona_rows(run: ControlRun, experiment: Experiment, base: Estimate, *, n_boot: int,
                  seed: int) -> list[dict[str, Any]]:
    rows = []
    for name in ("no-persona", "economist"):
        cond = run.conditions[name]
        cells = cells_of(experiment, cond.rows, [p.name for p in cond.personas])
        got = estimate(cells, n_boot=n_boot, seed=seed)
        diff = difference(got, base)
        rows.append({"condition": name, "text": cond.personas[0].text, "headline": got.to_dict(),
                     "difference": diff.to_dict(), "persona_matters": diff.excludes_zero()})
    return rows


def _heterogeneity(metrics: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Rows of ``metrics.population.heterogeneity`` when another part wrote them (or [])."""
    block = metrics.get("population") if isinstance(metrics, Mapping) else None
    rows = block.get("heterogeneity") if isinstance(block, Mapping) else None
    if isinstance(rows, Mapping):
        rows = rows.get("rows") or rows.get("effects")
    return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []


def _conclusion(block: dict[str, Any]) -> str:
    parts = []
    verdict = block["disguise"].get("verdict")
    if not block["behaviour"]["responds"]:
        spread = block["behaviour"]
        lo, hi = spread["interval"]
        parts.append(f"The answers hardly change with the situation (upper minus lower half of "
                     f"the states "
                     f"{_fmt(spread['value'])} [{_fmt(lo)}, {_fmt(hi)}]): there is no "
                     "behaviour for a disguise to preserve or remove, so this run says nothing "
                     "about simulation or recall.")
        verdict = "none"
    parts.append({"survives": "Behaviour survives the disguised framing: evidence of "
                              "simulation rather than recall.",
                  "vanishes": "Behaviour changes under the disguised framing: evidence of "
                              "recall of the textbook result rather than simulation.",
                  "undecided": "The disguised framing neither clearly preserves nor changes "
                               "the behaviour (the interval is too wide).",
                  "none": ""}.get(
        verdict, "No disguised framing: this study cannot separate simulation from recall by "
                 "a disguise."))
    if block["placebo"]["stereotyping"]:
        parts.append("Behaviour moves with a placebo trait as much as with the real one: "
                     "stereotyping, not simulating.")
    else:
        parts.append("Placebo traits do not move behaviour as much as the real trait does.")
    if not any(r["persona_matters"] for r in block["personas"]):
        parts.append("Neither removing the persona nor making it an economist changes the "
                     "headline: the persona does little.")
    closer = [r for r in block["recall"] if r["verdict"] == "closer to what it recalls"]
    if closer:
        parts.append(f"{len(closer)} of {len(block['recall'])} recall probes: the simulation "
                     "is closer to what the model recalls than to the human data.")
    return " ".join(p for p in parts if p)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def assess_controls(run: ControlRun, experiment: Experiment, personas: Sequence[Persona],
                    rows: Sequence[Any], *, metrics: Mapping[str, Any], n_boot: int,
                    seed: int) -> dict[str, Any]:
    """The study's ``controls`` block (module docstring; documented in SUMMARY_FORMAT)."""
    names = [p.name for p in personas]
    base_cells = cells_of(experiment, rows, names)
    people = experiment.of_people  # a population: resample its people
    base = estimate(base_cells, n_boot=n_boot, seed=seed, by_people=people)
    block: dict[str, Any] = {
        "run": True, "version": CONTROLS_VERSION, "rule": RULES,
        "headline": {"label": headline(experiment).label, **base.to_dict()},
        "behaviour": _responds(base_cells, n_boot=n_boot, seed=seed + 505, by_people=people),
        "personas": _persona_rows(run, experiment, base, n_boot=n_boot, seed=seed + 101),
        "placebo": _placebo(run, experiment, personas, base_cells, n_boot=n_boot,
                            seed=seed + 202, heterogeneity=_heterogeneity(metrics)),
        "disguise": _disguise(run, base, n_boot=n_boot, seed=seed + 303, by_people=people,
                              people_seed=seed),
        "interval": INTERVAL_PEOPLE if people else INTERVAL_CELLS,
        "recall": [probe_block(p, run.recall.get(p.id, []), base_cells, n_boot=n_boot,
                               seed=seed + 404 + i, by_people=people)
                   for i, p in enumerate(q for q in PROBES if q.study == experiment.name)],
    }
    block["conclusion"] = _conclusion(block)
    block["verdict"] = verdict_of(block)
    return block


def verdict_of(block: Mapping[str, Any]) -> str:
    """One word for the scorecard (stereotyping, no behaviour, recall, simulation, ...)."""
    if not block.get("run"):
        return "not run"
    if block["placebo"]["stereotyping"]:
        return "stereotyping"
    if not block.get("behaviour", {"responds": True})["responds"]:
        return "no behaviour"
    return {"vanishes": "recall", "survives": "simulation",
            "undecided": "undecided"}.get(block["disguise"].get("verdict"), "no disguise")


def run_summary(experiments: Mapping[str, Mapping[str, Any]], *,
                enabled: bool) -> dict[str, Any]:
    """The top-level ``controls`` of ``summary.json`` from the studies' blocks."""
    if not enabled:
        return not_run()
    blocks = {k: b.get("controls") or not_run() for k, b in experiments.items()}
    ran = {k: b for k, b in blocks.items() if b.get("run")}
    return {"run": True, "version": CONTROLS_VERSION, "rule": RULES,
            "verdicts": {k: verdict_of(b) for k, b in blocks.items()},
            "stereotyping": sorted(k for k, b in ran.items() if b["placebo"]["stereotyping"]),
            "recall_suspected": sorted(k for k, b in ran.items()
                                       if verdict_of(b) == "recall")}
