"""The two batch APIs, through the official SDKs: send lines, ask how far, fetch results.

* **OpenAI Batch API**: the JSONL goes up with ``files.create(purpose="batch")``, then
  ``batches.create(endpoint="/v1/chat/completions", completion_window="24h")``; results come
  from the batch's ``output_file_id`` and, for failed lines, its ``error_file_id``
  (``files.content``). Both are JSONL of ``{"custom_id", "response": {"status_code", "body"},
  "error"}``, as ``vllm run-batch`` writes.
* **Anthropic Message Batches**: ``messages.batches.create(requests=[{"custom_id",
  "params"}])``; results are the JSONL at the batch's ``results_url`` (``messages.batches.
  results``), one ``{"custom_id", "result": {"type", "message" | "error"}}`` per request.

Results are returned as raw lines (bytes): :mod:`.ingest` reads them with the live path's
reply readers. An id the provider does not know is one :class:`~subrational.errors.BatchError`
line; other failures are the backend's own errors.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from ..backends.endpoints import redact_url
from ..errors import BackendError, BatchError

__all__ = ["Progress", "submit_lines", "progress", "fetch_results", "chunks", "LIMITS",
           "MAX_BYTES"]

LIMITS = {"openai": 50_000, "anthropic": 100_000}
"""Most requests one batch may hold (each provider's documented limit as of 2026)."""
MAX_BYTES = {"openai": 190_000_000, "anthropic": 240_000_000}
"""Bytes of JSONL one batch may hold: a margin under 200 MB (OpenAI's input file) and 256 MB
(Anthropic's request), as documented in 2026."""
_OPENAI_ENDED = ("completed", "failed", "expired", "cancelled")


@dataclass(frozen=True)
class Progress:
    """How far a batch is.

    Attributes:
        status: The provider's word (``in_progress``, ``completed``, ``ended``...).
        ended: Whether it will change no more (results can be fetched).
        total: Requests in it.
        done: Requests answered.
        failed: Requests that failed (errored, expired, cancelled).
    """

    status: str
    ended: bool
    total: int
    done: int
    failed: int


def chunks(provider: str, lines: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """``lines`` cut into batches within the provider's count and size limits, in order."""
    out: list[list[dict[str, Any]]] = [[]]
    size = 0
    for line in lines:
        n = len(json.dumps(line)) + 1
        if out[-1] and (len(out[-1]) >= LIMITS[provider] or size + n > MAX_BYTES[provider]):
            out.append([])
            size = 0
        out[-1].append(line)
        size += n
    return [c for c in out if c]


def _client(backend: Any) -> Any:
    """A synchronous SDK client for ``backend``'s server and key (the key is never kept)."""
    if backend.name == "openai":
        import openai

        return openai.OpenAI(api_key=backend._api_key(), base_url=backend.base_url,
                             timeout=backend.timeout, max_retries=backend.max_retries)
    import anthropic

    return anthropic.Anthropic(api_key=backend._api_key(), base_url=backend.base_url,
                               timeout=backend.timeout, max_retries=backend.max_retries)


def _sdk_errors(backend: Any) -> tuple[Any, Any]:
    """(NotFoundError, base error) of ``backend``'s SDK."""
    if backend.name == "openai":
        import openai

        return openai.NotFoundError, openai.OpenAIError
    import anthropic

    return anthropic.NotFoundError, anthropic.AnthropicError


def _call(backend: Any, what: str, batch_id: str | None, act: Any) -> Any:
    """``act(client)``, its SDK errors as one line each."""
    not_found, base = _sdk_errors(backend)
    url = redact_url(backend.base_url)
    try:
        with _client(backend) as client:
            return act(client)
    except not_found:
        raise BatchError(f"{url} knows no batch {batch_id!r} ({what}): check the --out DIR "
                         "(its batch.json names the batch) and the --base-url") from None
    except base as exc:
        text = " ".join(str(exc).split())[:200]
        raise BackendError(f"{url}: {what} failed ({type(exc).__name__}: {text}); try again "
                           "later") from None


def submit_lines(backend: Any, lines: list[dict[str, Any]]) -> list[str]:
    """Send ``lines`` as batches within the provider's limits (:func:`chunks`); their ids."""
    return [_submit(backend, part) for part in chunks(backend.name, lines)]


def _submit(backend: Any, lines: list[dict[str, Any]]) -> str:
    """Send ``lines`` as one batch; the provider's batch id."""
    if backend.name == "openai":
        data = "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8")

        def openai_submit(client: Any) -> str:
            upload = client.files.create(file=("batch.jsonl", io.BytesIO(data)), purpose="batch")
            made = client.batches.create(input_file_id=upload.id,
                                         endpoint="/v1/chat/completions",
                                         completion_window="24h",
                                         metadata={"made_by": "subrational"})
            return str(made.id)

        return str(_call(backend, "uploading the batch", None, openai_submit))
    return str(_call(backend, "creating the batch", None,
                     lambda client: client.messages.batches.create(requests=lines).id))


def progress(backend: Any, batch_ids: list[str]) -> Progress:
    """How far the batches ``batch_ids`` are, together (the status: the least advanced)."""
    each = [_progress(backend, b) for b in batch_ids]
    pending = [p for p in each if not p.ended]
    return Progress((pending or each)[0].status, not pending, sum(p.total for p in each),
                    sum(p.done for p in each), sum(p.failed for p in each))


def _progress(backend: Any, batch_id: str) -> Progress:
    """How far batch ``batch_id`` is."""
    if backend.name == "openai":
        got = _call(backend, "asking for the batch", batch_id,
                    lambda client: client.batches.retrieve(batch_id))
        counts = got.request_counts
        total, done, failed = ((counts.total, counts.completed, counts.failed) if counts
                               else (0, 0, 0))
        return Progress(got.status, got.status in _OPENAI_ENDED, total, done, failed)
    got = _call(backend, "asking for the batch", batch_id,
                lambda client: client.messages.batches.retrieve(batch_id))
    c = got.request_counts
    failed = c.errored + c.canceled + c.expired
    return Progress(got.processing_status, got.processing_status == "ended",
                    c.processing + c.succeeded + failed, c.succeeded, failed)


def fetch_results(backend: Any, batch_ids: list[str]) -> bytes:
    """The results of ended batches as one JSONL."""
    return b"\n".join(_fetch(backend, b).rstrip(b"\n") for b in batch_ids)


def _fetch(backend: Any, batch_id: str) -> bytes:
    """The results of an ended batch as JSONL (OpenAI: the output and the error file)."""
    if backend.name == "openai":
        def openai_fetch(client: Any) -> bytes:
            got = client.batches.retrieve(batch_id)
            parts = [client.files.content(file_id).content
                     for file_id in (got.output_file_id, got.error_file_id) if file_id]
            return b"\n".join(part.rstrip(b"\n") for part in parts if part.strip())

        return bytes(_call(backend, "fetching the results", batch_id, openai_fetch))

    def anthropic_fetch(client: Any) -> bytes:
        decoder = client.messages.batches.results(batch_id)
        return bytes(decoder.http_response.read())

    return bytes(_call(backend, "fetching the results", batch_id, anthropic_fetch))
