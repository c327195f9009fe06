"""A new game defined outside the package: a sure $5 or a coin flip for $X.

Run it through the whole pipeline with::

    python examples/sure_thing.py --model transformers:smollm2
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import subrational
from subrational import Experiment, Persona, Step


@dataclass(frozen=True)
class Prize:
    """The coin flip pays ``prize`` dollars (or nothing)."""

    prize: float


class SureThing(Experiment):
    """Take $5 for sure, or flip a fair coin for a prize of $2 to $30."""

    name = "sure_thing"
    version = 1
    title = "Sure thing or coin flip"
    actions = ("Sure", "Flip")
    state_type = Prize
    _personas = {
        "cautious": Persona("cautious", "You are a careful person who dislikes risk."),
        "bold": Persona("bold", "You are a bold person who enjoys taking chances."),
    }

    @property
    def personas(self) -> Mapping[str, Persona]:
        return self._personas

    def states(self) -> Sequence[Prize]:
        return [Prize(float(x)) for x in range(2, 31, 4)]

    def initial_state(self, persona: Persona, *, rng: np.random.Generator) -> Prize:
        states = self.states()
        return states[int(rng.integers(len(states)))]

    def step(self, state: Prize, action: int, persona: Persona) -> Step:
        # Expected payoff: the pure core stays deterministic; rollouts add no coin noise.
        return Step(None, 5.0 if action == 0 else state.prize / 2, True)

    def state_features(self, state: Prize) -> Mapping[str, float]:
        return {"prize": state.prize / 30}

    def instructions(self, persona: Persona) -> str:
        return f"{persona.text} You can take $5 for sure, or flip a fair coin."

    def situation(self, state: Prize, persona: Persona) -> str:
        return f"If the coin lands heads you win ${state.prize:.0f}, tails nothing. Sure or flip?"


subrational.register(SureThing)

if __name__ == "__main__":
    from subrational.config import RunConfig
    from subrational.pipeline import run

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="transformers:smollm2")
    parser.add_argument("--out", type=Path, default=Path("runs/sure_thing"))
    args = parser.parse_args()
    result = run(RunConfig(experiments=["sure_thing"], model=args.model, out=args.out),
                 out=args.out)
    print(f"report: {result.out / 'report.html'}")
