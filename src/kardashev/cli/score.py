"""``kardashev score``: Numerai-exact per-era scores and summaries of prediction files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kardashev.cli.tables import compact_table, output_console
from kardashev.errors import DataFormatError
from kardashev.scoring import diagnostics, score_era, summarize
from kardashev.scoring.io import open_scoring_inputs

__all__ = ["register"]

# (summary column, table header) shown when present
_TABLE_COLUMNS = (
    ("corr_n_eras", "eras"),
    ("corr_mean", "CORR"),
    ("corr_sharpe", "Sharpe"),
    ("corr_t_statistic", "t(NW)"),
    ("corr_max_drawdown", "maxDD"),
    ("mmc_mean", "MMC"),
    ("bmc_mean", "BMC"),
    ("fnc_mean", "FNC"),
    ("cwmm_mean", "CWMM"),
    ("feature_exposure_max_mean", "FeatX"),
)


def _format(value: float, header: str) -> str:
    if header == "eras":
        return f"{int(value)}"
    if value is None or math.isnan(value):
        return "—"
    return f"{value:.2f}" if header in ("Sharpe", "t(NW)") else f"{value:.4f}"


def _write(frame: pd.DataFrame, path: Path) -> None:
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


def score(
    predictions: Path = typer.Argument(
        ..., help="Predictions: id (+ era) and 'prediction' or one column per model."
    ),
    data: Path = typer.Option(..., "--data", help="Data with id, era, target* (and feature_*) columns."),
    meta_model: Path | None = typer.Option(
        None, "--meta-model", help="Meta model predictions (for MMC and CWMM)."
    ),
    benchmark: Path | None = typer.Option(None, "--benchmark", help="Benchmark model predictions (for BMC)."),
    features: str | None = typer.Option(
        None,
        "--features",
        help="Feature set from features.json next to the data, or 'all' (for FNC, exposure).",
    ),
    target: str | None = typer.Option(None, "--target", help="Target column (default 'target')."),
    raw_returns: bool = typer.Option(
        False, "--raw-returns", help="The target is raw returns: no 1.5 power on it in CORR/FNC."
    ),
    horizon: int = typer.Option(
        4, "--horizon", min=1, help="Target horizon in eras (Newey-West lag = horizon - 1)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Write the per-era table (era × model × metric), .csv or .parquet."
    ),
    diagnostics_out: Path | None = typer.Option(
        None, "--diagnostics", help="Write numerapi-style diagnostics per model as JSON."
    ),
) -> None:
    """Score predictions era by era (CORR, MMC, BMC, FNC, CWMM, feature exposure) and summarize them."""
    console = output_console()
    if out is not None and out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise DataFormatError(f"--out must end in .csv or .parquet, got {out.name}", code="bad_file")
    inputs = open_scoring_inputs(
        predictions,
        data,
        meta_model_path=meta_model,
        benchmark_path=benchmark,
        feature_set=features,
        target=target,
    )
    if not inputs.eras:
        raise DataFormatError(
            f"{predictions.name}: no era of the predictions is in {data.name}", code="wrong_era"
        )
    columns = (TextColumn("[bold]scoring eras"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    tables = []
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("eras", total=len(inputs.eras))
        for era in inputs.iter_eras():
            scores = score_era(
                era.predictions,
                era.target,
                meta_model=era.meta_model,
                benchmark=era.benchmark,
                features=era.features,
                model_names=inputs.model_names,
                era=era.era,
                target_pow15=not raw_returns,
            )
            tables.append(scores.to_frame())
            progress.advance(task)
    per_era = pd.concat(tables, ignore_index=True)
    summary = summarize(per_era, target_horizon_eras=horizon)
    shown = [(column, header) for column, header in _TABLE_COLUMNS if column in summary.columns]
    table = compact_table(
        "model",
        *(header for _, header in shown),
        title=f"{predictions.name} on {data.name} (target {inputs.target_name!r}, means over eras)",
        caption="t(NW): Newey-West t-statistic of CORR; maxDD: max drawdown of cumulative CORR; "
        "FeatX: mean per-era max |feature corr|",
    )
    for model, row in summary.iterrows():
        table.add_row(str(model), *(_format(row[column], header) for column, header in shown))
    console.print(table)
    if out is not None:
        _write(per_era, out)
        console.print(f"per-era scores: {len(per_era)} rows → {out}")
    if diagnostics_out is not None:
        report = diagnostics(per_era, target_horizon_eras=horizon)
        diagnostics_out.parent.mkdir(parents=True, exist_ok=True)
        diagnostics_out.write_text(json.dumps(report, indent=1, allow_nan=True))
        console.print(f"diagnostics → {diagnostics_out}")


def register(app: typer.Typer) -> None:
    """Add ``kardashev score`` to the CLI."""
    app.command("score")(score)
