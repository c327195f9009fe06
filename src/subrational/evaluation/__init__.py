"""Evaluation: findings checks, human reference, baselines' curves and structural fits."""

from .fits import LogisticFit, fit_logistic
from .human import human_reference
from .records import Analysis, Curve, Finding, to_jsonable

__all__ = ["Analysis", "Curve", "Finding", "LogisticFit", "fit_logistic", "human_reference",
           "to_jsonable"]
