r"""What a chat-completion reply must hold to count as an answer, read from its raw body.

The openai backend reads the HTTP body itself instead of trusting the SDK's parse: a proxy that
answers 200 with an HTML page, a truncated JSON body, an empty ``choices`` list or a NaN
log-probability would otherwise crash the run or, worse, become a cached answer. Each of these
raises :class:`BadReply` with a short ``kind`` (used to count retries) and a ``detail`` for the
user; the backend retries it like a transient server error (except where retrying cannot
help: a reasoning model that spent its whole budget on hidden reasoning).

Structured answers (:func:`answer_format`) come back as JSON ``{"reasoning": ..., "answer":
...}``; :func:`structured_text` turns them into the text the strict parser reads
(``<reasoning>\nAnswer: <answer>``), so the cache stores text as for free answers and the
parser stays the one judge of what was answered. :func:`reply_usage` reads the token counts.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from .base import USAGE_KEYS

__all__ = ["BadReply", "reply_json", "first_choice", "first_token_candidates", "option_logprobs",
           "reasons_first", "reply_text",
           "reply_texts", "answer_format", "structured_text", "reply_usage", "hidden_reasoning",
           "answer_cut_off", "USAGE_KEYS"]

CUT_OFF = "(the answer was cut off at the token limit)"
"""The last line of a structured answer cut off before its ``answer`` field: no option."""


class BadReply(Exception):
    """A 200 reply that is not an answer; retried, never cached.

    Attributes:
        kind: Short name of what was wrong, e.g. ``invalid-json`` or ``nan-logprob``.
        detail: What the reply held, for the one-line error after the retries.
        retry: Whether asking again can help (false: the same request fails the same way).
    """

    def __init__(self, kind: str, detail: str, *, retry: bool = True) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail, self.retry = kind, detail, retry


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


def option_logprobs(candidates: Sequence[tuple[str, float]],
                    options: Sequence[str]) -> tuple[float, ...]:
    """Log of the probability mass of the candidate tokens that start each option.

    A token counts for an option when its stripped text is a non-empty prefix of the option
    (case-sensitive) and of no other option: an ambiguous token says nothing about the choice.

    Args:
        candidates: ``(token, logprob)`` pairs, e.g. a server's ``top_logprobs``.
        options: The answer options.

    Returns:
        One log-probability per option, ``-inf`` where no token matched.

    Example:
        >>> option_logprobs([("Acc", math.log(0.5)), (" Reject", math.log(0.25))],
        ...                 ["Accept", "Reject", "Maybe"])
        (-0.6931471805599453, -1.3862943611198906, -inf)
    """
    mass = [0.0] * len(options)
    for token, logprob in candidates:
        text = token.strip()
        if not text:
            continue
        hits = [i for i, option in enumerate(options) if option.startswith(text)]
        if len(hits) == 1:
            mass[hits[0]] += math.exp(logprob)
    return tuple(math.log(m) if m > 0 else -math.inf for m in mass)


def reasons_first(choice: dict[str, Any]) -> bool:
    """Whether a scoring reply's first token opens a reasoning part instead of the answer."""
    message = choice.get("message")
    if not isinstance(message, dict):
        return False
    if _reasoning_part(message):
        return True
    content = message.get("content")
    return isinstance(content, str) and content.lstrip().startswith("<think")


def reply_text(choice: dict[str, Any]) -> str:
    """The message text of a choice; :class:`BadReply` when it is missing or empty."""
    message = choice.get("message")
    text = message.get("content") if isinstance(message, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise BadReply("empty-content", "an empty answer (finish_reason="
                       f"{choice.get('finish_reason')!r})")
    return text


def reply_texts(data: dict[str, Any], n: int, *, structured: bool = False,
                reasoning: bool = False) -> list[str]:
    """The texts of the first ``n`` choices, structured answers turned into text.

    Args:
        data: The reply.
        n: Draws asked for (a server may return fewer: then fewer texts).
        structured: The answers were asked for as JSON (:func:`answer_format`).
        reasoning: The model reasons in hidden tokens: an empty answer cut off at the token
            limit means the reasoning used the whole budget, which asking again cannot cure.

    Raises:
        BadReply: No choices, or an empty text.
    """
    first_choice(data)
    texts = []
    for choice in data["choices"][:n]:
        if not isinstance(choice, dict):
            raise BadReply("empty-choices", "a choice that is not an object")
        if reasoning and choice.get("finish_reason") == "length" and not _content(choice):
            used = reply_usage(data)["reasoning_tokens"]
            raise BadReply("reasoning-budget", "hidden reasoning used the whole completion "
                           f"budget ({used} reasoning tokens) and no answer was written",
                           retry=False)
        text = reply_text(choice)
        texts.append(structured_text(text) if structured else text)
    return texts


def hidden_reasoning(data: dict[str, Any]) -> bool:
    """Whether a reply shows the model reasoning before it answers.

    Reasoning tokens in ``usage``, or a ``reasoning_content`` (vLLM, DeepSeek) or ``reasoning``
    part in a choice's message.
    """
    if reply_usage(data)["reasoning_tokens"] > 0:
        return True
    choices = data.get("choices")
    return isinstance(choices, list) and any(
        isinstance(c, dict) and _reasoning_part(c.get("message")) for c in choices)


def answer_cut_off(data: dict[str, Any]) -> bool:
    """Whether a choice came back empty because the token limit was reached."""
    choices = data.get("choices")
    return isinstance(choices, list) and any(
        isinstance(c, dict) and c.get("finish_reason") == "length" and not _content(c)
        for c in choices)


def _reasoning_part(message: Any) -> bool:
    return isinstance(message, dict) and any(
        isinstance(message.get(k), str) and message[k].strip()
        for k in ("reasoning_content", "reasoning"))


def _content(choice: dict[str, Any]) -> str:
    message = choice.get("message")
    text = message.get("content") if isinstance(message, dict) else None
    return text.strip() if isinstance(text, str) else ""


def answer_format(options: Sequence[str]) -> dict[str, Any]:
    """``response_format`` asking for ``{"reasoning": string, "answer": one of options}``.

    The reasoning comes first, so the model thinks before it answers, as in the free text.
    """
    schema = {"type": "object",
              "properties": {"reasoning": {"type": "string"},
                             "answer": {"type": "string", "enum": list(options)}},
              "required": ["reasoning", "answer"], "additionalProperties": False}
    return {"type": "json_schema",
            "json_schema": {"name": "answer", "strict": True, "schema": schema}}


_PARTIAL = re.compile(r'^\s*\{\s*"reasoning"\s*:\s*"((?:[^"\\]|\\.)*)')


def structured_text(content: str) -> str:
    r"""The text the parser reads for a structured answer.

    ``{"reasoning": "...", "answer": "Reject"}`` becomes ``...\nAnswer: Reject``. An answer
    outside the options is kept as it came (the parser then counts it as a failure); a reply
    cut off inside the JSON keeps the reasoning written so far and ends in :data:`CUT_OFF`; a
    reply that is not JSON (a server that ignores the schema) is returned unchanged.

    Example:
        >>> structured_text('{"reasoning": "Too low.", "answer": "Reject"}')
        'Too low.\nAnswer: Reject'
    """
    try:
        data = json.loads(content)
    except ValueError:
        partial = _PARTIAL.match(content)
        if partial is None:
            return content
        body = partial.group(1).rstrip("\\")
        try:
            reasoning = json.loads(f'"{body}"')
        except ValueError:
            reasoning = body
        return f"{reasoning.strip()}\n{CUT_OFF}".strip()
    if not isinstance(data, dict) or not isinstance(data.get("answer"), str):
        return content
    reasoning = data.get("reasoning")
    reasoning = reasoning.strip() if isinstance(reasoning, str) else ""
    return f"{reasoning}\nAnswer: {data['answer'].strip()}".strip()


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def reply_usage(data: dict[str, Any]) -> dict[str, int]:
    """The token counts of a reply, as :data:`USAGE_KEYS` (0 where the server reports none).

    ``output_tokens`` is the API's ``completion_tokens``, reasoning included;
    ``reasoning_tokens`` is the hidden part of them; ``cached_input_tokens`` the part of
    ``input_tokens`` the server's prompt cache served.
    """
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    prompt = usage.get("prompt_tokens_details")
    completion = usage.get("completion_tokens_details")
    return {"input_tokens": _count(usage.get("prompt_tokens")),
            "cached_input_tokens": _count(prompt.get("cached_tokens")
                                          if isinstance(prompt, dict) else 0),
            "output_tokens": _count(usage.get("completion_tokens")),
            "reasoning_tokens": _count(completion.get("reasoning_tokens")
                                       if isinstance(completion, dict) else 0)}
