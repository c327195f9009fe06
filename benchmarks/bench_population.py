"""A population run's analysis: the controls' bootstrap and the policy's training, before/after.

    .venv/bin/python benchmarks/bench_population.py [--people 200] [--train-people 100]

Synthetic answers, no model: every persona x state cell of a ``builtin:adults`` population holds
two observations (the two option orders of ``--paraphrases 1``).

- **Controls bootstrap** (``controls.headline.estimate``, people resampled first): per replicate,
  the rule before (a draw per cell, the state key re-serialised at every lookup) against
  today's (the cells of ``n`` observations redrawn as one array, keys memoised). Both consume
  the random stream in the same order, so the table also checks that the intervals are equal.
- **Training** a population's policy on people whose thresholds the traits do not predict (a
  hash of the id, as ``tests/people_like.py`` does): the default ``TrainConfig`` (3 seeds, the
  guard's retry round) against the population rule (``pipeline.POPULATION_TRAINING``: no retry
  round) for the policy and a held-out refit, and the refit with one seed (the rule rejected:
  it stops early and fits the people it sees worse).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import time

import numpy as np

from subrational.config import RunConfig
from subrational.experiments.core import state_to_dict
from subrational.learning import Target, TrainConfig, train_policy
from subrational.pipeline import resolve_experiments

# the package exports a function of that name, so the module is imported by its path
H = importlib.import_module("subrational.controls.headline")


def _population(study: str, people: int):
    config = RunConfig(experiments=[study], population="builtin:adults",
                       population_size=people, seed=0)
    return resolve_experiments(config)[0]


def _before(cells: H.Cells, n_boot: int, seed: int) -> H.Estimate:
    """The estimate as it was: one draw per cell per replicate, keys serialised per lookup
    (the ultimatum and double-or-nothing headlines: P(second action) over the states they read).
    """
    def key(state) -> str:
        return json.dumps(state_to_dict(state), sort_keys=True, separators=(",", ":"))

    spec = H.headline(cells.experiment)
    exp, who = cells.experiment, list(cells.personas)
    groups = H.people_groups(who)
    rng = np.random.default_rng(seed)
    people = np.random.default_rng([seed, len(groups)])
    picks = people.integers(len(groups), size=(n_boot, len(groups)))
    mine = set(who)
    reps = []
    for pick in picks:
        means = {k: v[0] if len(v) == 1 else v[rng.integers(len(v), size=len(v))].mean(axis=0)
                 for k, v in cells.obs.items() if k[0] in mine}
        names = [n for i in pick for n in groups[i]]
        states = [s for s in exp.states() if getattr(s, "round", 0) == 0
                  and getattr(s, "offer", 0) <= 0.2 + 1e-9]
        vals = [float(means[(p, key(s))][1]) for p in names for s in states
                if (p, key(s)) in means]
        reps.append(float(np.mean(vals)))
    return H.Estimate(spec.fn(exp, cells.means(), who), np.array(reps), cells.n)


def bench_controls(people: int, n_boot: int) -> list[tuple[str, ...]]:
    rows = []
    for study in ("ultimatum", "double_or_nothing"):
        exp = _population(study, people)
        rng = np.random.default_rng(0)
        states = {H.cached_state_key(s): s for s in exp.states()}
        obs = {(p, k): rng.dirichlet([1, 1], size=2) for p in exp.personas for k in states}
        cells = H.Cells(exp, list(exp.personas), states, obs)
        t = time.perf_counter()
        old = _before(cells, n_boot, 0)
        t_old = (time.perf_counter() - t) / n_boot
        cells = H.Cells(exp, list(exp.personas), states, obs)  # nothing memoised yet
        t = time.perf_counter()
        new = H.estimate(cells, n_boot=n_boot, seed=0, by_people=True)
        t_new = (time.perf_counter() - t) / n_boot
        rows.append((f"controls bootstrap, {study}", f"{len(obs):,} cells",
                     f"{t_old * 1e3:.1f} ms", f"{t_new * 1e3:.1f} ms", f"{t_old / t_new:.1f}x",
                     "equal" if np.allclose(old.reps, new.reps) else "DIFFER"))
    return rows


def _targets(exp) -> list[Target]:
    out = []
    for persona in exp.personas.values():
        u = int(hashlib.sha256(persona.name.encode()).hexdigest()[:8], 16) / 16**8
        for state in exp.states():
            accept = 1 / (1 + np.exp(-40 * (state.offer - 0.1 - 0.3 * u)))
            out.append(Target(persona, state, np.array([accept, 1 - accept])))
    return out


def bench_training(people: int) -> list[tuple[str, ...]]:
    exp = _population("ultimatum", people)
    targets = _targets(exp)
    held = {p for i, p in enumerate(sorted(exp.personas)) if i % 5 == 0}
    seen = [t for t in targets if t.persona.name not in held]
    rows = []
    for what, data, after in (("policy", targets, TrainConfig(retries=0)),
                              ("held-out refit", seen, TrainConfig(retries=0)),
                              ("held-out refit, 1 seed", seen, TrainConfig(retries=0, seeds=1))):
        times, fits = [], []
        for config in (TrainConfig(), after):
            t = time.perf_counter()
            result = train_policy(exp, data, config=config)
            times.append(time.perf_counter() - t)
            fits.append(result.fidelity)
        rows.append((f"training, {what}", f"{len(data):,} targets", f"{times[0]:.1f} s",
                     f"{times[1]:.1f} s", f"{times[0] / times[1]:.1f}x",
                     f"mean TV {fits[0]:.3f} -> {fits[1]:.3f}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--train-people", type=int, default=100)
    parser.add_argument("--bootstrap", type=int, default=50)
    args = parser.parse_args()
    rows = bench_controls(args.people, args.bootstrap) + bench_training(args.train_people)
    head = ("step", "size", "before", "after", "ratio", "check")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for row in [head, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
