"""The double-or-nothing gamble (DESIGN 3.3).

One room: ``game.py`` (the experiment and its baselines), ``analysis.py`` (findings, human
bands, curves, structural models) and ``human.json`` (the human reference, with citations),
composed into :data:`STUDY`.
"""

from importlib import resources

from ...experiments.study import HumanReference, Study
from . import analysis, people
from .game import (
    CPTGambler,
    CRRAGambler,
    DoubleOrNothing,
    DoubleOrNothingV1,
    DoubleState,
    FramedState,
    RiskNeutral,
    stake_persona,
)

HUMAN = HumanReference.load(resources.files(__name__).joinpath("human.json"))
"""The human reference numbers of this study, with their sources."""

STUDY = Study(DoubleOrNothing, analysis=analysis.analyse,
              structural_models=analysis.structural_models, human=HUMAN, from_paper=True,
              person_measures=people.person_measures)
STUDY_V1 = Study(DoubleOrNothingV1, analysis=analysis.analyse,
                 structural_models=analysis.structural_models, human=HUMAN, from_paper=True,
                 person_measures=people.person_measures)
"""Version 1 (fair odds, gains only), kept registered so that old policy files and runs load."""

__all__ = ["HUMAN", "STUDY", "STUDY_V1", "CPTGambler", "CRRAGambler", "DoubleOrNothing",
           "DoubleOrNothingV1", "DoubleState", "FramedState", "RiskNeutral", "analysis",
           "stake_persona"]
