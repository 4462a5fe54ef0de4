"""What ``kardashev demo`` prints at the end: the leaderboard, the fund per payout rule, the validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table

__all__ = ["leaderboard_table", "print_summary"]

_CONSOLE_COLUMNS = {
    "rank": "#",
    "model": "model",
    "stake now": "stake",
    "corr_season": "CORR",
    "mmc_season": "MMC",
    "tc_season": "TC",
    "true_return_season": "TrueRet",
    "grade": "grade",
}
_RULE_LABELS = {"static": "static stakes", "tc": "paid on TC", "corr": "paid on CORR", "mmc": "paid on MMC"}


def _cell(value: object) -> str:
    if isinstance(value, float | np.floating):
        number = float(value)
        if not np.isfinite(number):
            return "–"
        if abs(number) >= 10:
            return f"{number:,.0f}"
        return f"{number:+.4f}"
    return str(value).removeprefix("Type ")


def leaderboard_table(frame: pd.DataFrame, *, rows: int = 20, title: str = "Leaderboard") -> Table:
    """The top ``rows`` of a leaderboard frame as a Rich table."""
    table = Table(
        title=title,
        header_style="bold cyan",
        row_styles=["", "dim"],
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for column in frame.columns:
        left = column in ("model", "archetype", "grade")
        table.add_column(
            str(column), justify="left" if left else "right", no_wrap=column == "model", overflow="fold"
        )
    for _, row in frame.head(rows).iterrows():
        style = "bold red" if row.get("archetype") == "unstaked_original" else None
        table.add_row(*(_cell(value) for value in row.to_numpy()), style=style)
    return table


def print_summary(result: object, *, console: Console, rows: int = 20) -> None:
    """Print the leaderboard, the fund under each payout rule, the validation figures and the report path."""
    leaderboard: pd.DataFrame = result.leaderboard  # type: ignore[attr-defined]
    shown = leaderboard[[column for column in _CONSOLE_COLUMNS if column in leaderboard.columns]]
    shown = shown.rename(columns=_CONSOLE_COLUMNS)
    title = f"Leaderboard (top {min(rows, len(shown))} of {len(shown)} models, ranked by TC over the season)"
    console.print(leaderboard_table(shown, rows=rows, title=title))
    if len(leaderboard) > rows:
        console.print(f"[dim]… {len(leaderboard) - rows} more models in the report.[/]")

    fund = Table(
        title="The fund under each payout rule (same market, same crowd)",
        header_style="bold cyan",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    columns = (
        "payout rule",
        "mean return",
        "mean, 2nd half",
        "Sharpe",
        "Sharpe, 1st half",
        "Sharpe, 2nd half",
        "planted value",
    )
    for column in columns:
        fund.add_column(
            column,
            justify="left" if column == "payout rule" else "right",
            no_wrap=column == "planted value",
            overflow="fold",
        )
    for rule, track in result.simulation.tracks.items():  # type: ignore[attr-defined]
        first, second = track.half_sharpes()
        planted = result.simulation.planted_value(rule)  # type: ignore[attr-defined]
        fund.add_row(
            _RULE_LABELS.get(rule, rule),
            f"{np.mean(track.returns):.4f}",
            f"{track.half_means()[1]:.4f}",
            f"{track.sharpe:+.2f}",
            f"{first:+.2f}",
            f"{second:+.2f}",
            f"{planted[0]:+.3f}→{planted[-1]:+.3f}" if planted.size else "–",
        )
    console.print(fund)

    for line in result.fund_grade:  # type: ignore[attr-defined]
        console.print(f"[bold]Type IV[/] {line}")

    validation = result.simulation.validation  # type: ignore[attr-defined]
    if validation is not None:
        console.print("[bold]Validation against the planted truth[/] (Spearman across models, season sums):")
        for name, label in (("tc", "TC"), ("mmc", "MMC"), ("corr", "CORR"), ("mpc", "MPC")):
            console.print(
                f"  {label:>4}: vs leave-one-out {validation.spearman_loo[name]:+.3f}   "
                f"vs stake bump {validation.spearman_bump[name]:+.3f}   "
                f"vs planted value {validation.spearman_true_value[name]:+.3f}"
            )
        ranks = ", ".join(map(str, validation.unstaked_original_tc_rank)) or "–"
        verdict = "top decile" if validation.unstaked_original_top_decile else "NOT top decile"
        console.print(f"  unstaked original TC rank: {ranks} of {validation.n_models} ({verdict})")
        beats = "higher" if validation.tc_beats_others else "NOT higher"
        console.print(
            f"  Spearman(TC, LOO) = {validation.spearman_loo['tc']:.3f} "
            f"(target ≥ 0.8; {beats} than CORR, MMC, MPC)"
        )
    console.print(
        f"Report: [bold]{result.report_path}[/]  ·  {result.database_label}  ·  "  # type: ignore[attr-defined]
        f"ledger {'balanced' if result.ledger_ok else 'NOT balanced'}  ·  "  # type: ignore[attr-defined]
        f"{result.runtime_seconds:.0f} s"  # type: ignore[attr-defined]
    )
