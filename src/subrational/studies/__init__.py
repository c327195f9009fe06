"""The paper's four studies, one package each, registered in the paper's order.

A study is one room: ``studies/<name>/`` holds its game, its analysis and its human reference,
composed by a :class:`~subrational.experiments.study.Study`. A fifth study is one new folder
here, one in ``tests/studies/``, and one line below.
"""

from ..experiments.registry import register
from . import double_or_nothing, marshmallow, procrastination, ultimatum

register(ultimatum.STUDY_V1)
register(ultimatum.STUDY)
register(marshmallow.STUDY_V1)
register(marshmallow.STUDY)
register(double_or_nothing.STUDY_V1)
register(double_or_nothing.STUDY)
register(procrastination.STUDY_V1)
register(procrastination.STUDY)

__all__ = ["double_or_nothing", "marshmallow", "procrastination", "ultimatum"]
