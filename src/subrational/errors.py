"""One error hierarchy. Every message says what to do next.

The CLI turns any :class:`SubrationalError` into one line on stderr and exit code 2
(usage errors) or 1 (run-time failures), never a traceback; a run stopped by its spending
limit (:class:`SpendLimitReached`) exits with code 3.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "SubrationalError",
    "UsageError",
    "UnknownNameError",
    "ConfigError",
    "BackendError",
    "LogprobsUnavailableError",
    "MissingDependencyError",
    "MissingCredentialsError",
    "BatchError",
    "ModelFileError",
    "CacheMissError",
    "CacheFileError",
    "PolicyFileError",
    "StateError",
    "PathError",
    "RunDirError",
    "SpendLimitReached",
    "did_you_mean",
]


class SubrationalError(Exception):
    """Base class of every error subrational raises on purpose."""

    exit_code = 1


class UsageError(SubrationalError):
    """The user asked for something that cannot work as given (exit code 2)."""

    exit_code = 2


class UnknownNameError(UsageError):
    """An experiment, persona, backend or method name that is not registered."""

    def __init__(self, kind: str, name: str, choices: Iterable[str]) -> None:
        choices = sorted(choices)
        super().__init__(f"unknown {kind} {name!r}{did_you_mean(name, choices)}")
        self.kind, self.name, self.choices = kind, name, choices


class ConfigError(UsageError):
    """A flag or configuration value outside its valid range."""


class MissingDependencyError(UsageError):
    """An optional extra is not installed; the message gives the pip line."""


class MissingCredentialsError(UsageError):
    """An API key environment variable is not set."""


class ModelFileError(UsageError):
    """A model file or directory is missing, unreadable or fails its hash check."""


class PolicyFileError(UsageError):
    """A saved policy file cannot be read."""


class StateError(UsageError, ValueError):
    """A state or observation a policy cannot answer for: mistyped, misshapen, off its grid.

    Also a :class:`ValueError`, as Gymnasium and stable-baselines3 code expects of a bad input.
    """


class PathError(UsageError):
    """A file or folder that cannot be used (a file in the way, read-only, disk full, damaged)."""


class RunDirError(UsageError):
    """A run directory is unfinished, damaged, mixed from two runs, or holds something else."""


class CacheMissError(UsageError):
    """Replay-only (--offline) mode needed a call that is not in the cache."""


class CacheFileError(UsageError):
    """A cache export file that is damaged, of another format, or of another version."""


class BatchError(UsageError):
    """A provider batch that cannot be made, found or read (``subrational batch``)."""


class SpendLimitReached(SubrationalError):
    """The run's spend on model calls reached ``--max-cost``: stopped cleanly (exit code 3).

    Every finished call is cached and the run directory is left unfinished, so the same
    command run again resumes it. The message names the spend, the calls and how to go on.

    Attributes:
        spent: US dollars this run spent (its recorded usage at the model's prices).
        limit: The ``--max-cost`` it reached.
        calls: Model calls this run made.
        out: The run directory to resume (set by the pipeline once known).
    """

    exit_code = 3

    def __init__(self, *, spent: float, limit: float, calls: int) -> None:
        super().__init__()
        self.spent, self.limit, self.calls = spent, limit, calls
        self.out: object | None = None

    def __str__(self) -> str:
        where = f" with --out {self.out}" if self.out is not None else ""
        return (f"stopped at --max-cost {self.limit:g}: this run spent ${self.spent:.4f} on "
                f"{self.calls} model calls, whose answers are cached; run the same command again"
                f"{where} to continue (it re-uses the cached answers and may spend up to "
                "--max-cost again), or raise --max-cost")


class BackendError(SubrationalError):
    """A model backend failed after its retries (network, server, runtime)."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return a '; did you mean ...? choose from ...' suffix for an unknown name."""
    choices = sorted(choices)
    close = difflib.get_close_matches(name, choices, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{hint} (choose from: {', '.join(choices)})"


class LogprobsUnavailableError(BackendError):
    """The backend or server returns no log-probabilities; use ``--method sample``.

    Attributes:
        evidence: What the verdict rests on, e.g. ``0 of 5 replies carried log-probabilities``.
    """

    def __init__(self, message: str, *, evidence: str = "") -> None:
        super().__init__(message)
        self.evidence = evidence
