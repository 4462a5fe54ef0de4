"""Numbers as the CLI and the demo print them: one format per kind, no negative zero, ``—`` for missing.

:data:`FORMATS` names the kinds (``score``, ``ratio``, ``tokens``, ``pct`` …); :func:`format_value`
formats one value; :class:`NumberFormat` builds another kind. The table renderer
(:mod:`kardashev.cli.tables`) formats every cell through these, and re-exports them; the demo's console
tables, sentences and HTML report use the same names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from kardashev.errors import ConfigError

__all__ = ["FORMATS", "MISSING", "NumberFormat", "format_value"]

MISSING = "—"
"""What a missing value (None, NaN, NA) prints as."""


@dataclass(frozen=True)
class NumberFormat:
    """How a column of numbers prints (frozen).

    Parameters
    ----------
    decimals
        Digits after the point (of the mantissa when ``scientific``).
    thousands
        Group the integer part with ``,`` (token amounts).
    sign
        Print ``+`` on positive numbers (zero never has a sign).
    scientific
        ``1.23e-05`` notation (tiny quantities such as Signals alpha).
    percent
        Print a fraction as a percentage: ``0.0123`` → ``1.23%`` (``decimals`` counts after the
        percentage's point).
    """

    decimals: int = 4
    thousands: bool = False
    sign: bool = False
    scientific: bool = False
    percent: bool = False

    def __call__(self, value: object) -> str:
        if _is_missing(value):
            return MISSING
        if isinstance(value, Decimal):
            number: Decimal | float = value
        elif isinstance(value, int | np.integer) and not self.scientific and self.decimals == 0:
            number = Decimal(int(value))
        else:
            number = float(value)  # type: ignore[arg-type]
        if self.percent:
            number = 100 * number
        spec = ("+" if self.sign else "") + ("," if self.thousands else "")
        spec += f".{self.decimals}{'e' if self.scientific else 'f'}"
        return _no_negative_zero(format(number, spec)) + ("%" if self.percent else "")


_ZERO = re.compile(r"[+-]([0,.]*)(e[+-]\d+)?")


def _no_negative_zero(text: str) -> str:
    """``-0.0000`` / ``+0.0000`` → ``0.0000``: a value that rounds to zero has no sign."""
    return text[1:] if _ZERO.fullmatch(text) else text


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(math.isnan(value))
    if isinstance(value, Decimal):
        return value.is_nan()
    return False


def _text(value: object) -> str:
    return MISSING if _is_missing(value) else str(value)


FORMATS: dict[str, Callable[[object], str]] = {
    "text": _text,
    "int": NumberFormat(decimals=0),
    "score": NumberFormat(decimals=4),
    "signed": NumberFormat(decimals=4, sign=True),
    "ratio": NumberFormat(decimals=2),
    "tokens": NumberFormat(decimals=2, thousands=True),
    "sci": NumberFormat(decimals=2, scientific=True),
    "signed_sci": NumberFormat(decimals=2, scientific=True, sign=True),
    "signed_ratio": NumberFormat(decimals=2, sign=True),
    "count": NumberFormat(decimals=0, thousands=True),
    "pct": NumberFormat(decimals=2, percent=True),
    "signed_pct": NumberFormat(decimals=2, sign=True, percent=True),
    "pct3": NumberFormat(decimals=3, percent=True),
    "signed_pct3": NumberFormat(decimals=3, sign=True, percent=True),
}
"""One format per column kind: ``text``; ``int`` (counts, ranks, rounds); ``score`` (CORR, MMC, TC…:
4 decimals); ``signed`` (a score with ``+`` on positives); ``ratio`` (Sharpe, t-statistics: 2
decimals) and ``signed_ratio``; ``tokens`` (stakes and payouts: thousands separators, 2 decimals);
``sci`` (tiny quantities: ``1.23e-05``) and ``signed_sci``; ``count`` (integers with thousands
separators: ``1,440``); ``pct`` (a fraction as a percentage, 2 decimals: turnover, exposure,
volatility) and ``signed_pct`` (returns, drawdowns: ``+1.23%``); ``pct3`` and
``signed_pct3`` (3 decimals, for small costs and edges)."""


def format_value(value: object, fmt: str | Callable[[object], str] = "text") -> str:
    """One cell as text, with a format name of :data:`FORMATS` or a callable."""
    if isinstance(fmt, str):
        if fmt not in FORMATS:
            raise ConfigError(f"unknown column format {fmt!r}; known: {', '.join(FORMATS)}")
        return FORMATS[fmt](value)
    return fmt(value)
