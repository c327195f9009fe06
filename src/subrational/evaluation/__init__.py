"""Evaluation machinery shared by every study.

Records, behaviour statistics, structural fits, robustness, the sensitivity of findings to parse
failures, the scorecard and the default analysis. Each study's own analysis lives in its package
under :mod:`subrational.studies`.
"""

from .fits import LogisticFit, fit_logistic
from .generic import analyse_generic, analyse_study, assess_study
from .records import (
    DEMONSTRATIONS,
    LEARNED_SOURCES,
    POLICY,
    Analysis,
    Curve,
    Finding,
    to_jsonable,
)
from .sensitivity import FindingBound, failure_sensitivity

__all__ = ["DEMONSTRATIONS", "LEARNED_SOURCES", "POLICY", "Analysis", "Curve", "Finding",
           "FindingBound", "LogisticFit", "analyse_generic", "analyse_study", "assess_study",
           "failure_sensitivity", "fit_logistic", "to_jsonable"]
