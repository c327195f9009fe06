"""The marshmallow test of delay of gratification (DESIGN 3.2).

One room: ``game.py`` (the experiment and its baselines), ``analysis.py`` (findings, human
bands, curves, structural models) and ``human.json`` (the human reference, with citations),
composed into :data:`STUDY`.
"""

from importlib import resources

from ...experiments.study import HumanReference, Study
from . import analysis, people
from .game import (
              EAT,
              WAIT,
              ExponentialDiscounter,
              HyperbolicDiscounter,
              Marshmallow,
              MarshmallowState,
)

HUMAN = HumanReference.load(resources.files(__name__).joinpath("human.json"))
"""The human reference numbers of this study, with their sources."""

STUDY = Study(Marshmallow, analysis=analysis.analyse,
              structural_models=analysis.structural_models, human=HUMAN, from_paper=True,
              person_measures=people.person_measures)

__all__ = ["EAT", "HUMAN", "STUDY", "WAIT", "ExponentialDiscounter", "HyperbolicDiscounter",
           "Marshmallow", "MarshmallowState", "analysis"]
