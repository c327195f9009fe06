"""Conformance checks for a game: the contract every study must keep, one line per problem.

The same checks run over every registered study in the test suite, run for a game of one's own
with :func:`check_experiment` (or ``subrational check --import my_game.py``), and run on an
imported game before a run makes any model call, so that a broken ``situation()`` or a feature
outside [0, 1] is found for free instead of after paying for the calls.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from ..errors import ConfigError
from .core import Experiment, Persona, state_key
from .env import GameEnv
from .registry import make
from .rollout import rollout

__all__ = ["CheckReport", "check_experiment"]


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check_experiment` found.

    Attributes:
        experiment: Versioned id of the game checked.
        checks: Names of the checks that ran, in order.
        problems: One line per problem, each saying what to fix; empty when the game conforms.
    """

    experiment: str
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no check found a problem."""
        return not self.problems

    def raise_if_failed(self) -> None:
        """Raise a one-line :class:`~subrational.errors.ConfigError` naming the first problem."""
        if self.problems:
            more = f" (and {len(self.problems) - 1} more: run `subrational check`)" \
                if len(self.problems) > 1 else ""
            raise ConfigError(f"{self.experiment}: {self.problems[0]}{more}")


class _Uniform:
    def __init__(self, n: int) -> None:
        self.p = np.full(n, 1.0 / n)

    def action_probs(self, state: Any, persona: Persona) -> np.ndarray:
        return self.p


class _Stop(Exception):
    """A check cannot go on (its later steps need what failed)."""


def _call(problems: list[str], what: str, fn: Callable[[], Any]) -> Any:
    """``fn()``, or one line naming the method when the game's code raises."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - the game's own code, reported in one line
        problems.append(f"{what} raised {type(exc).__name__}: {exc}")
        raise _Stop from exc


def _personas(exp: Experiment, problems: list[str]) -> list[Persona]:
    personas = list(_call(problems, "personas", lambda: exp.personas).values())
    if not personas:
        problems.append("personas is empty: define at least one Persona")
        raise _Stop
    names = {p.name for p in personas}
    for attr in ("default_personas", "holdout_personas"):
        unknown = [n for n in getattr(exp, attr) if n not in names]
        if unknown:
            problems.append(f"{attr} names personas that do not exist: {unknown}")
    for p in personas:
        for axis, (lo, hi) in exp.persona_axes.items():
            value = p.values.get(axis)
            if value is None or not lo <= float(value) <= hi:
                problems.append(f"persona {p.name!r} has {axis}={value!r}, outside "
                                f"persona_axes[{axis!r}] = ({lo}, {hi}): widen the range or "
                                "fix the value")
    return personas


def _states(exp: Experiment, problems: list[str]) -> list[Any]:
    states = list(_call(problems, "states()", exp.states))
    if not states:
        problems.append("states() is empty: return the decision states the LLM is asked about")
        raise _Stop
    if not all(dataclasses.is_dataclass(s) and isinstance(s, exp.state_type) for s in states):
        problems.append(f"states() must return instances of state_type "
                        f"({exp.state_type.__name__}, a frozen dataclass)")
        raise _Stop
    keys = [state_key(s) for s in states]
    if len(set(keys)) != len(keys):
        problems.append("states() returns the same state twice: grid states must be distinct")
    for s in states:
        back = _call(problems, "state_from_dict()",
                     partial(exp.state_from_dict, dataclasses.asdict(s)))
        if back != s:
            problems.append(f"state {keys[0]} does not round-trip through its dict form")
            break
    return states


def _features(exp: Experiment, states: list[Any], problems: list[str]) -> None:
    first = dict(_call(problems, "state_features()", partial(exp.state_features, states[0])))
    for s in states:
        feats = dict(_call(problems, "state_features()", partial(exp.state_features, s)))
        if list(feats) != list(first):
            problems.append(f"state_features() of {state_key(s)} has keys {list(feats)}, not "
                            f"{list(first)}: every state needs the same features")
            raise _Stop
        for name, value in feats.items():
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                    or not math.isfinite(float(value)):
                problems.append(f"state_features() gives {name!r} = {value!r} for "
                                f"{state_key(s)}: features must be finite numbers")
                raise _Stop
            if not 0.0 <= float(value) <= 1.0:
                problems.append(f"state feature {name!r} of {state_key(s)} is {value}, outside "
                                "[0, 1]: scale it (e.g. divide by the largest value)")
                raise _Stop


def _actions(exp: Experiment, problems: list[str]) -> None:
    actions = list(exp.actions)
    if len(actions) < 2 or not all(isinstance(a, str) and a.strip() for a in actions):
        problems.append(f"actions {actions!r}: give at least two non-empty answer words")
        return
    words = [a.split()[0].lower() for a in actions]
    if len(set(words)) != len(words):
        problems.append(f"actions {actions!r} start with the same word: their first words must "
                        "differ, so that the first token of an answer decides the option")


def _texts(exp: Experiment, states: list[Any], personas: list[Persona],
           problems: list[str]) -> None:
    for p in personas:
        for i, text in enumerate(_call(problems, "paraphrases()", partial(exp.paraphrases, p))):
            if not isinstance(text, str) or not text.strip():
                problems.append(f"wording {i} of persona {p.name!r} is empty: instructions() "
                                "and paraphrases() must return text")
    persona = personas[0]
    texts = [_call(problems, "situation()", partial(exp.situation, s, persona))
             for s in states]
    if not all(isinstance(t, str) and t.strip() for t in texts):
        problems.append("situation() must return non-empty text for every state")
    elif len(set(texts)) != len(texts):
        problems.append("situation() gives two states the same text: the model could not tell "
                        "them apart; say what differs")


def _transitions(exp: Experiment, states: list[Any], personas: list[Persona],
                 problems: list[str]) -> None:
    grid = {state_key(s) for s in states}
    for p in personas:
        for s in states:
            for a in range(len(exp.actions)):
                outcomes = list(_call(problems, f"transitions() / step() of action {a}",
                                      partial(exp.transitions, s, a, p)))
                probs = [float(q) for q, _ in outcomes]
                if not outcomes or min(probs) < 0 or abs(sum(probs) - 1.0) > 1e-6:
                    problems.append(f"transitions({state_key(s)}, {a}) probabilities {probs} "
                                    "are not a distribution (non-negative, summing to 1)")
                    return
                for _, step in outcomes:
                    if not math.isfinite(float(step.reward)):
                        problems.append(f"step({state_key(s)}, {a}) reward {step.reward!r} "
                                        "is not a finite number")
                        return
                    if not step.terminated and (step.next_state is None
                                                or state_key(step.next_state) not in grid):
                        problems.append(f"step({state_key(s)}, {a}) leads to "
                                        f"{step.next_state!r}, which is not in states(): "
                                        "every reachable decision state must be on the grid")
                        return


def _env_and_play(exp: Experiment, states: list[Any], personas: list[Persona],
                  problems: list[str], *, episodes: int, seed: int) -> None:
    from gymnasium.utils.env_checker import check_env

    limit = 10 * len(states) + 10
    for p in personas:
        _call(problems, f"initial_state() (persona {p.name!r})",
              partial(exp.initial_state, p, rng=np.random.default_rng(seed)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Gymnasium's advice on spaces is not a failure
            _call(problems, f"the Gymnasium environment (persona {p.name!r})",
                  lambda p=p: check_env(GameEnv(exp, p, max_steps=limit),  # type: ignore[misc]
                                        skip_render_check=True))

    def play() -> list[Any]:
        env = GameEnv(exp, personas[0], max_steps=limit)
        return rollout(env, _Uniform(len(exp.actions)), episodes=episodes,
                       rng=np.random.default_rng(seed))

    plays = [_call(problems, "initial_state() or step() during play", play) for _ in range(2)]
    if any(len(t.actions) >= limit for t in plays[0]):
        problems.append(f"random play did not end within {limit} steps: step() must reach a "
                        "terminal state")
    elif [t.actions for t in plays[0]] != [t.actions for t in plays[1]]:
        problems.append("seeded random play does not repeat: draw randomness only from the "
                        "rng argument of initial_state()")


def _steps(exp: Experiment, *, full: bool, episodes: int, seed: int
           ) -> Iterator[tuple[str, Callable[[list[str]], Any]]]:
    holder: dict[str, Any] = {}
    yield "personas", lambda pr: holder.setdefault("personas", _personas(exp, pr))
    yield "states", lambda pr: holder.setdefault("states", _states(exp, pr))
    yield "features", lambda pr: _features(exp, holder["states"], pr)
    yield "actions", lambda pr: _actions(exp, pr)
    yield "texts", lambda pr: _texts(exp, holder["states"], holder["personas"], pr)
    yield "transitions", lambda pr: _transitions(exp, holder["states"], holder["personas"], pr)
    if full:
        yield "environment and play", lambda pr: _env_and_play(
            exp, holder["states"], holder["personas"], pr, episodes=episodes, seed=seed)


def check_experiment(game: Experiment | Callable[[], Experiment] | str, *, full: bool = True,
                     episodes: int = 50, seed: int = 0) -> CheckReport:
    """Check that ``game`` (an experiment, its class or a registered name) keeps the contract.

    A check that fails stops the ones that need it (no features, no environment).

    Checks: personas exist and their numeric axes lie inside ``persona_axes``; states are
    distinct frozen dataclasses that round-trip through their dict form; state features have
    the same keys everywhere and lie in [0, 1]; option words start with different words; every
    wording and situation is text, and situations differ between states; transitions are
    distributions onto grid states with finite rewards; and (``full``) Gymnasium's
    ``check_env`` passes for every persona and seeded random play ends and repeats. A check
    whose earlier step failed is skipped. Each problem is one line saying what to fix.
    """
    try:
        exp = make(game) if isinstance(game, str) else game if isinstance(game, Experiment) \
            else game()
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - the game's constructor
        return CheckReport(getattr(game, "__name__", str(game)), ["construct"],
                           [f"building the game raised {type(exc).__name__}: {exc}"])
    if not isinstance(exp, Experiment):
        raise ConfigError(f"{game!r} is not a subrational Experiment")
    report = CheckReport(exp.id)
    for name, step in _steps(exp, full=full, episodes=episodes, seed=seed):
        report.checks.append(name)
        try:
            step(report.problems)
        except _Stop:
            break
    return report
