"""Academic procrastination (DESIGN 3.4).

One room: ``game.py`` (the experiment and its baselines), ``analysis.py`` (findings, human
bands, curves, structural models) and ``human.json`` (the human reference, with citations),
composed into :data:`STUDY`.
"""

from importlib import resources

from ...experiments.study import HumanReference, Study
from . import analysis, people
from .game import POSTPONE, WORK, BetaDeltaStudent, Procrastination, ProcrastinationState

HUMAN = HumanReference.load(resources.files(__name__).joinpath("human.json"))
"""The human reference numbers of this study, with their sources."""

STUDY = Study(Procrastination, analysis=analysis.analyse,
              structural_models=analysis.structural_models, human=HUMAN, from_paper=True,
              person_measures=people.person_measures)

__all__ = ["HUMAN", "POSTPONE", "STUDY", "WORK", "BetaDeltaStudent", "Procrastination",
           "ProcrastinationState", "analysis"]
