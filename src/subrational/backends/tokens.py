"""Prompt tokens before a call: the model's own tokenizer where one is at hand, else chars / 4.

Used by the plan (:mod:`subrational.plan`) to estimate what a run will be billed.

* **OpenAI models** (gpt-4o, gpt-4.1, o-series, gpt-5 class: ``o200k_base``; gpt-4 and
  gpt-3.5: ``cl100k_base``) are counted with their BPE when the optional ``bpe-openai`` package
  is installed (``pip install 'subrational[tokens]'``; it ships the vocabularies, so it works
  offline), plus the chat format's overhead: :data:`PER_MESSAGE` tokens per message and
  :data:`REPLY_PRIMING` for the reply (OpenAI's published rule for its chat models).
* **Everything else** (Claude, whose tokenizer is not public; models behind other servers;
  OpenAI models without the package) is estimated as one token per :data:`CHARS_PER_TOKEN`
  characters of each message's text, rounded up, plus the same overhead. English prose runs
  at about four characters per token in the BPE vocabularies of current models; Claude's
  tokenizer gives somewhat more tokens for the same text, so this estimate errs low for it.
"""

from __future__ import annotations

import fnmatch
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .base import Message

__all__ = ["TokenCount", "count_prompt_tokens", "count_text_tokens", "CHARS_PER_TOKEN",
           "PER_MESSAGE", "REPLY_PRIMING", "encoding_name"]

CHARS_PER_TOKEN = 4
"""Characters per token of the fallback estimate (module docstring)."""
PER_MESSAGE = 3
"""Tokens the chat format adds around each message (role and separators)."""
REPLY_PRIMING = 3
"""Tokens the chat format adds to start the assistant's reply."""

_ENCODINGS = (("gpt-4o*", "o200k_base"), ("gpt-4.1*", "o200k_base"), ("gpt-5*", "o200k_base"),
              ("o1*", "o200k_base"), ("o3*", "o200k_base"), ("o4*", "o200k_base"),
              ("gpt-oss*", "o200k_base"), ("gpt-4*", "cl100k_base"),
              ("gpt-3.5*", "cl100k_base"))


@dataclass(frozen=True)
class TokenCount:
    """Prompt tokens of one request and how they were counted.

    Attributes:
        tokens: The count.
        method: ``o200k_base`` or ``cl100k_base`` (the model's BPE), or ``chars/4``.
    """

    tokens: int
    method: str


def encoding_name(backend: str, model: str) -> str | None:
    """The BPE of an OpenAI model behind the ``openai`` backend, else None.

    Example:
        >>> encoding_name("openai", "gpt-4o-mini"), encoding_name("anthropic", "claude-x")
        ('o200k_base', None)
    """
    if backend != "openai":
        return None
    name = model.lower().rsplit("/", 1)[-1]
    return next((enc for pattern, enc in _ENCODINGS if fnmatch.fnmatchcase(name, pattern)), None)


@lru_cache(maxsize=4)
def _encoding(name: str) -> Any:
    """The ``bpe_openai`` encoding ``name``, or None when the package is not installed."""
    try:
        import bpe_openai
    except ImportError:
        return None
    with warnings.catch_warnings():  # its data loader uses a deprecated importlib call
        warnings.simplefilter("ignore", DeprecationWarning)
        return bpe_openai.get_encoding(name)


def count_text_tokens(text: str, *, encoding: str | None) -> TokenCount:
    """Tokens of ``text`` in ``encoding`` when it can be loaded, else ``ceil(chars / 4)``."""
    enc = _encoding(encoding) if encoding else None
    if enc is not None:
        return TokenCount(len(enc.encode(text)), encoding)  # type: ignore[arg-type]
    return TokenCount(math.ceil(len(text) / CHARS_PER_TOKEN), f"chars/{CHARS_PER_TOKEN}")


def count_prompt_tokens(messages: Sequence[Message], *, backend: str,
                        model: str) -> TokenCount:
    """Input tokens of a chat prompt to ``model`` behind ``backend`` (module docstring)."""
    encoding = encoding_name(backend, model)
    counts = [count_text_tokens(m.content, encoding=encoding) for m in messages]
    method = counts[0].method if counts else f"chars/{CHARS_PER_TOKEN}"
    return TokenCount(sum(c.tokens + PER_MESSAGE for c in counts) + REPLY_PRIMING, method)
