"""``kardashev demo``: a simulated season through the tournament engine, the leaderboard and a report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

__all__ = ["register"]


def demo(
    stocks: int = typer.Option(1000, "--stocks", min=50, help="Stocks in the synthetic market."),
    models: int = typer.Option(60, "--models", min=10, help="Models in the crowd."),
    rounds: int = typer.Option(24, "--rounds", min=6, help="Rounds (weekly eras) in the season."),
    seed: int = typer.Option(0, "--seed", help="Seed of the market and the crowd."),
    out: Path = typer.Option(
        Path("kardashev-demo"), "--out", help="Folder for the database, the data files and report.html."
    ),
    db: str | None = typer.Option(
        None, "--db", help="Database URL, e.g. postgresql+psycopg://... (default: a SQLite file in --out)."
    ),
    stake_rule: str = typer.Option(
        "tc", "--stake-rule", help="Score stakers follow in the engine season: tc, corr, mmc or none."
    ),
    validate: bool = typer.Option(
        True, "--validate/--no-validate", help="Leave-one-out validation of TC (the slowest part)."
    ),
) -> None:
    """Run a simulated season: market, crowd, rounds, payouts, grades, validation and an HTML report."""
    from kardashev.cli.tables import output_console
    from kardashev.demo import DemoConfig, print_summary, run_demo

    console = output_console()
    config = DemoConfig(
        n_stocks=stocks,
        n_models=models,
        n_rounds=rounds,
        seed=seed,
        out=out,
        database_url=db,
        stake_rule=stake_rule,
        validate=validate,
    )
    result = run_demo(config, now=dt.datetime.now(dt.timezone.utc), console=console)
    print_summary(result, console=console)


def register(app: typer.Typer) -> None:
    """Add ``kardashev demo`` to the CLI."""
    app.command("demo")(demo)
