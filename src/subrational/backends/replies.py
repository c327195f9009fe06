"""What a chat-completion reply must hold to count as an answer, read from its raw body.

The openai backend reads the HTTP body itself instead of trusting the SDK's parse: a proxy that
answers 200 with an HTML page, a truncated JSON body, an empty ``choices`` list or a NaN
log-probability would otherwise crash the run or, worse, become a cached answer. Each of these
raises :class:`BadReply` with a short ``kind`` (used to count retries) and a ``detail`` for the
user; the backend retries it like a transient server error.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["BadReply", "reply_json", "first_choice", "first_token_candidates", "reply_text"]


class BadReply(Exception):
    """A 200 reply that is not an answer; retried, never cached.

    Attributes:
        kind: Short name of what was wrong, e.g. ``invalid-json`` or ``nan-logprob``.
        detail: What the reply held, for the one-line error after the retries.
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail = kind, detail


def reply_json(body: bytes, content_type: str) -> dict[str, Any]:
    """The JSON object of a reply body.

    Raises:
        BadReply: The body is empty, not JSON (an HTML error page), or not a JSON object.
    """
    if not body.strip():
        raise BadReply("empty-body", "an empty body")
    try:
        data = json.loads(body)
    except ValueError:
        snippet = " ".join(body[:60].decode("utf-8", "replace").split())
        if "json" not in content_type.lower():
            raise BadReply("non-json-body", f"a {content_type or 'untyped'} body instead of "
                           f"JSON ({snippet!r})") from None
        raise BadReply("invalid-json", f"a body that is not valid JSON ({snippet!r}...)") from None
    if not isinstance(data, dict):
        raise BadReply("invalid-json", f"a JSON {type(data).__name__} instead of an object")
    return data


def first_choice(data: dict[str, Any]) -> dict[str, Any]:
    """The first entry of ``choices``; :class:`BadReply` when there is none."""
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise BadReply("empty-choices", "a reply with no choices")
    return choices[0]


def first_token_candidates(choice: dict[str, Any]) -> list[tuple[str, float]] | None:
    """``(token, logprob)`` pairs of the first generated token, ``None`` without log-probs.

    Some servers send only the chosen token and no alternatives; it still carries its own
    probability.

    Raises:
        BadReply: A candidate without a token, or with a NaN, ``+inf`` or missing logprob.
    """
    logprobs = choice.get("logprobs")
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list) or not content:
        return None
    first = content[0]
    if not isinstance(first, dict):
        raise BadReply("no-candidates", "a log-probability entry that is not an object")
    alternatives = first.get("top_logprobs") or [first]
    candidates = []
    for alt in alternatives:
        token = alt.get("token") if isinstance(alt, dict) else None
        value = alt.get("logprob") if isinstance(alt, dict) else None
        if not isinstance(token, str):
            raise BadReply("no-candidates", f"a candidate without a token ({alt!r:.60})")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadReply("null-logprob", f"a log-probability of {value!r} for {token!r}")
        if math.isnan(value) or value == math.inf:
            raise BadReply("nan-logprob", f"a log-probability of {value!r} for {token!r}")
        candidates.append((token, float(value)))
    return candidates


def reply_text(choice: dict[str, Any]) -> str:
    """The message text of a choice; :class:`BadReply` when it is missing or empty."""
    message = choice.get("message")
    text = message.get("content") if isinstance(message, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise BadReply("empty-content", "an empty answer (finish_reason="
                       f"{choice.get('finish_reason')!r})")
    return text
