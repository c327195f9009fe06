"""What a model's tokens cost: a price table by model id, and the cost of a usage record.

Design:

* **A table of glob patterns**, matched case-insensitively against the model id and its last
  path segment (``openai/gpt-4o`` on OpenRouter matches ``gpt-4o``), as the capability table
  (:mod:`.capabilities`) is. Each entry gives US dollars per million tokens for ``input``,
  ``cached_input`` (the part of the input a prompt cache served) and ``output``, and the date
  the prices were read (``as_of``). The first matching entry wins: the user's (the config key
  ``prices``) come first, then :data:`SHIPPED`, most specific pattern first.
* **The shipped prices must be checked.** They are the providers' list prices for standard
  (not batch, not priority) requests as this table's authors knew them on
  :data:`PRICES_AS_OF`, written down without access to the price pages; providers change them.
  Dated snapshots of a model (``gpt-4o-2024-08-06``) are priced as the model; an id the table
  does not know is priced at nothing: its cost is *unknown*, never 0.
* **Reasoning is billed as output.** ``output_tokens`` of a usage record already holds the
  hidden reasoning tokens (:mod:`.base`), so ``reasoning_tokens`` is never added again.
* **Anthropic's cache writes** cost 1.25 times the input price; a usage record does not tell
  them apart from other input (:mod:`.anthropic_api`), so they are priced as input. The
  built-in studies' system texts are below every Claude model's caching minimum, so no write
  happens for them.
* **Backends without a billed API** (in-process models, scripted ones: ``Backend.billed`` is
  false) cost 0 by definition, whatever their tokens; a local server reached through the
  ``openai`` backend is an API like any other: give it a price of 0 in the config.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Price", "PriceMatch", "SHIPPED", "PRICES_AS_OF", "FREE", "parse_prices",
           "lookup_price", "usage_cost"]

PRICES_AS_OF = "2025-12"
"""When the shipped prices were written down (from memory of the providers' pages: check them)."""

_PER = 1_000_000  # prices are per million tokens
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
_FIELDS = ("input", "cached_input", "output", "as_of")


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens of one model.

    Attributes:
        input: Input tokens not served by a prompt cache.
        cached_input: Input tokens a prompt cache served.
        output: Output tokens, hidden reasoning included.
        as_of: When these prices were read (``YYYY-MM`` or ``YYYY-MM-DD``).
    """

    input: float
    cached_input: float
    output: float
    as_of: str


@dataclass(frozen=True)
class PriceMatch:
    """The price of one model and where it came from.

    Attributes:
        price: The price.
        pattern: The table entry that matched (``gpt-4o``), or the reason it is free.
        source: ``shipped``, ``config`` or ``free`` (a backend without a billed API).
    """

    price: Price
    pattern: str
    source: str

    def describe(self) -> str:
        """One line: the prices and their date, e.g. for the plan and the report."""
        if self.source == "free":
            return f"free ({self.pattern})"
        p = self.price
        check = ", check them" if self.source == "shipped" else ""
        return (f"${_money(p.input)} input, ${_money(p.cached_input)} cached input, "
                f"${_money(p.output)} output per million tokens ('{self.pattern}', "
                f"{self.source} prices as of {p.as_of}{check})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the four fields, the pattern and the source."""
        return {"input": self.price.input, "cached_input": self.price.cached_input,
                "output": self.price.output, "as_of": self.price.as_of,
                "pattern": self.pattern, "source": self.source}


FREE = PriceMatch(Price(0.0, 0.0, 0.0, "-"), "no billed API: in-process or scripted", "free")
"""The price of a backend without a billed API."""


def _money(value: float) -> str:
    """Dollars with two decimals, or three where a price needs them (``0.075``)."""
    return f"{value:.3f}" if round(value, 2) != round(value, 3) else f"{value:.2f}"


def _entry(input_: float, cached: float, output: float) -> dict[str, Any]:
    return {"input": input_, "cached_input": cached, "output": output, "as_of": PRICES_AS_OF}


SHIPPED: tuple[tuple[str, Mapping[str, Any]], ...] = (
    # OpenAI, standard tier. Dated snapshots: "<name>-20*".
    ("gpt-5-mini", _entry(0.25, 0.025, 2.00)),
    ("gpt-5-mini-20*", _entry(0.25, 0.025, 2.00)),
    ("gpt-5-nano", _entry(0.05, 0.005, 0.40)),
    ("gpt-5-nano-20*", _entry(0.05, 0.005, 0.40)),
    ("gpt-5", _entry(1.25, 0.125, 10.00)),
    ("gpt-5-20*", _entry(1.25, 0.125, 10.00)),
    ("gpt-5-chat-latest", _entry(1.25, 0.125, 10.00)),
    ("gpt-5.1", _entry(1.25, 0.125, 10.00)),
    ("gpt-5.1-20*", _entry(1.25, 0.125, 10.00)),
    ("gpt-4.1-mini", _entry(0.40, 0.10, 1.60)),
    ("gpt-4.1-mini-20*", _entry(0.40, 0.10, 1.60)),
    ("gpt-4.1-nano", _entry(0.10, 0.025, 0.40)),
    ("gpt-4.1-nano-20*", _entry(0.10, 0.025, 0.40)),
    ("gpt-4.1", _entry(2.00, 0.50, 8.00)),
    ("gpt-4.1-20*", _entry(2.00, 0.50, 8.00)),
    ("gpt-4o-mini", _entry(0.15, 0.075, 0.60)),
    ("gpt-4o-mini-20*", _entry(0.15, 0.075, 0.60)),
    ("gpt-4o-2024-05-13", _entry(5.00, 5.00, 15.00)),  # the first snapshot: no cache discount
    ("gpt-4o", _entry(2.50, 1.25, 10.00)),
    ("gpt-4o-20*", _entry(2.50, 1.25, 10.00)),
    ("o4-mini", _entry(1.10, 0.275, 4.40)),
    ("o4-mini-20*", _entry(1.10, 0.275, 4.40)),
    ("o3-mini", _entry(1.10, 0.55, 4.40)),
    ("o3-mini-20*", _entry(1.10, 0.55, 4.40)),
    ("o3", _entry(2.00, 0.50, 8.00)),
    ("o3-20*", _entry(2.00, 0.50, 8.00)),
    ("o1-mini", _entry(1.10, 0.55, 4.40)),
    ("o1-mini-20*", _entry(1.10, 0.55, 4.40)),
    ("o1", _entry(15.00, 7.50, 60.00)),
    ("o1-20*", _entry(15.00, 7.50, 60.00)),
    # Anthropic; cached_input is the cache-read price (0.1 times the input price).
    ("claude-opus-4-5*", _entry(5.00, 0.50, 25.00)),
    ("claude-opus-4-1*", _entry(15.00, 1.50, 75.00)),
    ("claude-opus-4-0", _entry(15.00, 1.50, 75.00)),
    ("claude-opus-4-20*", _entry(15.00, 1.50, 75.00)),
    ("claude-sonnet-4-5*", _entry(3.00, 0.30, 15.00)),
    ("claude-sonnet-4-0", _entry(3.00, 0.30, 15.00)),
    ("claude-sonnet-4-20*", _entry(3.00, 0.30, 15.00)),
    ("claude-3-7-sonnet*", _entry(3.00, 0.30, 15.00)),
    ("claude-haiku-4-5*", _entry(1.00, 0.10, 5.00)),
    ("claude-3-5-haiku*", _entry(0.80, 0.08, 4.00)),
)
"""The shipped prices (USD per million tokens, standard requests; see the module docstring).

Sonnet's prices are those of prompts under 200,000 tokens (the studies' are a few hundred)."""


def _number(pattern: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 \
            or value == float("inf"):
        raise ValueError(f"{pattern!r}.{key} must be a number of US dollars per million tokens, "
                         f"0 or more; got {value!r}")
    return float(value)


def parse_prices(raw: Any) -> tuple[tuple[str, Price], ...]:
    """Check a user price table: ``{pattern: {input, output, cached_input?, as_of?}}``.

    ``cached_input`` defaults to the input price (no discount assumed), ``as_of`` to
    ``"config"``; a date given must read ``YYYY-MM`` or ``YYYY-MM-DD``.

    Raises:
        ValueError: One line naming the pattern and the field that is wrong, and what is valid.
    """
    if not isinstance(raw, Mapping):
        raise ValueError(f"must be a table of model patterns, e.g. [prices.\"my-model\"] with "
                         f"input = 0.5 and output = 1.5; got {type(raw).__name__}")
    table = []
    for pattern, entry in raw.items():
        if not isinstance(pattern, str) or not pattern.strip():
            raise ValueError(f"a model pattern must be a non-empty string; got {pattern!r}")
        if not isinstance(entry, Mapping):
            raise ValueError(f"{pattern!r} must be a table of prices (input, cached_input, "
                             f"output, as_of); got {entry!r}")
        unknown = sorted(set(entry) - set(_FIELDS))
        if unknown:
            raise ValueError(f"{pattern!r} sets {unknown[0]!r}, which is not a price field; "
                             f"valid: {', '.join(_FIELDS)}")
        missing = [k for k in ("input", "output") if k not in entry]
        if missing:
            raise ValueError(f"{pattern!r} has no {missing[0]} price (US dollars per million "
                             "tokens)")
        as_of = entry.get("as_of", "config")
        if as_of != "config" and not (isinstance(as_of, str) and _DATE.match(as_of)):
            raise ValueError(f"{pattern!r}.as_of must be a date, YYYY-MM or YYYY-MM-DD; got "
                             f"{as_of!r}")
        input_ = _number(pattern, "input", entry["input"])
        table.append((pattern, Price(input_, _number(pattern, "cached_input",
                                                     entry.get("cached_input", input_)),
                                     _number(pattern, "output", entry["output"]), as_of)))
    return tuple(table)


def _matches(pattern: str, model: str) -> bool:
    pattern, model = pattern.lower(), model.lower()
    return fnmatch.fnmatchcase(model, pattern) or \
        fnmatch.fnmatchcase(model.rsplit("/", 1)[-1], pattern)


def lookup_price(model: str, user: Mapping[str, Any] | None = None) -> PriceMatch | None:
    """The price of ``model``: the first matching user entry, else shipped; None if unknown.

    Example:
        >>> lookup_price("gpt-4o-2024-08-06").price.output
        10.0
        >>> lookup_price("my-model", {"my-*": {"input": 0, "output": 0}}).source
        'config'
        >>> lookup_price("acme-llm") is None
        True
    """
    for pattern, price in parse_prices(user or {}):
        if _matches(pattern, model):
            return PriceMatch(price, pattern, "config")
    for pattern, entry in SHIPPED:
        if _matches(pattern, model):
            return PriceMatch(Price(entry["input"], entry["cached_input"], entry["output"],
                                    entry["as_of"]), pattern, "shipped")
    return None


def usage_cost(usage: Mapping[str, int], price: Price) -> float:
    """US dollars of one usage record (:data:`.base.USAGE_KEYS`) at ``price``.

    Input not served by the cache at the input price, cached input at its own, output
    (hidden reasoning included, so ``reasoning_tokens`` is not added again) at the output price.
    """
    cached = min(usage.get("cached_input_tokens", 0), usage.get("input_tokens", 0))
    fresh = usage.get("input_tokens", 0) - cached
    return (fresh * price.input + cached * price.cached_input
            + usage.get("output_tokens", 0) * price.output) / _PER
