"""Exact behaviour statistics vs 2,000 rollouts: the wall time of one study analysis.

    .venv/bin/python benchmarks/bench_exact.py [--repeat 3] [--episodes 2000] [--no-baselines]

Per study (default options), one :func:`~subrational.evaluation.analyse_study` call with the
``demonstrations`` and the ``policy`` both set to a scripted, persona-dependent human-like
policy (the ones the study tests use) and, unless ``--no-baselines``, the study's baselines, as a
run analyses them. "exact" is the default settings (every episode weighted by its probability);
"rollouts" forces ``EvalSettings(episodes=2000, max_paths=0)``, the behaviour before exact
enumeration. Each time is the fastest of ``--repeat`` calls, after one warm-up call of each, all
in one process; the ratio is rollouts / exact. The ultimatum analysis reads the policies'
probabilities and plays no episode, so its ratio is about 1.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import expit

from subrational.evaluation import analyse_study
from subrational.evaluation.behaviour import EvalSettings
from subrational.experiments import make


class Responder:
    """A fair persona with a high threshold, a typical human one, a selfish one that accepts."""

    def action_probs(self, state: Any, persona: Any) -> np.ndarray:
        a, b = {"fair": (4.5, -15.0), "typical": (1.59, -10.42),
                "selfish": (-4.0, 0.0)}[persona.name]
        p_reject = float(expit(a + b * state.offer))
        return np.array([1.0 - p_reject, p_reject])


class Child:
    """Eats at once with sigmoid(4 - age), later with sigmoid(-0.5 - 0.8 age) per minute."""

    def action_probs(self, state: Any, persona: Any) -> np.ndarray:
        age = persona.values["age"]
        p_eat = expit(4 - age) if state.minute == 0 else expit(-0.5 - 0.8 * age)
        return np.array([p_eat, 1 - p_eat])


class Student:
    """Works when the deadline is close, and more the higher the GPA."""

    def __init__(self, game: Any) -> None:
        self.game = game

    def action_probs(self, state: Any, persona: Any) -> np.ndarray:
        slack = (self.game.deadline - state.day + 1) - (self.game.sessions - state.done)
        z = -0.5 + 1.2 * (persona.values["gpa"] - 3.0) - 0.5 * slack
        work = float(expit(z + 3.0 * (slack <= 0)))
        return np.array([work, 1.0 - work])


class Contestant:
    """P(gamble) = sigmoid(0.5 - 0.5 (log10 w0 - 1) - 0.3 round + 8 (p - 0.5))."""

    def action_probs(self, state: Any, persona: Any) -> np.ndarray:
        g = float(expit(0.5 - 0.5 * (persona.values["log_stake"] - 1) - 0.3 * state.round
                        + 8.0 * (state.win_prob - 0.5)))
        return np.array([1 - g, g])


POLICIES: dict[str, Callable[[Any], Any]] = {
    "ultimatum": lambda game: Responder(), "marshmallow": lambda game: Child(),
    "procrastination": Student, "double_or_nothing": lambda game: Contestant()}


def _best(call: Callable[[], Any], repeat: int) -> float:
    call()  # warm-up: imports, first-call caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--episodes", type=int, default=2000)
    parser.add_argument("--no-baselines", action="store_true")
    args = parser.parse_args()
    exact, rolled = EvalSettings(), EvalSettings(episodes=args.episodes, max_paths=0)
    print(f"one analyse_study call per study, fastest of {args.repeat}; demonstrations = policy "
          f"= a scripted policy{'' if args.no_baselines else ', plus the baselines'}")
    print(f"{'study':<18} {'exact (s)':>10} {f'{args.episodes} rollouts (s)':>18} {'ratio':>7}")
    for name, make_policy in POLICIES.items():
        game = make(name)
        policy = make_policy(game)
        policies = {"demonstrations": policy, "policy": policy,
                    **({} if args.no_baselines else game.baselines())}
        personas = list(game.personas.values())

        def run(settings: EvalSettings) -> Any:
            return analyse_study(game, policies, personas, settings=settings)  # noqa: B023

        t_exact, t_rolled = _best(lambda: run(exact), args.repeat), \
            _best(lambda: run(rolled), args.repeat)
        print(f"{name:<18} {t_exact:>10.3f} {t_rolled:>18.3f} {t_rolled / t_exact:>7.1f}")


if __name__ == "__main__":
    main()
