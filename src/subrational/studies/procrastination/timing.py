"""When a source did the work: :class:`WorkTiming`, from listed episodes or the exact DP.

Its own module so that :mod:`.analysis` (which reads it) and :mod:`.exact_timing` (which
builds it) do not import each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["LATE_DAYS", "WorkTiming"]

LATE_DAYS = -1.0
"""Days before the deadline recorded for a report that was never finished on time."""


@dataclass(frozen=True)
class WorkTiming:
    """When one source did the work, over its episodes for one persona.

    Attributes:
        cumulative: Expected share of the work done by the end of day t, for t = 0..deadline.
        sessions_done: Work sessions done over all episodes; for exact episodes the expected
            number of one episode.
        sessions_late_days: Of those, sessions done in the last ``last_days`` days (expected,
            for exact episodes).
        late: Per episode, whether the report was unfinished at the deadline.
        days_before: Per episode, deadline minus the day the report was finished (-1 if late).
        weights: Per episode, its probability (exact episodes, summing to 1); ``None`` when each
            episode counts once (rollouts, the LLM's sampled episodes).
        origin: Where the episodes come from (``exact``, ``rollouts``, ``sampled episodes``);
            ``""`` when unknown.
    """

    cumulative: list[float]
    sessions_done: float
    sessions_late_days: float
    late: np.ndarray
    days_before: np.ndarray
    weights: np.ndarray | None = None
    origin: str = ""

    @property
    def last_days_share(self) -> float:
        """Share of the sessions done that fell in the last days (NaN when none was done)."""
        return self.sessions_late_days / self.sessions_done if self.sessions_done else math.nan

    @property
    def late_share(self) -> float:
        """Share (probability, for exact episodes) of episodes that ended unfinished."""
        if not len(self.late):
            return math.nan
        return float(self.late.mean() if self.weights is None
                     else min(self.weights @ self.late, 1.0))

    @property
    def mean_days_before(self) -> float:
        """Mean (expected, for exact episodes) days before the deadline at completion."""
        if not len(self.days_before):
            return math.nan
        return float(self.days_before.mean() if self.weights is None
                     else self.weights @ self.days_before)

    @property
    def mass(self) -> float:
        """Episodes behind the counts: 1 for exact episodes (expectations), else their number."""
        return 1.0 if self.weights is not None else float(len(self.late))
