"""``kardashev backfill``: every score of every model on every era of a history, resumable."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kardashev.cli.tables import output_console
from kardashev.contribution.backfill import BackfillOptions, backfill, parts_folder
from kardashev.execution import EXECUTORS, make_executor

__all__ = ["register"]


def backfill_command(
    data: Path = typer.Argument(
        ...,
        help="History folder in Numerai's layout (as `kardashev data synth` writes it): "
        "validation_predictions.parquet, train/validation/live.parquet, meta_model.parquet, "
        "validation_example_preds.parquet, operator.parquet, manifest.json.",
    ),
    out: Path = typer.Option(..., "--out", help="Tidy per-era scores (era, model, score, value), .parquet."),
    executor: str = typer.Option(
        "local", "--executor", help=f"Where TC draws and True Return models run: {' or '.join(EXECUTORS)}."
    ),
    address: str | None = typer.Option(
        None,
        "--address",
        help="Ray cluster to join ('auto' or HOST:6379); without it --executor ray starts a local one.",
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Ray workers (one CPU each); default every CPU of the cluster."
    ),
    bags: int = typer.Option(0, "--bags", min=0, help="TC stake-dropout draws per era (0: exact TC)."),
    dropout: float = typer.Option(
        0.5, "--dropout", min=0.0, max=0.99, help="Share of stakes dropped per draw."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the TC draws."),
    target: str = typer.Option("target", "--target", help="Target column of train.parquet."),
) -> None:
    """CORR, MMC, BMC, FNC, TC and True Return for a whole history, era by era.

    Resumable: each finished era is saved at once in OUT.parts/; run the same command again after a
    crash or Ctrl-C and it continues where it stopped.
    """
    console = output_console()
    options = BackfillOptions(bags=bags, dropout=dropout, seed=seed, target=target)
    columns = (
        TextColumn("[bold]backfill[/] {task.fields[era]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with (
        make_executor(executor, address=address, num_workers=workers) as pool,
        Progress(*columns, console=Console(stderr=True), transient=True) as progress,
    ):
        task = progress.add_task("eras", total=None, era="")

        def on_era(done: int, total: int, era: str | None) -> None:
            if era is None and done:
                progress.console.print(
                    f"resuming: {done} of {total} eras already done in {parts_folder(out)}"
                )
            progress.update(task, completed=done, total=total, era=era or "")

        result = backfill(data, out, options=options, executor=pool, on_era=on_era)
    console.print(
        f"{len(result.eras)} eras ({len(result.computed)} computed now, {len(result.resumed)} resumed), "
        f"{result.rows} rows → {result.out} [{pool!r}]"
    )


def register(app: typer.Typer) -> None:
    """Add ``kardashev backfill`` to the CLI."""
    app.command("backfill")(backfill_command)
