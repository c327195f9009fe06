"""Batch results into the cache: each reply read as the live path reads it, answers only.

A results file is JSONL, one object per line with a ``custom_id``: OpenAI's (and ``vllm
run-batch``'s) ``{"custom_id", "response": {"status_code", "body"}, "error"}`` or Anthropic's
``{"custom_id", "result": {"type", "message"}}``. A file with a line that is none of these is
refused whole (nothing stored). Each reply is read by the live backend's own readers
(:mod:`subrational.backends.replies` for OpenAI, the Anthropic backend's ``_answer``), then
checked as the cache checks every answer (:func:`~subrational.backends.base.invalid_scores`,
:func:`~subrational.backends.base.invalid_text`); what passes is stored under the line's cache
keys with the tokens the reply reports (a line with ``n`` draws records them on its first
draw's entry, as live). A line that errored, expired or holds no answer is counted and never
stored: the next ``submit`` asks for it again.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..backends.anthropic_api import reply_usage as anthropic_usage
from ..backends.base import OptionScores, invalid_scores, invalid_text, zero_usage
from ..backends.replies import (
    BadReply,
    first_choice,
    first_token_candidates,
    option_logprobs,
    reasons_first,
    reply_texts,
    reply_usage,
)
from ..cache import Cache, _encode_scores
from ..errors import BatchError
from .state import LineRecord

__all__ = ["Ingested", "parse_results", "ingest"]


@dataclass(frozen=True)
class Ingested:
    """What ``collect`` did with a results file.

    Attributes:
        stored: Answers stored in the cache (one per draw).
        failed: Lines of this batch that came back without an answer, by reason.
        unknown: Lines whose ``custom_id`` is not one of this batch's.
        missing: Lines of this batch with no result at all.
    """

    stored: int
    failed: Counter[str]
    unknown: int
    missing: int

    @property
    def failed_total(self) -> int:
        """Lines that failed or came back not at all."""
        return sum(self.failed.values()) + self.missing


def parse_results(data: bytes, *, source: str) -> list[dict[str, Any]]:
    """The result objects of a JSONL file; every line must be one.

    Raises:
        BatchError: A line that is not a JSON object with a ``custom_id`` and a ``response``
            or ``result`` (nothing of the file is used).
    """
    out = []
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except ValueError:
            item = None
        if not (isinstance(item, dict) and isinstance(item.get("custom_id"), str)
                and ("response" in item or "result" in item or "error" in item)):
            snippet = raw[:60].decode("utf-8", "replace")
            raise BatchError(f"{source}, line {number}: not a batch result ({snippet!r}); "
                             "expected OpenAI's or vllm run-batch's {\"custom_id\", "
                             "\"response\"} or Anthropic's {\"custom_id\", \"result\"} JSONL")
        out.append(item)
    return out


def _openai_answers(backend: Any, line: LineRecord, body: dict[str, Any]) -> list[Any]:
    """The answers of one chat-completion reply, read as the live openai backend reads them."""
    if line.op == "score":
        choice = first_choice(body)
        if reasons_first(choice):
            raise BadReply("reasoning-first", "its first token is reasoning, not the answer")
        candidates = first_token_candidates(choice)
        if candidates is None:
            raise BadReply("no-logprobs", "a reply without log-probabilities")
        detail: dict[str, Any] = {"scored": "first-token"}
        if backend.settings.top_logprobs < backend.top_logprobs:
            detail["top_logprobs"] = backend.settings.top_logprobs
        return [OptionScores(option_logprobs(candidates, line.options), detail=detail)]
    texts = reply_texts(body, len(line.keys), structured=line.structured,
                        reasoning=backend.settings.caps.reasoning)
    if len(texts) < len(line.keys):
        raise BadReply("few-choices", f"{len(texts)} choices for n={len(line.keys)}")
    return texts


def _answers(backend: Any, line: LineRecord, item: dict[str, Any]) -> tuple[list[Any], dict]:
    """(answers, usage) of one result; :class:`BadReply` when it holds none."""
    if "result" in item:  # Anthropic
        result: dict[str, Any] = item["result"] if isinstance(item["result"], dict) else {}
        if result.get("type") != "succeeded" or not isinstance(result.get("message"), dict):
            raise BadReply(f"batch-{result.get('type', 'unknown')}", "no message")
        message = result["message"]
        return [backend._answer(message)], anthropic_usage(message)
    found = item.get("response")
    response: dict[str, Any] = found if isinstance(found, dict) else {}
    if item.get("error") or response.get("status_code") != 200:
        raise BadReply(f"http-{response.get('status_code', 'error')}", "an error line")
    body = response.get("body")
    if not isinstance(body, dict):
        raise BadReply("invalid-json", "a body that is not a JSON object")
    return _openai_answers(backend, line, body), reply_usage(body)


def _invalid(line: LineRecord, answer: Any) -> str | None:
    if line.op == "score":
        return invalid_scores(answer, len(line.options))
    return invalid_text(answer)


def ingest(backend: Any, lines: list[LineRecord], results: list[dict[str, Any]],
           cache: Cache) -> Ingested:
    """Store the answers of ``results`` for ``lines`` in ``cache`` (module docstring)."""
    by_id = {line.custom_id: line for line in lines}
    stored: dict[str, dict[str, Any]] = {"score": {}, "generate": {}}
    usage: dict[str, dict[str, int]] = {}
    failed: Counter[str] = Counter()
    seen: set[str] = set()
    unknown = 0
    for item in results:
        line = by_id.get(item["custom_id"])
        if line is None:
            unknown += 1
            continue
        seen.add(line.custom_id)
        try:
            answers, used = _answers(backend, line, item)
        except BadReply as exc:
            failed[exc.kind] += 1
            continue
        reasons = [_invalid(line, a) for a in answers]
        if any(reasons):
            failed["not-an-answer"] += 1
            continue
        for i, (key, answer) in enumerate(zip(line.keys, answers, strict=False)):
            stored[line.op][key] = _encode_scores(answer) if line.op == "score" \
                else {"text": answer}
            usage[key] = used if i == 0 else zero_usage()
    for op, items in stored.items():
        if items:
            cache.put_many(op, items, usage={k: usage[k] for k in items})
    return Ingested(sum(len(v) for v in stored.values()), failed, unknown,
                    len(set(by_id) - seen))
