"""The run configuration: every field that shapes a run, validated, stored in the manifest."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from .backends.hf import DTYPES
from .backends.registry import DEFAULT_MODEL, parse_model
from .elicitation.elicit import METHODS
from .errors import ConfigError, UnknownNameError
from .learning.losses import LOSSES

__all__ = ["RunConfig", "build_config", "read_config_file"]

MAX_TIMEOUT = 3600.0
"""Upper bound of ``timeout`` in seconds (design choice: an hour per request is never meant)."""


class RunConfig(BaseModel):
    """Configuration of one ``subrational run``.

    Attributes:
        experiments: Experiment names or versioned ids (all registered ones when empty).
        personas: Persona names to elicit; each experiment takes the names it knows and keeps
            its defaults when none is its own.
        model: ``backend:name`` model string.
        base_url: OpenAI-compatible server URL (openai backend only).
        method: ``choice-probs`` or ``sample``.
        samples: Draws per cell for ``sample``.
        temperature: Sampling temperature for ``sample``.
        max_tokens: Token budget per sampled answer.
        seed: Seed of sampling, training and the evaluation rollouts.
        episodes: Rollouts per policy and persona behind the behaviour statistics.
        options: Constructor options per experiment name, e.g.
            ``{"double_or_nothing": {"win_probs": [0.5, 0.8]}}`` (the optional axes).
        bootstrap: Bootstrap replications behind each structural fit's confidence interval.
        paraphrases: Use only the first N wordings of each study's instructions (all when
            unset); fewer wordings cost fewer calls but the report cannot separate the
            wording's effect.
        loss: Imitation loss, ``kl`` (soft-label cross-entropy) or ``paper`` (squared error on
            softmax outputs); see docs/performance.md for the comparison.
        out: Run directory.
        offline: Replay-only: never call a model, fail on a cache miss.
        max_concurrency: Requests in flight (remote) or batch size (local).
        timeout: Seconds a remote server has to answer one request before it is retried.
        dtype: Local models: ``auto`` (bfloat16 where the hardware is fast at it), ``float32``
            or ``bfloat16``.
        imports: Python files or modules to import first (they register your own experiments).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    experiments: list[str] = Field(default_factory=list)
    personas: list[str] = Field(default_factory=list)
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    method: str = "choice-probs"
    samples: int = 10
    temperature: float = 1.0
    max_tokens: int = 160
    seed: int = 0
    episodes: int = 2000
    paraphrases: int | None = None
    bootstrap: int = 200
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    loss: str = "kl"
    out: Path = Path("runs")
    offline: bool = False
    max_concurrency: int = 16
    timeout: float = 60.0
    dtype: str = "auto"
    imports: list[str] = Field(default_factory=list)

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        if v not in METHODS:
            raise UnknownNameError("method", v, METHODS)
        return v

    @field_validator("loss")
    @classmethod
    def _loss(cls, v: str) -> str:
        if v not in LOSSES:
            raise UnknownNameError("loss", v, LOSSES)
        return v

    @field_validator("model")
    @classmethod
    def _model(cls, v: str) -> str:
        parse_model(v)
        return v

    @field_validator("samples", "max_tokens", "max_concurrency", "episodes", "bootstrap")
    @classmethod
    def _positive(cls, v: int, info) -> int:
        if v < 1:
            raise ConfigError(f"--{info.field_name.replace('_', '-')} must be at least 1, got {v}")
        return v

    @field_validator("paraphrases")
    @classmethod
    def _paraphrases(cls, v: int | None) -> int | None:
        if v is not None and v < 1:
            raise ConfigError(f"--paraphrases must be at least 1, got {v}")
        return v

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str | None) -> str | None:
        from .backends.endpoints import check_base_url

        return v if v is None else check_base_url(v)

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, v: float) -> float:
        if not 0 < v <= MAX_TIMEOUT:
            raise ConfigError(f"--timeout must be more than 0 and at most {MAX_TIMEOUT:g} "
                              f"seconds, got {v:g}")
        return v

    @field_validator("dtype")
    @classmethod
    def _dtype(cls, v: str) -> str:
        if v not in DTYPES:
            raise ConfigError(f"--dtype must be one of {', '.join(DTYPES)}, got {v!r}")
        return v

    @field_validator("temperature")
    @classmethod
    def _temperature(cls, v: float) -> float:
        if not 0 <= v <= 2:
            raise ConfigError(f"--temperature must be in [0, 2], got {v}")
        return v


def read_config_file(path: Path) -> dict[str, Any]:
    """Settings from a TOML file (the keys are :class:`RunConfig` fields)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(RunConfig.model_fields))
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r} in {path}; valid settings: "
                          f"{', '.join(RunConfig.model_fields)}")
    return data


def build_config(values: dict[str, Any], *, source: str = "the command line") -> RunConfig:
    """Validate settings into a :class:`RunConfig`, as one readable line on error."""
    try:
        return RunConfig(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        raise ConfigError(f"{where} in {source}: {err['msg']} (got {err.get('input')!r})") from None
