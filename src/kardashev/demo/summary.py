"""What ``kardashev demo`` prints at the end: three tables, the story, a glossary and the next commands.

Each table is a DataFrame plus column specs (:class:`Column`: header, number format, priority); it is
rendered to fit the console: columns are dropped, lowest priority first, until every cell fits whole
(a caption names what was left out). Every number keeps all its digits.

* the leaderboard — the tournament engine's resolved rounds (TC there is the engine's TC);
* the fund under each payout rule — weekly P&L after costs, non-overlapping;
* the validation — the in-memory static-stake fund's TC against leave-one-out re-runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kardashev.demo.numbers import count, percent, ratio, score, tokens
from kardashev.demo.story import RULE_NAMES

__all__ = [
    "Column",
    "fund_frame",
    "leaderboard_columns",
    "print_summary",
    "render_table",
    "validation_frame",
]


@dataclass(frozen=True)
class Column:
    """One console column: the frame's ``key``, its ``header``, a formatter, alignment and priority
    (higher is dropped later when the console is narrow)."""

    key: str
    header: str
    format: Callable[[object], str] = str
    left: bool = False
    priority: int = 1


_GAP = 2


def render_table(
    frame: pd.DataFrame, columns: tuple[Column, ...], *, title: str, width: int, caption: str | None = None
) -> Table:
    """``frame`` as a Rich table of at most ``width`` columns of text; no number is ever cut."""
    present = [column for column in columns if column.key in frame.columns]
    cells = {column.key: [column.format(value) for value in frame[column.key]] for column in present}

    def needed(column: Column) -> int:
        return max([len(column.header), *map(len, cells[column.key])])

    kept = list(present)
    while len(kept) > 1 and sum(needed(c) for c in kept) + _GAP * (len(kept) - 1) > width:
        kept.remove(min(kept[::-1], key=lambda c: c.priority))
    dropped = [column.header for column in present if column not in kept]
    notes = [caption] if caption else []
    if dropped:
        notes.append(f"not shown at this width: {', '.join(dropped)} (see the report)")
    table = Table(
        title=title,
        caption="\n".join(notes) or None,
        header_style="bold cyan",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        title_justify="left",
        caption_justify="left",
    )
    for column in kept:
        table.add_column(
            column.header, justify="left" if column.left else "right", no_wrap=True, min_width=needed(column)
        )
    for row in range(len(frame)):
        table.add_row(*(escape(cells[column.key][row]) for column in kept))
    return table


def leaderboard_columns() -> tuple[Column, ...]:
    """The console's leaderboard columns (keys of :func:`kardashev.demo.leaderboard.leaderboard_frame`)."""
    return (
        Column("rank", "rank", count, priority=9),
        Column("model", "model", left=True, priority=9),
        Column("tc_season", "TC", score, priority=8),
        Column("corr_season", "CORR", score, priority=7),
        Column("mmc_season", "MMC", score, priority=6),
        Column("true_return_season", "TrueRet", score, priority=4),
        Column("stake now", "stake", tokens, priority=5),
        Column("grade", "grade", lambda g: str(g).removeprefix("Type "), left=True, priority=3),
        Column("archetype", "archetype", left=True, priority=2),
    )


def fund_frame(books: dict, simulation: object) -> pd.DataFrame:
    """One row per payout rule: the fund's weekly book after costs and the stakes' planted value."""
    rows = []
    for rule, book in books.items():
        planted = simulation.planted_value(rule)  # type: ignore[attr-defined]
        rows.append(
            {
                "rule": RULE_NAMES.get(rule, rule),
                "total": book.total_return,
                "weekly": float(np.mean(book.net_pnl)) if book.net_pnl.size else float("nan"),
                "sharpe": book.annualized_sharpe,
                "drawdown": book.max_drawdown,
                "turnover": float(np.mean(book.turnover)) if book.turnover.size else float("nan"),
                "cost": float(np.sum(book.cost)),
                "planted": float(planted[-1]) if planted.size else float("nan"),
            }
        )
    return pd.DataFrame(rows)


_FUND_COLUMNS = (
    Column("rule", "payout rule", left=True, priority=9),
    Column("total", "return", percent, priority=8),
    Column("sharpe", "Sharpe/yr", ratio, priority=7),
    Column("drawdown", "max DD", percent, priority=6),
    Column("weekly", "mean/wk", percent, priority=5),
    Column("turnover", "turnover/wk", lambda v: f"{float(v):.2f}", priority=3),  # type: ignore[arg-type]
    Column("cost", "costs", percent, priority=2),
    Column("planted", "planted value", score, priority=4),
)


def validation_frame(validation: object) -> pd.DataFrame:
    """Spearman across models of each score's season sum with the marginal values and planted value."""
    names = {"tc": "TC", "mmc": "MMC", "corr": "CORR", "mpc": "MPC"}
    return pd.DataFrame(
        {
            "score": list(names.values()),
            "loo": [validation.spearman_loo[key] for key in names],  # type: ignore[attr-defined]
            "bump": [validation.spearman_bump[key] for key in names],  # type: ignore[attr-defined]
            "planted": [validation.spearman_true_value[key] for key in names],  # type: ignore[attr-defined]
        }
    )


_VALIDATION_COLUMNS = (
    Column("score", "score", left=True, priority=9),
    Column("loo", "vs leave-one-out", score, priority=8),
    Column("bump", "vs stake bump", score, priority=6),
    Column("planted", "vs planted value", score, priority=7),
)


def print_summary(result: object, *, console: Console, rows: int = 20) -> None:
    """Print the tables, the five sentences, the glossary, the next commands and the report's path."""
    width = console.width
    board: pd.DataFrame = result.leaderboard  # type: ignore[attr-defined]
    n_rounds = int(result.ledger["round"].nunique()) if len(result.ledger) else 0  # type: ignore[attr-defined]
    console.print(
        render_table(
            board.head(rows),
            leaderboard_columns(),
            width=width,
            title=f"Leaderboard: tournament engine, season means over {n_rounds} resolved rounds "
            f"(top {min(rows, len(board))} of {len(board)}; rank = by TC)",
            caption="TC, CORR, MMC: the engine's resolved scores · TrueRet: own portfolio after costs · "
            "stake: tokens now · grade: type passed on the validation fund",
        )
    )
    books = result.books  # type: ignore[attr-defined]
    simulation = result.simulation  # type: ignore[attr-defined]
    console.print(
        render_table(
            fund_frame(books, simulation),
            _FUND_COLUMNS,
            width=width,
            title="The fund under each payout rule: weekly P&L after costs, compounded "
            "(same market and crowd)",
            caption="planted value: of the stakes at the season's end",
        )
    )
    validation = simulation.validation
    if validation is not None:
        ranks = ", ".join(f"#{rank}" for rank in validation.unstaked_original_tc_rank) or "–"
        console.print(
            render_table(
                validation_frame(validation),
                _VALIDATION_COLUMNS,
                width=width,
                title="Validation fund (static stakes, in memory): Spearman across models of season sums",
            )
        )
        console.print(
            f"TC here is the validation fund's; the unstaked original ranks {ranks} of "
            f"{validation.n_models} by it."
        )
    story = result.story  # type: ignore[attr-defined]
    console.print("\n[bold]What this run showed[/]")
    for number, sentence in enumerate(story.sentences, start=1):
        console.print(f"{number}. {escape(sentence)}")
    console.print("\n[bold]Glossary[/]")
    for term, meaning in story.glossary:
        console.print(f"[bold]{escape(term)}[/]: {escape(meaning)}")
    console.print("\n[bold]Explore what it wrote[/]")
    for command, what in story.commands:
        console.print(f"  [green]{escape(command)}[/]", soft_wrap=True)
        console.print(f"      {escape(what)}")
    console.print(
        f"\nReport: [bold]{escape(str(result.report_path))}[/]  ·  "  # type: ignore[attr-defined]
        f"{escape(result.database_label)}  ·  "  # type: ignore[attr-defined]
        f"ledger {'balanced' if result.ledger_ok else 'NOT balanced'}  ·  "  # type: ignore[attr-defined]
        f"{result.runtime_seconds:.0f} s"  # type: ignore[attr-defined]
    )
