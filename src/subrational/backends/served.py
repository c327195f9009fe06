"""What an OpenAI-compatible server says it serves: the model check, the server kind, the identity.

The openai backend asks ``GET /models`` once, when its fingerprint is first computed (the
pipeline does so before any call), and reads the listing here:

* **The model must be listed.** A server that lists its models but not the one asked for is a
  one-line error naming those it has: llama.cpp answers any model name with the one model it
  holds, so ``--model openai:gpt-4o`` would otherwise run SmolLM2 and record "gpt-4o". Ids match
  exactly, or after a ``models/`` prefix (Gemini's listing). A server that lists nothing (404),
  refuses the listing (401/403: some keys may chat but not list) or does not answer is not
  checked; Azure OpenAI lists base models, not the deployment names it is called with, and is
  not checked either.
* **The server kind** (:data:`KINDS`), from the host and the listing's ``owned_by``, decides
  which sampling settings beyond OpenAI's own may be sent (:mod:`.openai_settings`).
* **The served identity** is what the listing says about the weights beyond the id: vLLM's
  ``root`` and ``parent`` (the model path, when ``--served-model-name`` gave it another name;
  the base of a LoRA adapter) and llama.cpp's ``meta`` (parameter count, file size, vocabulary).
  It enters the cache key, so another model behind the same name and URL is asked again
  instead of being served stale answers. Where the listing adds nothing (OpenAI, Ollama, a vLLM
  without an alias) nothing is added, and answers cached before this check still match.
* **Offline replays** do not ask the server: the last listing read for (URL, model) is kept in
  ``servers.json`` in the cache directory (format :data:`RECORD_FORMAT`), so a replay computes
  the same cache key. A server that cannot be asked online falls back to that record too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import PathError, UsageError
from .endpoints import redact_url

__all__ = ["KINDS", "RECORD_FORMAT", "ServedModel", "kind_of_host", "from_listing",
           "read_record", "write_record"]

KINDS = ("openai", "vllm", "sglang", "llama.cpp", "other")
"""Server software the backend tells apart (``other``: anything else, sent OpenAI's settings
only)."""

RECORD_FORMAT = 1
_OWNERS = {"vllm": "vllm", "sglang": "sglang", "llamacpp": "llama.cpp", "me": "llama.cpp"}
"""``owned_by`` of each server's listing (``me``: llama-cpp-python's server)."""
_META_KEYS = ("n_params", "size", "n_vocab", "n_ctx_train", "n_embd", "vocab_type")
_SHOWN = 8  # listed models named in the error


@dataclass(frozen=True)
class ServedModel:
    """What the server said about the model, or what was recorded when it last did.

    Attributes:
        kind: One of :data:`KINDS`.
        identity: The served identity beyond the model id (``root``, ``parent``, ``meta``);
            empty when the listing adds nothing. Part of the cache key when not empty.
        source: Where this came from: ``GET /models``, ``servers.json`` (the record), or why
            the server was not asked (``offline``, ``no listing (HTTP 404)``, ...).
    """

    kind: str = "other"
    identity: Mapping[str, Any] = field(default_factory=dict)
    source: str = "not asked"


def kind_of_host(base_url: str) -> str | None:
    """``openai`` for OpenAI's and Azure OpenAI's hosts, else None (the listing decides)."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "api.openai.com" or host.endswith(".openai.azure.com"):
        return "openai"
    return None


def _is_azure(base_url: str) -> bool:
    return (urlsplit(base_url).hostname or "").lower().endswith(".openai.azure.com")


def _entries(body: Any) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, list):
        return []
    return [e for e in data if isinstance(e, dict) and isinstance(e.get("id"), str)]


def _identity(entry: Mapping[str, Any]) -> dict[str, Any]:
    identity: dict[str, Any] = {}
    for key in ("root", "parent"):
        value = entry.get(key)
        if isinstance(value, str) and value and value != entry["id"]:
            identity[key] = value
    meta = entry.get("meta")
    if isinstance(meta, Mapping):
        kept = {k: meta[k] for k in _META_KEYS
                if isinstance(meta.get(k), (int, float)) and not isinstance(meta.get(k), bool)}
        if kept:
            identity["meta"] = kept
    return identity


def from_listing(base_url: str, model: str, body: Any) -> ServedModel:
    """The served model of a ``GET /models`` reply ``body``.

    Raises:
        UsageError: The server lists models and ``model`` is not one of them.
    """
    entries = _entries(body)
    kind = kind_of_host(base_url)
    if not entries:
        return ServedModel(kind or "other", {}, "GET /models (no models listed)")
    by_id = {e["id"]: e for e in entries}
    entry = by_id.get(model) or by_id.get(f"models/{model}")
    if entry is None and not _is_azure(base_url):
        names = sorted(by_id)
        shown = ", ".join(names[:_SHOWN]) + (f" and {len(names) - _SHOWN} more"
                                             if len(names) > _SHOWN else "")
        raise UsageError(f"the server at {redact_url(base_url)} does not serve {model!r}; it "
                         f"lists {shown}: use --model openai:<one of them>")
    owners = {str(e.get("owned_by", "")).lower() for e in entries}
    kind = kind or next((_OWNERS[o] for o in sorted(owners) if o in _OWNERS), "other")
    return ServedModel(kind, _identity(entry) if entry else {}, "GET /models")


def _record_path() -> Path:
    from ..paths import cache_dir

    return cache_dir() / "servers.json"


def _record_key(base_url: str, model: str) -> str:
    return f"{redact_url(base_url)} {model}"


def _read_all() -> dict[str, Any]:
    try:
        data = json.loads(_record_path().read_text(encoding="utf-8"))
    except (OSError, ValueError, PathError):
        return {}
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        return {}
    servers = data.get("servers")
    return servers if isinstance(servers, dict) else {}


def read_record(base_url: str, model: str) -> ServedModel | None:
    """What ``servers.json`` recorded for (URL, model), or None (absent or unreadable)."""
    entry = _read_all().get(_record_key(base_url, model))
    if not isinstance(entry, dict) or entry.get("kind") not in KINDS:
        return None
    identity = entry.get("identity")
    return ServedModel(entry["kind"], identity if isinstance(identity, dict) else {},
                       "servers.json")


def write_record(base_url: str, model: str, served: ServedModel) -> None:
    """Record ``served`` for (URL, model); a record that cannot be written is skipped.

    The record only spares an offline replay the server; losing it costs nothing online.
    """
    from ..paths import write_text_atomic

    servers = _read_all()
    servers[_record_key(base_url, model)] = {"kind": served.kind,
                                             "identity": dict(served.identity)}
    try:
        write_text_atomic(_record_path(), json.dumps(
            {"format": RECORD_FORMAT, "servers": servers}, indent=1, sort_keys=True))
    except (OSError, PathError):
        pass

