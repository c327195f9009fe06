"""The marshmallow test of delay of gratification (DESIGN 3.2).

One room: ``game.py`` (the experiment and its baselines), ``analysis.py`` (findings, human
bands, curves, structural models) and ``human.json`` (the human reference, with citations),
composed into :data:`STUDY`.
"""

from importlib import resources

from ...experiments.study import HumanReference, Study
from . import analysis, people
from .bell import RING, Marshmallow, WaitState
from .game import (
              EAT,
              WAIT,
              ExponentialDiscounter,
              HyperbolicDiscounter,
              MarshmallowState,
              MarshmallowV1,
)

HUMAN = HumanReference.load(resources.files(__name__).joinpath("human.json"))
"""The human reference numbers of this study, with their sources."""

STUDY = Study(Marshmallow, analysis=analysis.analyse,
              structural_models=analysis.structural_models, human=HUMAN, from_paper=True,
              person_measures=people.person_measures)
STUDY_V1 = Study(MarshmallowV1, analysis=analysis.analyse,
                 structural_models=analysis.structural_models, human=HUMAN, from_paper=True,
                 person_measures=people.person_measures)
"""Version 1 (told the wait, counted down), kept registered so old policy files and runs load."""

__all__ = ["EAT", "HUMAN", "RING", "STUDY", "STUDY_V1", "WAIT", "ExponentialDiscounter",
           "HyperbolicDiscounter", "Marshmallow", "MarshmallowState", "MarshmallowV1", "WaitState",
           "analysis"]
