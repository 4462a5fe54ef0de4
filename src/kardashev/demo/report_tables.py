"""The report's tables: HTML rendering in the demo's one number format, and the frames it shows.

Every table sits in a horizontally scrolling box, so a wide table scrolls inside the page instead of
widening (or being clipped by) it. Numbers are formatted by the CLI's formats
(:data:`kardashev.cli.number_format.FORMATS`) according to the column: returns in percent, stakes in
tokens, Sharpe and t in two decimals, the rest as signed scores.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from kardashev.cli.number_format import MISSING, format_value
from kardashev.demo.book import FundBook
from kardashev.demo.story import RULE_NAMES

__all__ = [
    "book_frame",
    "config_frame",
    "html_table",
    "leaderboard_labels",
    "ledger_summary",
    "p_value",
]

Formatter = str | Callable[[object], str]
"""A name of :data:`kardashev.cli.number_format.FORMATS` or a callable ``value -> str``."""


def p_value(value: object) -> str:
    """A p-value: 4 decimals, ``<0.0001`` below."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return MISSING
    if not np.isfinite(number):
        return MISSING
    return "<0.0001" if number < 1e-4 else f"{number:.4f}"


def _default(column: str, value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return format_value(value, "count")
    if isinstance(value, float | np.floating):
        name = column.lower()
        if name.startswith("stake") or "tokens" in name:  # not "return on stake", "stake bump"
            return format_value(value, "tokens")
        if " t " in f" {name} " or "sharpe" in name:
            return format_value(value, "signed_ratio")
        if name.startswith("p ") or " p " in f" {name} ":
            return p_value(value)
        return format_value(value, "signed")
    return str(value)


def _format(fmt: Formatter | None, column: str, value: object) -> str:
    return _default(column, value) if fmt is None else format_value(value, fmt)


def _cell(text: str, value: object) -> str:
    """A ``<td>``; text (not a number) is left-aligned."""
    numeric = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    return f"<td>{html.escape(text)}</td>" if numeric else f"<td class='text'>{html.escape(text)}</td>"


def html_table(
    frame: pd.DataFrame,
    *,
    formats: Mapping[str, Formatter] | None = None,
    highlight: str | None = None,
    tall: bool = False,
    index: bool = False,
) -> str:
    """``frame`` as an HTML table in a scrolling box (``tall``: also at most ~520 px high).

    ``formats`` maps a column to its formatter (default: by the column's name and the value's type);
    rows where the boolean column ``highlight`` is true are marked, and that column is not shown.
    """
    formats = dict(formats or {})
    if index:
        frame = frame.reset_index()
    shown = [column for column in frame.columns if column != highlight]
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in shown)
    rows = []
    for _, row in frame.iterrows():
        marked = highlight is not None and bool(row.get(highlight, False))
        cells = "".join(_cell(_format(formats.get(str(c)), str(c), row[c]), row[c]) for c in shown)
        rows.append(f'<tr class="{"marked" if marked else ""}">{cells}</tr>')
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return f"<div class='{'scroll tall' if tall else 'scroll'}'>{table}</div>"


def book_frame(books: Mapping[str, FundBook], planted: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """One row per payout rule: the fund's weekly book over the season (after costs)."""
    rows = []
    for rule, book in books.items():
        values = planted.get(rule, np.empty(0))
        rows.append(
            {
                "payout rule": RULE_NAMES.get(rule, rule),
                "total return": book.total_return,
                "mean weekly return": float(np.mean(book.net_pnl)),
                "weekly volatility": float(np.std(book.net_pnl, ddof=1)) if book.net_pnl.size > 1 else np.nan,
                "Sharpe (annualized)": book.annualized_sharpe,
                "max drawdown": book.max_drawdown,
                "mean turnover": float(np.mean(book.turnover)),
                "total costs": float(np.sum(book.cost)),
                "mean gross exposure": float(np.mean(book.gross_exposure)),
                "mean net exposure": float(np.mean(book.net_exposure)),
                "mean names long": float(np.mean(book.n_long)),
                "mean names short": float(np.mean(book.n_short)),
                "planted value: start": float(values[0]) if values.size else np.nan,
                "planted value: end": float(values[-1]) if values.size else np.nan,
            }
        )
    return pd.DataFrame(rows)


BOOK_FORMATS: dict[str, Formatter] = {
    "total return": "signed_pct",
    "mean weekly return": "signed_pct",
    "weekly volatility": "pct",
    "Sharpe (annualized)": "signed_ratio",
    "max drawdown": "signed_pct",
    "mean turnover": "pct",
    "total costs": "pct3",
    "mean gross exposure": "pct",
    "mean net exposure": "signed_pct",
    "mean names long": lambda v: f"{float(v):,.1f}",  # type: ignore[arg-type]
    "mean names short": lambda v: f"{float(v):,.1f}",  # type: ignore[arg-type]
}


def ledger_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per model from the engine's ledger: stake in the first and last resolved round, paid, burned, net."""
    if frame.empty:
        return pd.DataFrame(columns=["model", "archetype"])
    ordered = frame.sort_values("round")
    grouped = ordered.groupby("model", sort=False)
    out = pd.DataFrame(
        {
            "archetype": grouped["archetype"].first(),
            "stake, first round": grouped["stake"].first(),
            "stake, last round": grouped["stake"].last(),
            "tokens paid": grouped["paid"].sum(),
            "tokens burned": grouped["burned"].sum(),
        }
    )
    out["net tokens"] = out["tokens paid"] - out["tokens burned"]
    out = out.sort_values("net tokens", ascending=False)
    out.index.name = "model"
    return out.reset_index()


_SCORE_NAMES = {"corr": "CORR", "mmc": "MMC", "tc": "TC", "fnc": "FNC", "true_return": "TrueRet"}


def leaderboard_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """The engine's leaderboard with readable headers: ``tc_season`` → ``TC season``, ``tc_4r`` →
    ``TC last 4 rounds``, ``tc`` → ``TC latest``; the two stakes and the return on stake named."""
    names: dict[str, str] = {
        "rank": "rank (by TC season)",
        "stake": "stake at risk, latest round",
        "stake now": "stake now (free + at risk)",
        "return": "return on stake latest",
    }
    for column in frame.columns:
        base, _, window = str(column).rpartition("_")
        if column in _SCORE_NAMES:
            names[column] = f"{_SCORE_NAMES[column]} latest"
        elif base in _SCORE_NAMES or base == "return":
            label = _SCORE_NAMES.get(base, "return on stake")
            names[column] = f"{label} season" if window == "season" else f"{label} last {window[:-1]} rounds"
    return frame.rename(columns=names)


def config_frame(config: object) -> pd.DataFrame:
    """A dataclass's fields as ``option``/``value`` rows."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        fields = dataclasses.asdict(config)
    else:
        fields = dict(vars(config))
    return pd.DataFrame({"option": list(fields), "value": [str(value) for value in fields.values()]})
