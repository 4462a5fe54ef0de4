"""``kardashev data …``: a synthetic dataset in Numerai's own file layouts, or one round's operator files."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from kardashev.data.synthetic import (
    CrowdConfig,
    MarketConfig,
    generate_crowd,
    generate_market,
    write_dataset,
    write_round_files,
)
from kardashev.errors import InvalidInputError

__all__ = ["register"]

data_app = typer.Typer(
    help="Data: synthetic markets and crowds in Numerai's file formats.", no_args_is_help=True
)


@data_app.command("synth")
def synth(
    out: Path = typer.Option(..., "--out", help="Folder to write the dataset to (created if missing)."),
    stocks: int = typer.Option(500, "--stocks", min=20, help="Stocks per era."),
    eras: int = typer.Option(52, "--eras", min=1, help="Number of weekly eras."),
    models: int = typer.Option(50, "--models", min=1, help="Models in the crowd."),
    seed: int = typer.Option(0, "--seed", help="Random seed (the same seed gives the same dataset)."),
    features: int = typer.Option(40, "--features", min=15, help="Number of features."),
    horizon: int = typer.Option(4, "--horizon", min=1, max=52, help="Target horizon in eras."),
) -> None:
    """Generate a synthetic market and crowd and write them as a Numerai-style dataset."""
    console = Console()
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"{out} exists and is not a folder")
    market = generate_market(
        MarketConfig(n_stocks=stocks, n_eras=eras, seed=seed, n_features=features, horizon=horizon)
    )
    crowd = generate_crowd(market, CrowdConfig(n_models=models, seed=seed))
    columns = (
        TextColumn("[bold]writing eras"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("eras", total=eras)
        files = write_dataset(
            market, crowd, out, on_era=lambda done, total: progress.update(task, completed=done)
        )
    console.print(
        f"wrote {files.n_rows:,} rows ({eras} eras × {stocks} stocks, {len(market.feature_names)} features, "
        f"{len(market.target_names)} targets, {crowd.n_models} models) to [bold]{files.directory}[/]"
    )
    for path in sorted(p for p in files.directory.rglob("*") if p.is_file()):
        name = str(path.relative_to(files.directory))
        console.print(f"  {name:<42} {path.stat().st_size / 1e6:8.2f} MB")


@data_app.command("synthetic-round")
def synthetic_round(
    out: Path = typer.Option(..., "--out", help="Folder to write the round's files to (created if missing)."),
    stocks: int = typer.Option(300, "--stocks", min=20, help="Stocks in the round's universe."),
    models: int = typer.Option(10, "--models", min=1, help="Models whose example predictions are written."),
    horizon: int = typer.Option(4, "--horizon", min=1, max=52, help="Scoring days (one per weekly era)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (the same seed gives the same files)."),
    validation_eras: int = typer.Option(
        4, "--validation-eras", min=0, help="Eras before the round written as validation data."
    ),
) -> None:
    """One round's files from the synthetic market: the universe (ids.csv), each scoring day's data
    (day1.parquet … dayH.parquet), example predictions (predictions/MODEL.csv) and the eras before
    the round as validation data (validation.parquet)."""
    console = Console()
    market = generate_market(
        MarketConfig(n_stocks=stocks, n_eras=validation_eras + 1, seed=seed, horizon=horizon)
    )
    crowd = generate_crowd(market, CrowdConfig(n_models=models, seed=seed))
    with console.status("writing the round's files…"):
        files = write_round_files(market, crowd, out)
    days = f"{files.days[0].name} … {files.days[-1].name}" if len(files.days) > 1 else files.days[0].name
    rows = [
        (files.universe.name, "the universe: round open --universe"),
        (days, "each scoring day's data: round score|resolve --data"),
        ("predictions/*.csv", f"{len(files.predictions)} models' predictions: submit"),
    ]
    if files.validation is not None:
        rows.append(
            (files.validation.name, f"{validation_eras} eras before the round: validation-data upload")
        )
    console.print(f"wrote one round of {stocks} stocks to [bold]{files.directory}[/]:")
    width = max(len(name) for name, _ in rows)
    for name, what in rows:
        console.print(f"  {name:<{width}}  {what}")
    console.print("  models: " + ", ".join(files.model_names))


def register(app: typer.Typer) -> None:
    """Add the ``data`` verb group to the main CLI."""
    app.add_typer(data_app, name="data")
