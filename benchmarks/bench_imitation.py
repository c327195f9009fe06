"""Imitation losses and training rules on scripted targets with a known truth.

    .venv/bin/python benchmarks/bench_imitation.py [--seeds 0 1 2] [--quick]

For each study, two scripted demonstrators (the human-like responders of the study tests and the
smooth curves of the learnability tests, ``tests/studies/*``) give the exact per persona x state
targets; each rule trains on them for every ``--seeds`` value. Rules:

- ``old paper``: one seed, early stopping on the training loss, the squared error on softmax
  outputs (what ``train_policy`` did before validation, seeds and the guard);
- ``paper`` and ``kl``: today's ``train_policy`` with each loss (3 seeds, a 20 % validation
  split, the plateau guard with one retry).

The table gives, over seeds, the largest max TV (the worst persona x state cell of the worst
seed), the mean of the mean TV, the mean epochs and seconds per call, and how many calls ended
with a guard warning. The last lines time the default run's training (the four human-like target
sets, plus the generalisation refit without the held-out persona of the three studies that have
one: 7 calls) under the old rule and under the default ``TrainConfig``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from scipy.special import expit

from subrational.experiments import make
from subrational.experiments.core import Experiment
from subrational.learning import Target, TrainConfig, train_policy

OLD = {"seeds": 1, "validation": 0.0, "retries": 0}
Script = Callable[..., np.ndarray]


def _two(p: float) -> np.ndarray:
    return np.array([p, 1.0 - p])


def ultimatum_human(persona, state) -> np.ndarray:
    a, b = {"fair": (4.5, -15.0), "typical": (1.59, -10.42), "selfish": (-4.0, 0.0)}[persona.name]
    return _two(1.0 - float(expit(a + b * state.offer)))


def ultimatum_smooth(persona, state) -> np.ndarray:
    a, b = {"fair": (3.0, -12.0), "typical": (1.59, -10.42), "selfish": (-3.9, 0.0)}[persona.name]
    return _two(1.0 - float(expit(a + b * state.offer)))


def child_like(persona, state) -> np.ndarray:
    age = persona.values["age"]
    return _two(float(expit(4 - age) if state.minute == 0 else expit(-0.5 - 0.8 * age)))


def child_smooth(persona, state) -> np.ndarray:
    return _two(float(expit(2.0 - 0.6 * persona.values["age"] - 0.15 * state.minute)))


def contestant_like(persona, state) -> np.ndarray:
    g = expit(0.5 - 0.5 * (persona.values["log_stake"] - 1) - 0.3 * state.round
              + 8.0 * (state.win_prob - 0.5))
    return _two(1.0 - float(g))


def contestant_smooth(persona, state) -> np.ndarray:
    g = expit(1.0 - 0.5 * np.log10(persona.values["stake"]) - 0.3 * state.round
              + 8.0 * (state.win_prob - 0.5))
    return _two(1.0 - float(g))


def student_like(persona, state, game) -> np.ndarray:
    slack = (game.deadline - state.day + 1) - (game.sessions - state.done)
    z = -0.5 + 1.2 * (persona.values["gpa"] - 3.0) - 0.5 * slack
    return _two(float(expit(z + 3.0 * (slack <= 0))))


def student_smooth(persona, state) -> np.ndarray:
    return _two(float(expit(-2.5 + (persona.values["gpa"] - 3.0) + 0.5 * state.day
                            + 0.3 * state.done)))


CASES: list[tuple[str, str, Script]] = [
    ("ultimatum", "human-like", ultimatum_human), ("ultimatum", "smooth", ultimatum_smooth),
    ("marshmallow", "child-like", child_like), ("marshmallow", "smooth", child_smooth),
    ("double_or_nothing", "human-like", contestant_like),
    ("double_or_nothing", "smooth", contestant_smooth),
    ("procrastination", "human-like", student_like), ("procrastination", "smooth", student_smooth),
]


def build(experiment: Experiment, script: Script) -> list[Target]:
    three = script.__code__.co_argcount == 3
    return [Target(p, s, script(p, s, experiment) if three else script(p, s))
            for p in experiment.personas.values() for s in experiment.states()]


def measure(experiment: Experiment, targets: list[Target], seed_values: list[int],
            **kwargs) -> dict[str, float]:
    rows = []
    for seed in seed_values:
        start = time.perf_counter()
        result = train_policy(experiment, targets, config=TrainConfig(seed=seed, **kwargs))
        rows.append((result.max_tv, result.fidelity, result.epochs, time.perf_counter() - start,
                     bool(result.warnings)))
    a = np.array(rows, dtype=float)
    return {"max_tv": a[:, 0].max(), "mean_tv": a[:, 1].mean(), "epochs": a[:, 2].mean(),
            "seconds": a[:, 3].mean(), "failed": int(a[:, 4].sum())}


def default_run_seconds(**kwargs) -> float:
    start = time.perf_counter()
    for study, kind, script in CASES:
        if kind == "smooth":
            continue
        experiment = make(study)
        targets = build(experiment, script)
        train_policy(experiment, targets, config=TrainConfig(**kwargs))
        held = set(experiment.holdout_personas)
        if held:
            seen = [t for t in targets if t.persona.name not in held]
            train_policy(experiment, seen, config=TrainConfig(**kwargs))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--quick", action="store_true", help="only the default-run timing")
    args = parser.parse_args()
    if not args.quick:
        print("| study | targets | rule | max TV | mean TV | epochs | seconds | guard failed |")
        print("|---|---|---|---:|---:|---:|---:|---:|")
        for study, kind, script in CASES:
            experiment = make(study)
            targets = build(experiment, script)
            for label, kwargs in (("old paper", {"loss": "paper", **OLD}),
                                  ("paper", {"loss": "paper"}), ("kl", {"loss": "kl"})):
                m = measure(experiment, targets, args.seeds, **kwargs)
                print(f"| {study} | {kind} | {label} | {m['max_tv']:.3f} | {m['mean_tv']:.4f} "
                      f"| {m['epochs']:.0f} | {m['seconds']:.2f} | {m['failed']}/"
                      f"{len(args.seeds)} |", flush=True)
    old = default_run_seconds(loss="paper", **OLD)
    new = default_run_seconds()
    print(f"\ndefault run's training (7 calls): old rule {old:.1f} s, today's default {new:.1f} s "
          f"({new / old:.2f}x)")


if __name__ == "__main__":
    main()
