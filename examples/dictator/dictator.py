"""A dictator game defined outside the package, with its own analysis and human data.

One decision: you have $10 and decide alone how much to give to a stranger, who cannot
respond. The files beside this one are the rest of the study: ``dictator_analysis.py`` (the
analysis, findings and a structural model, compared with Engel 2011's meta-analysis) and
``human.json`` (the human reference numbers with their sources). This file registers the study
and a scripted ground truth that gives like the human reference::

    subrational check --import examples/dictator/dictator.py
    subrational run dictator --import examples/dictator/dictator.py --model scripted:dictator-human
    subrational run dictator --import examples/dictator/dictator.py --model openai:gpt-4o-mini
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import dictator_analysis  # beside this file: --import puts this folder on the path
import numpy as np

import subrational
from subrational import Experiment, Persona, Step
from subrational.backends.scripted import register_script
from subrational.experiments import Study

WORDS = ("Nothing", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten")


@dataclass(frozen=True)
class Endowment:
    """The dictator holds ``pie`` dollars; the other player holds nothing."""

    pie: int


class MoneyMaximiser:
    """Keeps everything: the payoff-maximising dictator."""

    def action_probs(self, state: Endowment, persona: Persona) -> np.ndarray:
        """All mass on giving nothing."""
        return np.eye(len(WORDS))[0]


class Dictator(Experiment):
    """Give any whole number of dollars, from nothing to all ten, to an anonymous stranger."""

    name = "dictator"
    version = 1
    title = "Dictator game"
    actions = WORDS
    gifts = tuple(range(len(WORDS)))  # dollars given by each action
    ordinal_actions = True
    state_type = Endowment
    _personas = {
        "participant": Persona("participant", "You are an adult taking part in an economics "
                               "experiment at a university."),
        "selfish": Persona("selfish", "You are an adult taking part in an economics experiment "
                           "at a university. You care only about how much money you take home."),
    }

    @property
    def personas(self) -> Mapping[str, Persona]:
        return self._personas

    def states(self) -> Sequence[Endowment]:
        return [Endowment(10)]  # one decision state

    def initial_state(self, persona: Persona, *, rng: np.random.Generator) -> Endowment:
        return Endowment(10)

    def step(self, state: Endowment, action: int, persona: Persona) -> Step:
        return Step(None, float(state.pie - self.gifts[action]), True)

    def state_features(self, state: Endowment) -> Mapping[str, float]:
        return {"pie": state.pie / 10}

    def instructions(self, persona: Persona) -> str:
        return (f"{persona.text} You have been given $10 and paired with another participant "
                "whom you will never meet and who has been given nothing. You alone decide how "
                "much of the $10 to give them; they cannot respond, and you keep the rest. The "
                "money is real.")

    def paraphrases(self, persona: Persona) -> Sequence[str]:
        return (self.instructions(persona),
                f"{persona.text} The experimenter hands you ten dollars. An anonymous person in "
                "another room received nothing. You may pass any whole number of dollars to "
                "them and keep the remainder; they have no say. Payments are real.",
                f"{persona.text} You received $10 for this task, and a stranger you will never "
                "meet received none. Decide how many dollars, if any, to give the stranger. "
                "What you do not give is yours, and the stranger cannot react.")

    def situation(self, state: Endowment, persona: Persona) -> str:
        return f"How many of your {state.pie} dollars do you give to the other person?"

    def baselines(self) -> Mapping[str, MoneyMaximiser]:
        return {"money-maximiser": MoneyMaximiser()}


# A scripted ground truth that gives like people do: 36 % give nothing and the mean gift is
# 28.4 % of the pie (Engel 2011). The shape in between (a mode at the equal split, a few give
# everything) is a design choice that keeps those two numbers.
HUMAN_LIKE = (0.36, 0.04, 0.10, 0.12, 0.08, 0.17, 0.03, 0.02, 0.02, 0.01, 0.05)
SELFISH = (0.90, 0.03, 0.02, 0.015, 0.01, 0.015, 0.002, 0.002, 0.002, 0.002, 0.002)


def human_like(persona: Persona, state: Endowment) -> Sequence[float]:
    """P(give $0), ..., P(give $10): human-like giving; the selfish persona keeps almost all."""
    return SELFISH if persona.name == "selfish" else HUMAN_LIKE


STUDY = Study(Dictator, analysis=dictator_analysis.analyse,
              structural_models=dictator_analysis.structural_models,
              human=dictator_analysis.HUMAN)
subrational.register(STUDY)
register_script("dictator-human", human_like)
