"""One error hierarchy. Every message says what to do next.

The CLI turns any :class:`SubrationalError` into one line on stderr and exit code 2
(usage errors) or 1 (run-time failures), never a traceback.
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
    "ModelFileError",
    "CacheMissError",
    "PolicyFileError",
    "PathError",
    "RunDirError",
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


class PathError(UsageError):
    """A file or folder that cannot be used (a file in the way, read-only, disk full, damaged)."""


class RunDirError(UsageError):
    """A run directory is unfinished, damaged, mixed from two runs, or holds something else."""


class CacheMissError(UsageError):
    """Replay-only (--offline) mode needed a call that is not in the cache."""


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
