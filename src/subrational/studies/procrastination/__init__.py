"""Academic procrastination (DESIGN 3.4).

One room: ``game.py`` (the experiment and its baselines), ``analysis.py`` (findings, human
bands, curves, structural models) and ``human.json`` (the human reference, with citations),
composed into :data:`STUDY`.
"""

from importlib import resources

from ...experiments.study import HumanReference, Study
from . import analysis, people
from .deadlines import DeadlineState, Procrastination
from .game import POSTPONE, WORK, BetaDeltaStudent, ProcrastinationState, ProcrastinationV1

HUMAN = HumanReference.load(resources.files(__name__).joinpath("human.json"))
"""The human reference numbers of this study, with their sources."""

STUDY = Study(Procrastination, analysis=analysis.analyse,
              structural_models=analysis.structural_models, human=HUMAN, from_paper=True,
              person_measures=people.person_measures)
STUDY_V1 = Study(ProcrastinationV1, analysis=analysis.analyse,
                 structural_models=analysis.structural_models, human=HUMAN, from_paper=True,
                 person_measures=people.person_measures)
"""Version 1 (paid on finishing, one deadline), kept registered so old policy files load."""

__all__ = ["HUMAN", "POSTPONE", "STUDY", "STUDY_V1", "WORK", "BetaDeltaStudent", "DeadlineState",
           "Procrastination", "ProcrastinationState", "ProcrastinationV1", "analysis"]
