"""Checks for a study's constructor options, each failing in one line that names the option.

Options arrive from ``--option STUDY.KEY=VALUE`` (parsed as JSON, so ``abc`` is a string and
``NaN`` a float), from ``[options.STUDY]`` in a TOML file, or from a policy file, so a game
cannot trust their type. Every check refuses a wrong type, a non-finite number and a value out
of range, and every range has an upper bound: a grid or an episode that grows with an option
must stay small enough to elicit, simulate and keep in memory. The message says which study and
option, what is allowed and what was given::

    study option ultimatum.pie must be a finite number from 1 to 1,000,000 (dollars); got 'abc'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

from ..errors import ConfigError

__all__ = ["one_of", "option_error", "whole_number", "real_number", "real_numbers", "whole_numbers"]


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 5]}...{text[-1]}"


def option_error(study: str, name: str, value: Any, allowed: str) -> ConfigError:
    """The one-line error for a bad option value: study, option, what is allowed, what came."""
    return ConfigError(f"study option {study}.{name} must be {allowed}; got {_show(value)}")


def one_of(study: str, name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` when it is one of ``choices``, else :func:`option_error` listing them."""
    if value not in choices:
        raise option_error(study, name, value, "one of " + ", ".join(repr(c) for c in choices))
    return str(value)


def _is_real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _num(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    if low_open and high_open:
        return f"strictly between {_num(low)} and {_num(high)}"
    return f"from {_num(low)}{' (exclusive)' if low_open else ''} to {_num(high)}"


def whole_number(study: str, name: str, value: Any, *, low: int, high: int,
                 unit: str = "") -> int:
    """``value`` as an int in ``[low, high]`` (no bool, no float)."""
    if not (isinstance(value, Integral) and not isinstance(value, bool)
            and low <= int(value) <= high):
        raise option_error(study, name, value, f"a whole number from {low} to {high}"
                           + (f" ({unit})" if unit else ""))
    return int(value)


def real_number(study: str, name: str, value: Any, *, low: float, high: float,
                low_open: bool = False, high_open: bool = False, unit: str = "") -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high``."""
    ok = _is_real(value) and math.isfinite(float(value))
    if ok:
        v = float(value)
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        raise option_error(study, name, value, f"a finite number "
                           f"{_interval(low, high, low_open, high_open)}"
                           + (f" ({unit})" if unit else ""))
    return float(value)


def _listed(value: Any) -> Sequence[Any] | None:
    """A single number as a list of one (``--option s.k=0.5``); None for a non-list."""
    if _is_real(value):
        return [value]
    if isinstance(value, (list, tuple)):
        return value
    return None


def real_numbers(study: str, name: str, value: Any, *, low: float, high: float,
                 max_len: int, low_open: bool = False, high_open: bool = False,
                 distinct: bool = False, unit: str = "") -> tuple[float, ...]:
    """A non-empty list of at most ``max_len`` finite numbers in the interval."""
    items = _listed(value)
    allowed = (f"a list of 1 to {max_len} {'distinct ' if distinct else ''}finite numbers "
               f"{_interval(low, high, low_open, high_open)}" + (f" ({unit})" if unit else ""))
    if not items or len(items) > max_len:
        raise option_error(study, name, value, allowed)
    out = []
    for item in items:
        try:
            out.append(real_number(study, name, item, low=low, high=high, low_open=low_open,
                                   high_open=high_open))
        except ConfigError:
            raise option_error(study, name, value, allowed) from None
    if distinct and len(set(out)) != len(out):
        raise option_error(study, name, value, allowed)
    return tuple(out)


def whole_numbers(study: str, name: str, value: Any, *, low: int, high: int, max_len: int,
                  unit: str = "") -> tuple[int, ...]:
    """A non-empty list of at most ``max_len`` whole numbers in ``[low, high]``."""
    items = _listed(value)
    allowed = f"a list of 1 to {max_len} whole numbers from {low} to {high}" + (
        f" ({unit})" if unit else "")
    if not items or len(items) > max_len:
        raise option_error(study, name, value, allowed)
    try:
        return tuple(whole_number(study, name, item, low=low, high=high) for item in items)
    except ConfigError:
        raise option_error(study, name, value, allowed) from None
