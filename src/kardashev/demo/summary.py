"""What ``kardashev demo`` prints at the end: three tables, the story, a glossary and the next commands.

Each table is a DataFrame plus column specs, printed by the CLI's width-aware renderer
(:func:`kardashev.cli.tables.render_table`): at any width every number is printed whole (short headers
with a legend, columns split into panels, or one block per record when narrow). Numbers use the demo's
formats, by name (:data:`kardashev.cli.number_format.FORMATS`).

* the leaderboard — the tournament engine's resolved rounds (TC there is the engine's TC);
* the fund under each payout rule — weekly P&L after costs, non-overlapping;
* the validation — the in-memory static-stake fund's TC against leave-one-out re-runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.console import Console
from rich.markup import escape

from kardashev.cli.tables import Column, render_table
from kardashev.demo.story import RULE_NAMES

__all__ = ["fund_columns", "fund_frame", "leaderboard_columns", "print_summary", "validation_frame"]


def _grade(value: object) -> str:
    return str(value).removeprefix("Type ")


def leaderboard_columns() -> tuple[Column, ...]:
    """The console's leaderboard columns (keys of :func:`kardashev.demo.leaderboard.leaderboard_frame`)."""
    return (
        Column("model", "model"),
        Column("rank", "rank", fmt="count", legend="order of the engine's season TC"),
        Column("tc_season", "TC", fmt="signed", legend="engine's resolved TC, season mean"),
        Column("corr_season", "CORR", fmt="signed"),
        Column("mmc_season", "MMC", fmt="signed"),
        Column("true_return_season", "TrueRet", short="TR", fmt="signed", legend="True Return after costs"),
        Column("stake now", "stake (tokens)", short="stake", fmt="tokens"),
        Column("grade", "grade", fmt=_grade, legend="type passed on the validation fund", justify="left"),
        Column("archetype", "archetype", short="kind", justify="left"),
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


def fund_columns() -> tuple[Column, ...]:
    """The console's columns of :func:`fund_frame`."""
    return (
        Column("rule", "payout rule"),
        Column("total", "return", fmt="signed_pct", legend="compounded over the season, after costs"),
        Column(
            "sharpe", "Sharpe/yr", short="Sh", fmt="signed_ratio", legend="annualized Sharpe of weekly P&L"
        ),
        Column("drawdown", "max drawdown", short="DD", fmt="signed_pct"),
        Column("weekly", "mean/week", short="wk", fmt="signed_pct", legend="mean weekly return"),
        Column("turnover", "turnover/week", short="TO", fmt="pct"),
        Column("cost", "costs", fmt="pct3", legend="trading costs over the season"),
        Column("planted", "planted value", short="PV", fmt="signed", legend="of the stakes at the end"),
    )


def validation_frame(validation: object) -> pd.DataFrame:
    """Spearman across models of each score's season sum with the planted expected value (when the
    validation measured it), the marginal values and the crowd's planted value."""
    names = {"tc": "TC", "mmc": "MMC", "corr": "CORR", "mpc": "MPC"}
    expected = getattr(validation, "planted", {}) or {}
    frame = pd.DataFrame(
        {
            "score": list(names.values()),
            "expected": [expected[key].spearman if key in expected else np.nan for key in names],
            "loo": [validation.spearman_loo[key] for key in names],  # type: ignore[attr-defined]
            "bump": [validation.spearman_bump[key] for key in names],  # type: ignore[attr-defined]
            "planted": [validation.spearman_true_value[key] for key in names],  # type: ignore[attr-defined]
        }
    )
    return frame if expected else frame.drop(columns=["expected"])


def validation_columns() -> tuple[Column, ...]:
    """The console's columns of :func:`validation_frame`."""
    return (
        Column("score", "score"),
        Column("expected", "vs planted expected value", short="EV", fmt="signed"),
        Column("loo", "vs leave-one-out", short="LOO", fmt="signed"),
        Column("bump", "vs stake bump", short="bump", fmt="signed"),
        Column("planted", "vs crowd's planted value", short="PV", fmt="signed"),
    )


def print_summary(result: object, *, console: Console, rows: int = 20) -> None:
    """Print the tables, the five sentences, the glossary, the next commands and the report's path."""
    board: pd.DataFrame = result.leaderboard  # type: ignore[attr-defined]
    ledger: pd.DataFrame = result.ledger  # type: ignore[attr-defined]
    n_rounds = int(ledger["round"].nunique()) if len(ledger) else 0
    render_table(
        board.head(rows),
        leaderboard_columns(),
        console=console,
        title=f"Leaderboard: tournament engine, season means over {n_rounds} resolved rounds "
        f"(top {min(rows, len(board))} of {len(board)}, ranked by the engine's TC)",
        caption=f"… {len(board) - rows} more models in the report" if len(board) > rows else None,
    )
    books = result.books  # type: ignore[attr-defined]
    simulation = result.simulation  # type: ignore[attr-defined]
    console.print()
    render_table(
        fund_frame(books, simulation),
        fund_columns(),
        console=console,
        title="The fund under each payout rule: weekly P&L after costs, non-overlapping weeks compounded "
        "(same market and crowd)",
    )
    validation = simulation.validation
    if validation is not None:
        ranks = ", ".join(f"#{rank}" for rank in validation.unstaked_original_tc_rank) or "–"
        console.print()
        frame = validation_frame(validation)
        render_table(
            frame,
            [column for column in validation_columns() if column.key in frame.columns],
            console=console,
            title="Validation fund (static stakes, in memory): Spearman across models of season sums",
            caption=f"TC here is the validation fund's; the unstaked original ranks {ranks} of "
            f"{validation.n_models} by it.",
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
