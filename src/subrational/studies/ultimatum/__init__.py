"""The ultimatum game, responder side (DESIGN 3.1).

One room: ``game.py`` (the experiment and its baselines), ``analysis.py`` (findings, human
bands, curves, structural models) and ``human.json`` (the human reference, with citations),
composed into :data:`STUDY`.
"""

from importlib import resources

from ...experiments.study import HumanReference, Study
from . import analysis, people
from .game import FehrSchmidtResponder, MoneyMaximiser, Ultimatum, UltimatumState, UltimatumV1

HUMAN = HumanReference.load(resources.files(__name__).joinpath("human.json"))
"""The human reference numbers of this study, with their sources."""

STUDY = Study(Ultimatum, analysis=analysis.analyse, structural_models=analysis.structural_models,
              human=HUMAN, from_paper=True,
              person_measures=people.person_measures)
STUDY_V1 = Study(UltimatumV1, analysis=analysis.analyse,
                 structural_models=analysis.structural_models, human=HUMAN, from_paper=True,
                 person_measures=people.person_measures)
"""Version 1 (one wording), kept registered so that old policy files and runs load."""

__all__ = ["FehrSchmidtResponder", "HUMAN", "MoneyMaximiser", "STUDY", "STUDY_V1", "Ultimatum",
           "UltimatumState", "UltimatumV1", "analysis"]
