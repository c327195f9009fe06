"""Tokens and cost of a run: what it paid, what its answers cost when they were made, a limit.

Design:

* **Two sums, never mixed.** *This run* is what the model calls made by this run were billed
  (:attr:`~subrational.cache.CallStats.paid`: every request sent, failed ones included). *When
  made* adds what the cache hits' calls were billed when an earlier run made them (the usage
  stored with each entry), so a replay from the cache says that its answers cost $X and that
  it paid nothing new. Entries from before usage was recorded have an unknown usage: they are
  counted (``unknown_hits``) and the *when made* cost is then a lower bound, never a made-up 0.
* **Prices** come from :mod:`subrational.backends.prices`: the config's ``prices`` entries,
  then the shipped table. A model with no price has an *unknown* cost (``None``); a backend
  without a billed API (``Backend.billed`` false: in-process, scripted) costs 0 by definition.
* **The spending limit** (``--max-cost``) is checked after each batch of model calls, once its
  answers are stored, against this run's spend: the run stops with
  :class:`~subrational.errors.SpendLimitReached` (exit code 3), the run directory left
  unfinished and so resumable. The batch in flight when the limit is reached is paid for, so
  the spend can pass the limit by up to one batch (``--concurrency`` calls). A limit with no
  known price is refused before any call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .backends.base import USAGE_KEYS, Backend
from .backends.prices import FREE, Price, PriceMatch, lookup_price, usage_cost
from .cache import CallStats
from .errors import ConfigError, SpendLimitReached

__all__ = ["price_for", "cost_of", "usage_block", "cost_manifest", "check_max_cost",
           "SpendLimit", "describe_spend", "price_line", "cost_view"]


def price_for(backend: Backend, prices: Mapping[str, Any] | None = None) -> PriceMatch | None:
    """The price of ``backend``'s model (config entries first), :data:`FREE`, or None: unknown."""
    if not backend.billed:
        return FREE
    return lookup_price(backend.model, prices)


def cost_of(tokens: Mapping[str, int], price: PriceMatch | None) -> float | None:
    """US dollars of ``tokens`` at ``price``; None when the price is unknown."""
    if price is None:
        return None
    return round(usage_cost(tokens, price.price), 6)


def _tokens(counter: Mapping[str, int]) -> dict[str, int]:
    return {k: int(counter.get(k, 0)) for k in USAGE_KEYS}


def usage_block(stats: CallStats, price: PriceMatch | None) -> dict[str, Any]:
    """Calls, cache hits, and the tokens and cost of this run and of its answers when made."""
    made = {k: stats.paid[k] + stats.replayed[k] for k in USAGE_KEYS}
    return {"calls": stats.calls, "cache_hits": stats.hits,
            "this_run": {**_tokens(stats.paid), "cost_usd": cost_of(stats.paid, price)},
            "when_made": {**_tokens(made), "cost_usd": cost_of(made, price),
                          "unknown_hits": stats.replayed_unknown}}


def cost_manifest(per_study: Mapping[str, CallStats], total: CallStats,
                  price: PriceMatch | None) -> dict[str, Any]:
    """The manifest's ``cost`` block: the price used, then per study and in total."""
    return {"price": None if price is None else price.to_dict(),
            "studies": {sid: usage_block(s, price) for sid, s in per_study.items()},
            "total": usage_block(total, price),
            "notes": ["output tokens include the hidden reasoning tokens (billed as output)",
                      "when_made adds what the cache hits cost when an earlier run made them; "
                      "hits from before usage was recorded are counted in unknown_hits"]}


def check_max_cost(max_cost: float | None, backend: Backend,
                   price: PriceMatch | None) -> None:
    """Refuse a spending limit that cannot be kept: the model has no known price."""
    if max_cost is not None and price is None:
        raise ConfigError(f"--max-cost {max_cost:g}: there is no price for {backend.model!r}, so "
                          "its spend cannot be counted; give it one under [prices] in a "
                          f"--config file (e.g. [prices.\"{backend.model}\"] input = 2.5, "
                          "output = 10, in US dollars per million tokens), or leave out "
                          "--max-cost")


class SpendLimit:
    """The ``on_spend`` hook of :class:`~subrational.cache.CachedBackend` for ``--max-cost``.

    Args:
        limit: US dollars this run may spend.
        price: The model's price (known: :func:`check_max_cost` refuses an unknown one).
    """

    def __init__(self, limit: float, price: PriceMatch) -> None:
        self.limit, self.price = limit, price

    def __call__(self, stats: CallStats) -> None:
        """Raise :class:`SpendLimitReached` once this run's spend reaches the limit."""
        spent = usage_cost(stats.paid, self.price.price)
        if spent >= self.limit:
            raise SpendLimitReached(spent=spent, limit=self.limit, calls=stats.calls)


def _count(n: int) -> str:
    return f"{n:,}"


def _money(value: float | None, *, unknown_hits: int = 0) -> str:
    if value is None:
        return "unknown (no price for this model)"
    shown = "$0" if value == 0 else f"${value:.4f}"
    return ("at least " if unknown_hits else "") + shown


def describe_spend(block: Mapping[str, Any]) -> str:
    """One line for the CLI: this run's tokens and cost, and its answers' cost when made."""
    now, made = block["this_run"], block["when_made"]
    tokens = (f"{_count(now['input_tokens'])} input ({_count(now['cached_input_tokens'])} "
              f"cached), {_count(now['output_tokens'])} output "
              f"({_count(now['reasoning_tokens'])} reasoning) tokens")
    line = f"cost: {_money(now['cost_usd'])} this run ({tokens})"
    if block["cache_hits"]:
        unknown = made["unknown_hits"]
        line += (f"; with the {_count(block['cache_hits'])} cached answers, the answers cost "
                 f"{_money(made['cost_usd'], unknown_hits=unknown)} when they were made")
        if unknown:
            line += f" ({_count(unknown)} cached before usage was recorded)"
    return line


def price_line(price: Mapping[str, Any] | None) -> str:
    """The price a manifest's ``cost`` block used, in words (see :meth:`PriceMatch.describe`)."""
    if price is None:
        return ("unknown: no price for this model, so no cost; give it one under [prices] in "
                "a --config file")
    match = PriceMatch(Price(price["input"], price["cached_input"], price["output"],
                             price["as_of"]), price["pattern"], price["source"])
    return match.describe()


def _row(name: str, block: Mapping[str, Any]) -> dict[str, Any]:
    now, made = block["this_run"], block["when_made"]
    return {"name": name, "calls": block["calls"], "cache_hits": block["cache_hits"],
            "input": made["input_tokens"], "cached": made["cached_input_tokens"],
            "output": made["output_tokens"], "reasoning": made["reasoning_tokens"],
            "this_run": _money(now["cost_usd"]),
            "when_made": _money(made["cost_usd"], unknown_hits=made["unknown_hits"]),
            "unknown_hits": made["unknown_hits"]}


def cost_view(cost: Mapping[str, Any] | None,
              titles: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """What the report and ``compare`` show of a manifest's ``cost`` block; None without one.

    ``rows``: one per study (named by ``titles`` where given), then ``total``: calls, cache
    hits, the answers' tokens (input with its cached part, output with its reasoning part) and
    the cost this run and when the answers were made. ``price``: :func:`price_line`.
    """
    if not cost:
        return None
    titles = titles or {}
    rows = [_row(titles.get(sid, sid), block) for sid, block in cost["studies"].items()]
    return {"rows": rows, "total": _row("total", cost["total"]),
            "price": price_line(cost.get("price"))}
