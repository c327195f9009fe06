"""The run configuration: every field that shapes a run, validated, stored in the manifest."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from .backends.capabilities import (
    ANSWER_MODES,
    DEFAULT_REASONING_BUDGET,
    REASONING_EFFORTS,
    parse_table,
)
from .backends.hf import DTYPES
from .backends.prices import parse_prices
from .backends.registry import DEFAULT_MODEL, parse_model
from .elicitation.elicit import METHODS
from .elicitation.smoothing import SMOOTHINGS
from .errors import ConfigError, UnknownNameError
from .factors.levels import FACTOR_NAMES
from .learning.losses import LOSSES

__all__ = ["RunConfig", "build_config", "read_config_file", "FLAGS", "LIMITS", "MAX_PLAN_CALLS"]

MAX_PLAN_CALLS = 1_000_000
"""Most model requests one run may plan (checked before the first call)."""

LIMITS: dict[str, tuple[int, int, str]] = {
    "seed": (0, 2**63 - 1, " (the seeds numpy and torch both take)"),
    "samples": (1, 10_000, " draws per cell"),
    "max_tokens": (1, 32_768, " tokens"),
    "episodes": (1, 100_000, " rollouts per policy and persona"),
    "bootstrap": (1, 10_000, " replications"),
    "max_concurrency": (1, 1_024, " requests at once"),
    "paraphrases": (1, 100, " wordings"),
    "reasoning_budget": (0, 131_072, " tokens of hidden reasoning on top of --max-tokens"),
    "draws_per_request": (1, 128, " draws in one request (the API's n)"),
    "population_size": (1, 10_000, " people in one population"),
}
"""(lowest, highest, unit) of each integer setting: the upper bounds keep a run within what one
machine can hold and finish (a million samples per cell would build every request first)."""

FLAGS = {"max_concurrency": "--concurrency", "personas": "--persona", "imports": "--import",
         "options": "--option", "experiments": "EXPERIMENT", "factors": "--factor"}
"""The command-line flag of each setting whose flag is not ``--`` + its name."""

MAX_COST = 1e9
"""Upper bound of ``max_cost`` in US dollars (it only has to exclude infinity and typos)."""

MAX_PER_MINUTE = 1e9
"""Upper bound of ``rpm`` and ``tpm`` (it only has to exclude infinity and typos)."""

MAX_TIMEOUT = 3600.0
"""Upper bound of ``timeout`` in seconds (design choice: an hour per request is never meant)."""


_CHOICES = {"method": METHODS, "smoothing": SMOOTHINGS, "loss": LOSSES, "answers": ANSWER_MODES}
"""Settings that name one of a fixed set (an unknown name gets a did-you-mean)."""

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
        smoothing: How the sample method's pooled counts become training targets:
            ``jeffreys`` (1/2 pseudo-draw per action, spread by a kernel for ordinal actions) or
            ``none`` (the frequencies). Statistics a user reads are never smoothed.
        seed: Seed of sampling, training and the evaluation rollouts.
        episodes: Rollouts per policy and persona behind the behaviour statistics of a game too
            large to enumerate every episode exactly (the built-in games at their default
            options are enumerated: this setting does not change their statistics).
        options: Constructor options per experiment name, e.g.
            ``{"double_or_nothing": {"win_probs": [0.5, 0.8]}}`` (the optional axes).
        bootstrap: Bootstrap replications behind each structural fit's confidence interval and
            behind the findings' intervals and decisions (Holm over m claims needs at least
            m / 0.05 - 1 of them to confirm any).
        paraphrases: Use only the first N wordings of each study's instructions (all when
            unset); fewer wordings cost fewer calls but the report cannot separate the
            wording's effect.
        loss: Imitation loss, ``kl`` (soft-label cross-entropy) or ``paper`` (squared error on
            softmax outputs); see docs/performance.md for the comparison.
        out: Run directory.
        offline: Replay-only: never call a model, fail on a cache miss.
        max_concurrency: Requests in flight (remote) or batch size (local).
        timeout: Seconds a remote server has to answer one request before it is retried.
        rpm: Remote APIs: requests per minute at most, paced one at a time; unset: the
            provider's own limit from its rate-limit headers (OpenAI ``x-ratelimit-*``,
            Anthropic ``anthropic-ratelimit-*``), and none where it sends none.
        tpm: Remote APIs: tokens per minute at most (each request's prompt estimate plus its
            output budget); unset: the provider's, as for ``rpm``.
        dtype: Local models: ``auto`` (float32 on a CPU below 1B weights, where bfloat16's
            rounding is as large as the effects; bfloat16 on a GPU or for larger models),
            ``float32`` or ``bfloat16``.
        imports: Python files or modules to import first (they register your own experiments).
        answers: How the sample method asks an API model for its answer: ``structured`` (a
            JSON schema ``{reasoning, answer}`` with the options as an enum), ``text`` (the
            free text of the paper, read by the strict parser) or ``auto`` (structured for
            reasoning models known to take the schema, and on vLLM and SGLang).
        reasoning_effort: ``reasoning_effort`` sent to reasoning models that take it
            (``none`` to ``xhigh``); unset: the model's own default.
        reasoning_budget: Completion tokens a reasoning model gets on top of ``max_tokens``
            for its hidden reasoning (8192; tokens not used are not billed).
        draws_per_request: Draws of one cell asked for in one API request (``n``); 1 keeps
            one request, and one seed, per draw.
        population: People to use as the personas of every study: a CSV, TOML or JSON file
            (one row per person) or ``builtin:adults`` / ``builtin:children`` (see
            :mod:`subrational.experiments.population`); unset: the studies' own personas.
        population_size: People a built-in population draws (seeded by ``seed``); refused
            with a file.
        controls: Also run the controls that separate simulation from recall (no persona,
            an economist, placebo traits, a disguised framing, a recall probe:
            :mod:`subrational.controls`); their extra calls are in ``subrational plan``.
        factors: Optional design factors crossed with the run's personas x states x first
            wording x option orders, each with its share of the variance of logit P(first
            action): ``temperature`` (0.5 vs 1.0; applied to the scored distribution under
            choice-probs), ``reasoning`` (a one-word answer vs think-then-answer; the latter is
            sampled under choice-probs) and ``placement`` (the persona in the system vs the user
            message); see :mod:`subrational.factors`. Their extra calls are in
            ``subrational plan``.
        model_capabilities: Entries of the per-model capability table, ``{pattern: {field:
            bool}}``, consulted before the shipped table (see
            :mod:`subrational.backends.capabilities`), e.g. ``{"my-reasoner*": {"logprobs":
            false, "max_completion_tokens": true}}``.
        max_cost: Stop the run cleanly once this run's recorded spend on model calls reaches
            this many US dollars (exit code 3, resumable; see :mod:`subrational.accounting`);
            unset: no limit. Refused before any call when the model has no known price.
        prices: Entries of the price table, ``{pattern: {input, cached_input, output,
            as_of}}`` in US dollars per million tokens, consulted before the shipped table
            (:mod:`subrational.backends.prices`), e.g. ``{"my-model": {"input": 0.2,
            "output": 0.6, "as_of": "2026-01"}}``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    experiments: list[str] = Field(default_factory=list)
    personas: list[str] = Field(default_factory=list)
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    method: str = "choice-probs"
    samples: StrictInt = 10
    temperature: float = 1.0
    max_tokens: StrictInt = 160
    smoothing: str = "jeffreys"
    seed: StrictInt = 0
    episodes: StrictInt = 2000
    paraphrases: StrictInt | None = None
    bootstrap: StrictInt = 200
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    loss: str = "kl"
    out: Path = Path("runs")
    offline: StrictBool = False
    max_concurrency: StrictInt = 16
    timeout: float = 60.0
    rpm: float | None = None
    tpm: float | None = None
    dtype: str = "auto"
    imports: list[str] = Field(default_factory=list)
    answers: str = "auto"
    reasoning_effort: str | None = None
    reasoning_budget: StrictInt = DEFAULT_REASONING_BUDGET
    draws_per_request: StrictInt = 1
    model_capabilities: dict[str, Any] = Field(default_factory=dict)
    max_cost: float | None = None
    prices: dict[str, Any] = Field(default_factory=dict)
    population: str | None = None
    population_size: StrictInt | None = None
    controls: StrictBool = False
    factors: list[str] = Field(default_factory=list)

    @field_validator(*_CHOICES)
    @classmethod
    def _one_of(cls, v: str, info: ValidationInfo) -> str:
        choices = _CHOICES[info.field_name or ""]
        if v not in choices:
            raise UnknownNameError(info.field_name or "", v, choices)
        return v

    @field_validator("factors")
    @classmethod
    def _factors(cls, v: list[str]) -> list[str]:
        for name in v:
            if name not in FACTOR_NAMES:
                raise UnknownNameError("factor", name, FACTOR_NAMES)
        return v

    @field_validator("model")
    @classmethod
    def _model(cls, v: str) -> str:
        parse_model(v)
        return v

    @field_validator(*LIMITS)
    @classmethod
    def _in_range(cls, v: int | None, info: ValidationInfo) -> int | None:
        low, high, why = LIMITS[info.field_name or ""]
        if v is not None and not low <= v <= high:
            top = f"{high:,}" if high < 10**7 else f"2**{high.bit_length()} - 1"
            raise ValueError(f"must be from {low:,} to {top}{why}; got {v:,}")
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
            raise ValueError(f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds; "
                             f"got {v:g}")
        return v

    @field_validator("rpm", "tpm")
    @classmethod
    def _per_minute(cls, v: float | None, info: ValidationInfo) -> float | None:
        what = "requests" if info.field_name == "rpm" else "tokens"
        if v is not None and not 0 < v <= MAX_PER_MINUTE:
            raise ValueError(f"must be more than 0 and at most {MAX_PER_MINUTE:,.0f} {what} "
                             f"per minute; got {v:g}")
        return v

    @field_validator("dtype")
    @classmethod
    def _dtype(cls, v: str) -> str:
        if v not in DTYPES:
            raise ValueError(f"must be one of {', '.join(DTYPES)}; got {v!r}")
        return v

    @field_validator("reasoning_effort")
    @classmethod
    def _reasoning_effort(cls, v: str | None) -> str | None:
        if v is not None and v not in REASONING_EFFORTS:
            raise ValueError(f"must be one of {', '.join(REASONING_EFFORTS)}; got {v!r}")
        return v

    @field_validator("model_capabilities", mode="before")
    @classmethod
    def _model_capabilities(cls, v: Any) -> Any:
        parse_table(v)  # one line naming the pattern and the field
        return v

    @field_validator("prices", mode="before")
    @classmethod
    def _prices(cls, v: Any) -> Any:
        parse_prices(v)  # one line naming the pattern and the field
        return v

    @field_validator("max_cost")
    @classmethod
    def _max_cost(cls, v: float | None) -> float | None:
        if v is not None and not 0 < v < MAX_COST:
            raise ValueError(f"must be more than 0 and less than {MAX_COST:,.0f} US dollars; "
                             f"got {v:g}")
        return v

    @field_validator("temperature")
    @classmethod
    def _temperature(cls, v: float) -> float:
        if not 0 <= v <= 2:
            raise ValueError(f"must be a number from 0 to 2; got {v}")
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


def flag(key: str) -> str:
    """The command-line flag of setting ``key`` (``max_concurrency`` -> ``--concurrency``)."""
    return FLAGS.get(key, "--" + key.replace("_", "-"))


def build_config(values: dict[str, Any], *, source: str = "the command line",
                 file_keys: Iterable[str] = ()) -> RunConfig:
    """Validate settings into a :class:`RunConfig`, as one readable line on error.

    The line names the flag the user typed (``--concurrency``), or, for a setting in
    ``file_keys`` (read from the config file ``source``), the key and the file.
    """
    try:
        return RunConfig(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        key = loc[0] if loc else "settings"
        where = (f"{'.'.join(loc)} in {source}" if key in set(file_keys)
                 else " ".join([flag(key), ".".join(loc[1:])]).strip())
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] != "value_error":
            msg = f"{msg}; got {_show(err.get('input'))}"
        raise ConfigError(f"{where}: {msg}") from None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:55] + "..." + text[-1]
