"""One number format for the demo's console and report.

* scores (CORR, MMC, TC, True Return per era, Spearman, exposures): signed, 4 decimals — ``+0.0164``;
* returns, drawdowns, costs of the fund: signed percent, 2 decimals — ``+1.23%``;
* stakes, payouts, burns: tokens with a thousands separator and 2 decimals — ``1,634.14``;
* Sharpe ratios, t-statistics: signed, 2 decimals — ``+2.10``;
* counts: integers with a thousands separator.

A value that rounds to zero prints without a sign (never ``-0.0000``); NaN prints as ``–``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["DASH", "count", "percent", "ratio", "score", "tokens"]

DASH = "–"


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _signed(number: float, decimals: int, suffix: str = "") -> str:
    text = f"{number:+.{decimals}f}"
    if float(text) == 0:  # rounds to zero: no sign, never a negative zero
        return f"{0:.{decimals}f}{suffix}"
    return text + suffix


def score(value: object) -> str:
    """A per-era score or correlation: ``+0.0164``."""
    number = _finite(value)
    return DASH if number is None else _signed(number, 4)


def percent(value: object, decimals: int = 2) -> str:
    """A return as a signed percentage: ``+1.23%`` (more ``decimals`` for small differences)."""
    number = _finite(value)
    return DASH if number is None else _signed(100 * number, decimals, "%")


def ratio(value: object) -> str:
    """A Sharpe ratio or t-statistic: ``+2.10``."""
    number = _finite(value)
    return DASH if number is None else _signed(number, 2)


def tokens(value: object) -> str:
    """An amount of tokens: ``1,634.14``."""
    number = _finite(value)
    if number is None:
        return DASH
    text = f"{number:,.2f}"
    return "0.00" if text == "-0.00" else text


def count(value: object) -> str:
    """An integer count: ``1,440``."""
    number = _finite(value)
    return DASH if number is None else f"{int(np.round(number)):,}"
