"""Intervals from the LLM's own variability, and checks decided on them.

One resampling scheme gives every statistic of the demonstrations its interval: the study's
own analysis is run again on bootstrap replicates of the LLM's answers, and each finding
statistic (and the distance to humans) gets the 2.5 and 97.5 percentiles of its replicates and
the share of replicates in which its check holds (``p_holds``). The replicates resample what the
LLM actually produced:

* ``sample`` method, one-step games: the parsed draws of each persona x state cell
  (multinomial with the cell's pooled frequencies and number of draws): a bootstrap over draws
  clustered by persona x state;
* ``sample`` method, sequential games: the LLM's own sampled episodes of each persona (with
  replacement, as many as it played), the lookup table re-tallied from them;
* ``choice-probs``: the wording x option-order blocks (drawn with replacement once per
  replicate and shared by every cell, since a wording moves all states at once). With the
  default three wordings and two orders there are six blocks, so these intervals are coarse;
* a population (``--population``): before any of these, the people themselves, drawn with
  replacement (:func:`_people`), since a population statistic varies with who was drawn.

A policy without data behind it (a scripted responder, the learned network) has no sampling
error: its checks are decided on the point estimate and carry no interval. Behaviour statistics
are exact where the game is small (:func:`~subrational.experiments.rollout.enumerate_episodes`),
so rollout Monte Carlo error does not enter.

Decisions (:data:`DECISION_RULE`): a *claim* (a paper claim, or a direction over personas or
states) is confirmed when its bootstrap p-value, ``(1 + replicates
where it fails) / (1 + replicates)``, is at most 0.05 after Holm's correction over the study's
claims on the demonstrations, and refuted when it fails in at least 95 % of the replicates; a
*level* check (against a human band or a threshold of our own, or a tolerance such as
"rejection does not rise with the offer") passes unless the bootstrap shows with
95 % confidence that it fails: the model is not shown to differ from humans there. Which kind a
check is, is its :attr:`~subrational.evaluation.records.Finding.test`. A replicate in which a
statistic is undefined counts as a failure of it.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..experiments.core import Persona, Policy, state_key
from ..experiments.rollout import Trajectory
from ..seeding import derived_rng
from .records import CONFIRM, DEMONSTRATIONS, Analysis, Finding
from .sensitivity import failure_sensitivity

__all__ = ["ALPHA", "DECISION_RULE", "SCHEME_BLOCKS", "SCHEME_DRAWS", "SCHEME_EPISODES",
           "Replicates", "assess", "decide", "holm", "is_claim"]

ALPHA = 0.05
"""Family-wise error rate of a study's claims, and the level of the level checks."""
SCHEME_DRAWS = "parsed draws per persona x state"
SCHEME_EPISODES = "the LLM's sampled episodes per persona"
SCHEME_BLOCKS = "wording x option-order blocks"

DECISION_RULE = (
    "Every statistic of the LLM's demonstrations carries a 95 % bootstrap interval from the "
    "LLM's own variability (its parsed draws per persona x state, its sampled episodes, or its "
    "wording x option-order blocks for choice-probs) and p_holds, the share of bootstrap "
    "replicates in which its check holds. A claim (a paper claim, or a direction over personas "
    "or states) is reproduced (confirmed) when its bootstrap p-value (1 + replicates where it "
    "fails) / (1 + replicates) is at most 0.05 after Holm's correction over the study's "
    "claims, refuted when it holds in at most 5 % of the replicates, and undecided in between; "
    "a level check (against a human band or a threshold of our own design, or a tolerance such "
    "as \"rejection does not rise with the offer\") passes unless it fails with 95 % "
    "confidence (p_holds <= 0.05, the model is not shown to "
    "differ from humans there). A statistic undefined in a replicate counts as failing there. "
    "Checks of a policy without data behind it (the learned network) are decided on the point "
    "estimate: they are the imitation check, not evidence about the LLM.")


@dataclass(frozen=True)
class _Scheme:
    name: str
    units: int


def _cells_by_block(policy: Any) -> tuple[list[str], dict[tuple[str, str], dict[str, np.ndarray]]]:
    """Choice-probs answers per persona x state cell, keyed by wording x order block."""
    cells: dict[tuple[str, str], dict[str, list[np.ndarray]]] = {}
    for persona, rows in policy._draws.items():  # noqa: SLF001 - the policy's own rows
        for row in rows:
            cells.setdefault((persona, state_key(row.state)), {}).setdefault(
                row.block, []).append(np.asarray(row.probs, dtype=float))
    blocks = sorted({b for cell in cells.values() for b in cell})
    return blocks, {k: {b: np.mean(v, axis=0) for b, v in cell.items()}
                    for k, cell in cells.items()}


def _step_matrix(trajectories: Sequence[Trajectory], n_actions: int
                 ) -> tuple[list[str], np.ndarray]:
    """The cells the episodes visit and, per episode, its answers per cell x action."""
    keys: dict[Any, int] = {}
    rows = []
    for t in trajectories:
        row: dict[tuple[int, int], int] = {}
        for s, a in zip(t.states, t.actions, strict=True):
            cell = keys.setdefault(s, len(keys))
            row[(cell, a)] = row.get((cell, a), 0) + 1
        rows.append(row)
    matrix = np.zeros((len(trajectories), len(keys) * n_actions))
    for i, row in enumerate(rows):
        for (cell, a), n in row.items():
            matrix[i, cell * n_actions + a] = n
    return [state_key(s) for s in keys], matrix


class Replicates:
    """``n_boot`` bootstrap replicates of LLM demonstrations (a ``TablePolicy``).

    Index it to get replicate ``b``: a copy of the policy whose lookup table (and sampled
    episodes) are resampled as the module docstring says. ``scheme`` names what is resampled and
    ``units`` how many of it there are (draws, episodes or blocks).
    """

    def __init__(self, policy: Any, n_boot: int, rng: np.random.Generator) -> None:
        self.policy, self.n_boot = policy, n_boot
        self._episodes: dict[str, np.ndarray] = {}
        self._draws: dict[tuple[str, str], np.ndarray] = {}
        self._blocks: np.ndarray | None = None
        if policy.has_episodes:
            eps = policy._episodes  # noqa: SLF001 - the policy's own episodes
            self.scheme = _Scheme(SCHEME_EPISODES, sum(len(v) for v in eps.values()))
            self._idx = {p: rng.integers(len(v), size=(n_boot, len(v))) for p, v in eps.items()}
            self._steps = {p: _step_matrix(v, policy.n_actions) for p, v in eps.items()}
            # What the table holds beyond the completed episodes' steps (draws of abandoned
            # episodes) stays as it is in every replicate.
            self._rest = {k: self._counts(k) for k in policy.table}
            for p, (cells, matrix) in self._steps.items():
                done = matrix.sum(axis=0).reshape(len(cells), policy.n_actions)
                for cell, c in zip(cells, done, strict=True):
                    key = (p, cell)
                    self._rest[key] = np.maximum(self._rest.get(key, 0.0) - c, 0.0)
        elif policy.draws:
            self.scheme = _Scheme(SCHEME_DRAWS, int(sum(policy.draws.values())))
            for key, probs in policy.table.items():
                n = policy.draws.get(key, 0)
                if n > 0:
                    self._draws[key] = rng.multinomial(n, probs / probs.sum(), size=n_boot) / n
        else:
            blocks, cells = _cells_by_block(policy)
            self.scheme = _Scheme(SCHEME_BLOCKS, len(blocks))
            # per cell: the positions of its blocks among all blocks and its blocks' answers
            # stacked once, so a replicate only reweights them
            position = {name: i for i, name in enumerate(blocks)}
            self._stacked = {key: (np.array([position[blk] for blk in by_block], dtype=np.intp),
                                   np.stack(list(by_block.values())))
                             for key, by_block in cells.items()}
            self._blocks = rng.multinomial(len(blocks), np.full(len(blocks), 1 / len(blocks)),
                                           size=n_boot) if blocks else None

    def _counts(self, key: tuple[str, str]) -> np.ndarray:
        return self.policy.table[key] * self.policy.draws.get(key, 0)

    def __len__(self) -> int:
        return self.n_boot

    def __getitem__(self, b: int) -> Any:
        rep = copy.copy(self.policy)
        if self.scheme.name == SCHEME_EPISODES:
            k = self.policy.n_actions
            counts = {key: r.copy() for key, r in self._rest.items()}
            eps = {}
            for p, v in self.policy._episodes.items():  # noqa: SLF001
                idx = self._idx[p][b]
                eps[p] = [v[i] for i in idx]
                cells, matrix = self._steps[p]
                tally = (np.bincount(idx, minlength=len(v)) @ matrix).reshape(len(cells), k)
                for cell, c in zip(cells, tally, strict=True):
                    counts[(p, cell)] = counts.get((p, cell), 0.0) + c
            rep._episodes = eps  # noqa: SLF001
            rep.table = {key: c / c.sum() for key, c in counts.items() if c.sum() > 0}
        elif self.scheme.name == SCHEME_DRAWS:
            rep.table = {**self.policy.table, **{k: v[b] for k, v in self._draws.items()}}
        elif self._blocks is not None:
            drawn = self._blocks[b]
            table = dict(self.policy.table)
            for key, (where, stacked) in self._stacked.items():
                w = drawn[where].astype(float)
                if w.sum() > 0 and key in table:
                    table[key] = (w[:, None] * stacked).sum(0) / w.sum()
            rep.table = table
        return rep


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979).

    The same numbers as statsmodels' ``multipletests(p, method="holm")[1]`` (a test checks
    it), which also runs a full garbage collection on every call: a quarter of a second, paid
    once per study and replicate study in the simulations.
    """
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    m = len(p)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def is_claim(finding: Finding) -> bool:
    """Whether a check is a claim to confirm with confidence (``test == "confirm"``)."""
    return finding.test == CONFIRM


def _key(f: Finding) -> tuple[str, str]:
    return f.claim, f.source


def _percentiles(values: list[float]) -> tuple[float, float] | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return None
    lo, hi = np.percentile(finite, [2.5, 97.5])
    return float(lo), float(hi)


def decide(findings: Sequence[Finding], replicates: Mapping[tuple[str, str], list[Any]],
           n_boot: int, *, units: int, scheme: str, alpha: float = ALPHA) -> list[Finding]:
    """The demonstrations' findings with intervals, p_holds and interval-based decisions.

    ``replicates[(claim, source)]`` lists (statistic, reproduced) per replicate. Claims are
    Holm-corrected together; level checks pass unless they fail with ``1 - alpha`` confidence.
    """
    out: list[Finding] = []
    claim_p: dict[int, float] = {}
    for f in findings:
        reps = replicates.get(_key(f), [])
        holds = [r for _, r in reps]
        n_hold = sum(bool(h) for h in holds)
        p_holds = n_hold / n_boot if n_boot else math.nan
        stats = [s for s, _ in reps]
        interval = _percentiles([s for s in stats if s is not None])
        pattern = "".join("-" if h is None else "1" if h else "0" for h in holds)
        g = dataclasses.replace(f, interval=interval, p_holds=p_holds, draws=units,
                                resampled=scheme, n_boot=n_boot, replicates=pattern,
                                point_reproduced=f.reproduced)
        if f.reproduced is None and n_hold == 0:
            out.append(dataclasses.replace(g, outcome="not assessed"))
            continue
        if is_claim(f):
            claim_p[len(out)] = (1 + n_boot - n_hold) / (1 + n_boot)
        else:
            p_fail = (1 + n_hold) / (1 + n_boot)
            ok = p_fail > alpha
            outcome = ("inside" if p_holds >= 1 - alpha else "consistent") if ok else "outside"
            g = dataclasses.replace(g, reproduced=ok, outcome=outcome)
        out.append(g)
    if claim_p:
        idx = list(claim_p)
        adjusted = holm([claim_p[i] for i in idx])
        for i, p in zip(idx, adjusted, strict=True):
            ok = p <= alpha
            refuted = not ok and (out[i].p_holds or 0.0) <= alpha
            out[i] = dataclasses.replace(out[i], reproduced=bool(ok), p_value=float(p),
                                         outcome="confirmed" if ok else "refuted" if refuted
                                         else "undecided")
    return out


def _exact(findings: Sequence[Finding]) -> list[Finding]:
    """Checks of a policy without data: decided on the point estimate, no interval."""
    return [dataclasses.replace(f, point_reproduced=f.reproduced, outcome=(
        "not assessed" if f.reproduced is None else "exact: holds" if f.reproduced
        else "exact: fails")) for f in findings]


def _agreement(analyse: Callable[..., Analysis], experiment: Any, demos: Any,
               personas: Sequence[Persona], findings: Sequence[Finding], *, settings: Any,
               human: Any) -> dict[tuple[str, str], dict[str, list[int]]]:
    """Per finding: [agree, n] over the wordings and over the option orders asked alone."""
    frame = getattr(demos, "_frame", None)
    out: dict[tuple[str, str], dict[str, list[int]]] = {_key(f): {} for f in findings}
    if frame is None or not hasattr(demos, "subset"):
        return out
    full = {_key(f): f.reproduced for f in findings}
    for factor, column in (("wording", "paraphrase"), ("order", "variant")):
        levels = sorted(frame[column].unique().tolist())
        if len(levels) < 2:
            continue
        for level in levels:
            rep = analyse(experiment, {DEMONSTRATIONS: demos.subset(**{column: level})},
                          personas, settings=settings, human=human)
            got = {_key(f): f.reproduced for f in rep.findings if f.source == DEMONSTRATIONS}
            for key, ok in full.items():
                if ok is None:
                    continue
                tally = out[key].setdefault(factor, [0, 0])
                tally[0] += got.get(key) == ok
                tally[1] += 1
    return out


def _people(personas: Sequence[Persona]) -> list[list[Persona]]:
    """A population's personas grouped by person (``[]`` for a study's own personas).

    A population's people are a sample, so a replicate draws them with replacement (a person
    crossed with the study's axis, ``ann/gpa-2.0`` ... ``ann/gpa-4.0``, is drawn whole) before
    resampling each one's answers: the two-stage bootstrap of a population statistic. A
    study's own personas are fixed design points and are never resampled.
    """
    if not personas or not all(p.traits for p in personas):
        return []
    groups: dict[str, list[Persona]] = {}
    for p in personas:
        groups.setdefault(p.name.split("/", 1)[0], []).append(p)
    return list(groups.values()) if len(groups) > 1 else []


def assess(analyse: Callable[..., Analysis], experiment: Any, policies: Mapping[str, Policy],
           personas: Sequence[Persona], *, settings: Any, human: Any, n_boot: int = 200,
           seed: int = 0, alpha: float = ALPHA, extras: bool = True) -> Analysis:
    """Run ``analyse`` and give the demonstrations' findings intervals and earned decisions.

    ``analyse`` is a study's analysis (``analyse(experiment, policies, personas, *, settings,
    human)``); it runs once on every source, then ``n_boot`` times on bootstrap replicates of
    the demonstrations alone (:class:`Replicates`), at least ``2 m / alpha`` times for ``m``
    claims, so that Holm's correction can confirm a claim that holds in every replicate.
    Demonstrations that are not LLM answers (a scripted policy handed in directly) and every
    other source are decided on the point estimate. ``metrics["uncertainty"]`` says how the
    intervals were made. ``extras=False``
    skips what does not change a decision (the agreement over wordings and orders alone, the
    parse-failure bounds), for simulations that repeat this many times.
    """
    point = analyse(experiment, policies, personas, settings=settings, human=human)
    demos = policies.get(DEMONSTRATIONS)
    mine = [f for f in point.findings if f.source == DEMONSTRATIONS]
    others = [f for f in point.findings if f.source != DEMONSTRATIONS]
    if demos is None or not hasattr(demos, "_draws") or n_boot < 1:
        point.findings[:] = _exact(mine) + _exact(others)
        point.metrics["uncertainty"] = {"resampled": "none: no LLM answers behind the "
                                        "demonstrations", "n_boot": 0, "alpha": alpha}
        return point
    # Holm over m claims confirms none unless m / (n_boot + 1) <= alpha: take enough replicates
    # that a claim holding in every one is confirmed with room to spare.
    n_claims = sum(is_claim(f) for f in mine)
    n_boot = max(n_boot, math.ceil(2 * n_claims / alpha))
    reps = Replicates(demos, n_boot, derived_rng(seed, "findings", experiment.id))
    groups = _people(personas)
    pick = derived_rng(seed, "people", experiment.id)
    table: dict[tuple[str, str], list[Any]] = {_key(f): [] for f in mine}
    distances: list[float] = []
    for b in range(n_boot):
        who = personas if not groups else [
            p for i in pick.integers(len(groups), size=len(groups)) for p in groups[i]]
        rep = analyse(experiment, {DEMONSTRATIONS: reps[b]}, who, settings=settings,
                      human=human)
        got = {_key(f): f for f in rep.findings if f.source == DEMONSTRATIONS}
        for key, rows in table.items():
            f = got.get(key)
            rows.append((None, None) if f is None else (f.statistic, f.reproduced))
        d = rep.metrics.get("distance_to_humans", {}).get(DEMONSTRATIONS)
        if d is not None and math.isfinite(d):
            distances.append(float(d))
    scheme = reps.scheme.name + (f"; first the people ({len(groups)}), with replacement"
                                 if groups else "")
    decided = decide(mine, table, n_boot, units=reps.scheme.units, scheme=scheme, alpha=alpha)
    agree = _agreement(analyse, experiment, demos, personas, mine, settings=settings,
                       human=human) if extras else {}
    bounds = (failure_sensitivity(analyse, experiment, demos, personas, settings=settings,
                                  human=human, point=point)
              if extras and hasattr(demos, "with_failures_as") else {})

    def _bounded(f: Finding) -> Finding:
        b = bounds.get(f.claim)
        if b is None:
            return f
        robust = None if b.reproduced_all is None or b.reproduced_any is None \
            else b.reproduced_all == b.reproduced_any
        return dataclasses.replace(f, failure_bound=(b.low, b.high), failure_robust=robust)

    decided = [_bounded(dataclasses.replace(f, agreement=agree.get(_key(f)) or None))
               for f in decided]
    point.findings[:] = decided + _exact(others)
    distance = point.metrics.get("distance_to_humans")
    if isinstance(distance, dict) and DEMONSTRATIONS in distance:
        distance[f"{DEMONSTRATIONS}_interval"] = _percentiles(distances)
        if (bound := bounds.get("distance_to_humans")) is not None:
            distance[f"{DEMONSTRATIONS}_failure_bound"] = [bound.low, bound.high]
    point.metrics["uncertainty"] = {
        "resampled": scheme,
        "units": reps.scheme.units, "n_boot": n_boot,
        "alpha": alpha, "rule": DECISION_RULE,
        "claims": sum(is_claim(f) for f in mine), "not_assessed": sum(
            f.outcome == "not assessed" for f in decided)}
    return point

