"""The batch state file: which batch was sent, for which run, answering which cache keys.

``batch.json`` in the batch folder (``--out DIR``, default ``<cache dir>/batch``), versioned
(``format`` / ``version``), written atomically. It holds the batches in the order they were
made; the last one is the one ``status`` and ``collect`` act on. Each records the run's
configuration (so ``collect`` rebuilds the backend that reads the replies) and, per line, the
cache keys it answers and what reading its reply needs (the options, structured answers).
No secret is stored: the key stays in its environment variable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import BatchError
from ..paths import check_cache_dir, ensure_dir, write_text_atomic

__all__ = ["STATE_FILE", "STATE_VERSION", "LineRecord", "BatchRecord", "BatchState",
           "batch_dir", "read_state", "write_state"]

STATE_FILE = "batch.json"
STATE_VERSION = 1


class LineRecord(BaseModel):
    """One line of a batch.

    Attributes:
        custom_id: Its id at the provider (its first cache key).
        op: ``score`` or ``generate``.
        keys: The cache key of every draw it answers.
        options: The request's answer options.
        structured: Answers asked for as JSON (OpenAI ``response_format``, Claude's tool).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    custom_id: str
    op: Literal["score", "generate"]
    keys: list[str] = Field(min_length=1)
    options: list[str]
    structured: bool = False


class BatchRecord(BaseModel):
    """One batch: sent to a provider, or only written to a file (``--write``).

    Attributes:
        provider: ``openai`` or ``anthropic``.
        batch_ids: The provider's ids (one, or more when the run exceeds one batch's limit);
            empty when only written.
        model: ``backend:model`` of the run.
        created: When it was made (ISO 8601).
        config: The run configuration (:class:`~subrational.config.RunConfig` as JSON).
        args: The run's command-line arguments (for the commands printed next).
        input_file: The JSONL written, where one was kept.
        lines: Its lines.
        frontier: Sequential studies of which it asks only the next step.
        collected: Whether its results were stored.
        stored: Answers stored by ``collect``.
        failed: Lines that came back without an answer.
    """

    model_config = ConfigDict(extra="forbid")

    provider: Literal["openai", "anthropic"]
    batch_ids: list[str] = []
    model: str
    created: str
    config: dict[str, Any]
    args: list[str]
    input_file: str | None = None
    lines: list[LineRecord]
    frontier: list[str] = []
    collected: bool = False
    stored: int = 0
    failed: int = 0


class BatchState(BaseModel):
    """Every batch of one batch folder, oldest first."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["subrational-batch"] = "subrational-batch"
    version: Literal[1] = 1
    batches: list[BatchRecord] = []


def batch_dir(out: Path | None) -> Path:
    """The batch folder: ``out``, else ``<cache dir>/batch``; created."""
    return ensure_dir(out if out is not None else check_cache_dir() / "batch",
                      what="the batch folder (--out)")


def read_state(folder: Path, *, required: bool = True) -> BatchState:
    """The state in ``folder``; empty when there is none and it is not ``required``.

    Raises:
        BatchError: No state (when required), or a file that is not one.
    """
    path = folder / STATE_FILE
    if not path.exists():
        if required:
            raise BatchError(f"no batch in {folder} (no {STATE_FILE}): run `subrational batch "
                             "submit ...` first, or pass the --out DIR it used")
        return BatchState()
    try:
        return BatchState.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, ValueError, ValidationError) as exc:
        reason = str(exc).splitlines()[0]
        raise BatchError(f"{path} is not a subrational batch state ({reason}); move it away "
                         "or pass another --out DIR") from None


def write_state(folder: Path, state: BatchState) -> Path:
    """Write ``state`` to ``folder`` atomically."""
    return write_text_atomic(folder / STATE_FILE, state.model_dump_json(indent=2),
                             what="the batch state")
