"""``kardashev score``: Numerai-exact per-era scores and summaries of prediction files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kardashev.cli.tables import Column, output_console, render_table
from kardashev.data.csv_format import csv_format
from kardashev.data.era import Era
from kardashev.data.layout import file_layout, index_columns
from kardashev.errors import ConfigError, DataFormatError
from kardashev.scoring import diagnostics, score_era, summarize
from kardashev.scoring.coverage import Coverage, era_coverage
from kardashev.scoring.io import ScoringInputs, live_universe, open_scoring_inputs, read_table
from kardashev.scoring.signals import alpha as signals_alpha
from kardashev.tournament.validation import validate_submission

__all__ = ["register"]

# the summary columns shown when present
_TABLE_COLUMNS = (
    Column("corr_n_eras", "eras", fmt="int"),
    Column("corr_mean", "CORR", fmt="score"),
    Column("corr_sharpe", "Sharpe", fmt="ratio", legend="mean / std of per-era CORR"),
    Column("corr_t_statistic", "t(NW)", fmt="ratio", legend="Newey-West t-statistic of CORR"),
    Column("corr_max_drawdown", "maxDD", fmt="score", legend="max drawdown of cumulative CORR"),
    Column("mmc_mean", "MMC", fmt="score"),
    Column("bmc_mean", "BMC", fmt="score"),
    Column("fnc_mean", "FNC", fmt="score"),
    Column("cwmm_mean", "CWMM", fmt="score"),
    Column("feature_exposure_max_mean", "FeatX", fmt="score", legend="mean per-era max |feature corr|"),
    Column("alpha_mean", "Alpha", fmt="sci"),
)


def _write(frame: pd.DataFrame, path: Path) -> None:
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


def _eras_text(eras: tuple[str, ...]) -> str:
    shown = ", ".join(eras[:6])
    return shown + (f", … {eras[-1]}" if len(eras) > 6 else "")


def _notes(inputs: ScoringInputs, console: Console) -> None:
    if inputs.data_type is not None:
        console.print(f"rows with data_type {inputs.data_type!r} only")
    for target, eras in inputs.unresolved.items():
        if eras:
            console.print(
                f"skipped {len(eras)} unresolved era(s) of {target!r} (target all NaN): {_eras_text(eras)}"
            )
    if inputs.meta_model_column is not None:
        console.print(f"MMC against meta model column {inputs.meta_model_column!r}")
    for target, column in (inputs.benchmark_columns or {}).items():
        console.print(f"BMC of {target!r} against benchmark column {column!r}")


def _file_notes(paths: list[Path | None], console: Console) -> None:
    """How each input file is read when it is not a plain table: CSV dialect, ignored index columns."""
    for path in paths:
        if path is None or not path.is_file():
            continue
        if path.suffix.lower() == ".csv" and not csv_format(path).is_plain:
            console.print(f"{path.name}: read as {csv_format(path).describe()}")
        ignored = index_columns(file_layout(path).columns)
        if ignored:
            names = ", ".join(repr(c) for c in ignored)
            console.print(f"{path.name}: ignored {names} (a saved pandas index, not predictions)")


def _coverage_notes(coverage: Coverage | None, console: Console) -> None:
    """Rows and eras left out of the scores, and why (printed under the table)."""
    if coverage is None:
        return
    every = coverage.left_out_of_every_model()
    if every:
        console.print(every)
    for model in coverage.model_names:
        for line in (coverage.unscored_reason(model), coverage.left_out(model)):
            if line:
                console.print(f"{model}: {line}")


def _alpha(inputs: Era, neutralizers: np.ndarray, sample_weights: np.ndarray) -> np.ndarray:
    """Signals alpha of each model on the era's rows with a neutralizer row and a sample weight."""
    predictions, target = inputs.required("predictions"), inputs.required("target")
    rows = np.isfinite(neutralizers).all(axis=1) & np.isfinite(sample_weights) & np.isfinite(target)
    result = np.full(predictions.shape[1], np.nan)
    if rows.sum() < 2:
        return result
    for j in range(predictions.shape[1]):
        column = predictions[rows, j]
        if np.isfinite(column).sum() >= 2:
            result[j] = signals_alpha(column, neutralizers[rows], sample_weights[rows], target[rows])
    return result


def _is_live(data: Path, data_type: str | None) -> bool:
    """A live file (targets all NaN): ``--data-type live``, no ``data_type`` column or only live rows."""
    layout = file_layout(data)
    if data_type == "live" or not layout.has_data_type:
        return True
    return bool((read_table(data, columns=["data_type"])["data_type"].astype(str) == "live").all())


def _validate_live(predictions: Path, data: Path, data_type: str | None, console: Console) -> None:
    kind, universe = live_universe(data, data_type=data_type)
    validated = validate_submission(predictions, kind=kind, universe=universe, filename=predictions.name)
    console.print(
        f"{data.name} has no resolved target: validated {predictions.name} as a live {kind} submission "
        f"({validated.n_submitted} of {len(universe)} {'ids' if kind == 'classic' else 'tickers'})"
    )


def score(
    predictions: Path = typer.Argument(
        ...,
        help="Predictions: id (or numerai_ticker) (+ era/date) and 'prediction' or one column per model; "
        "parquet or CSV (, ; tab | separated, UTF-8 or UTF-16); a saved pandas index column is ignored.",
    ),
    data: Path = typer.Option(
        ..., "--data", help="Numerai data: train/validation/live.parquet (Classic v5 or Signals v2.1)."
    ),
    meta_model: Path | None = typer.Option(
        None, "--meta-model", help="Meta model predictions (for MMC and CWMM)."
    ),
    benchmark: Path | None = typer.Option(
        None, "--benchmark", help="Benchmark predictions, e.g. validation_benchmark_models.parquet (BMC)."
    ),
    benchmark_column: str | None = typer.Option(
        None,
        "--benchmark-column",
        help="Column of the benchmark file (default: the one made for the target).",
    ),
    features: str | None = typer.Option(
        None,
        "--features",
        help="Feature set from features.json next to the data, or 'all' (for FNC, exposure).",
    ),
    target: list[str] | None = typer.Option(
        None, "--target", help="Target column (default 'target'); repeat to score several in one pass."
    ),
    data_type: str | None = typer.Option(
        None, "--data-type", help="Score only rows with this data_type (train, validation)."
    ),
    neutralizer: Path | None = typer.Option(
        None, "--neutralizer", help="Signals: validation_neutralizer.parquet (with --sample-weights: alpha)."
    ),
    sample_weights: Path | None = typer.Option(
        None, "--sample-weights", help="Signals: validation_sample_weights.parquet."
    ),
    raw_returns: bool = typer.Option(
        False, "--raw-returns", help="The target is raw returns: no 1.5 power on it in CORR/FNC."
    ),
    horizon: int = typer.Option(
        4, "--horizon", min=1, help="Target horizon in eras (Newey-West lag = horizon - 1)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Write the per-era table (era × target × model × metric), .csv or .parquet."
    ),
    diagnostics_out: Path | None = typer.Option(
        None, "--diagnostics", help="Write numerapi-style diagnostics per model as JSON."
    ),
) -> None:
    """Score predictions era by era (CORR, MMC, BMC, FNC, CWMM, feature exposure, Signals alpha).

    A live file (no resolved target) validates the predictions as a live submission instead.
    """
    console = output_console()
    if out is not None and out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise DataFormatError(f"--out must end in .csv or .parquet, got {out.name}", code="bad_file")
    if (neutralizer is None) != (sample_weights is None):
        raise ConfigError("--neutralizer and --sample-weights go together (Signals alpha needs both)")
    if not file_layout(data).targets:
        _validate_live(predictions, data, data_type, console)
        return
    try:
        inputs = open_scoring_inputs(
            predictions,
            data,
            meta_model_path=meta_model,
            benchmark_path=benchmark,
            benchmark_column=benchmark_column,
            feature_set=features,
            target=target or None,
            data_type=data_type,
            neutralizer_path=neutralizer,
            sample_weights_path=sample_weights,
        )
    except DataFormatError as exc:
        if exc.code != "no_targets" or not _is_live(data, data_type):
            raise
        _validate_live(predictions, data, data_type, console)
        return
    if not inputs.eras:
        raise DataFormatError(
            f"{predictions.name}: no era of the predictions is in {data.name}", code="wrong_era"
        )
    _file_notes([predictions, meta_model, benchmark], console)
    _notes(inputs, console)
    columns = (TextColumn("[bold]scoring eras"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    tables = []
    total = sum(len(eras) for eras in inputs.target_eras.values())
    predicted_keys = inputs.predictions.set_index(["era", "id"]).index
    coverage: Coverage | None = None
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("eras", total=total)
        for era in inputs.iter_scoring_eras():
            if era.target == inputs.target_name:
                ids = era.inputs.ids
                keys = pd.MultiIndex.from_arrays([np.full(len(ids), era.inputs.era, dtype=object), ids])
                counted = era_coverage(era.inputs, predicted=keys.isin(predicted_keys))
                coverage = counted if coverage is None else coverage + counted
            scores = score_era(
                era.inputs.required("predictions"),
                era.inputs.required("target"),
                meta_model=era.inputs.meta_model,
                benchmark=era.inputs.benchmark,
                features=era.inputs.features,
                model_names=inputs.model_names,
                era=era.inputs.era,
                target_pow15=not raw_returns,
            )
            table = scores.to_frame()
            table.insert(1, "target", era.target)
            if era.neutralizers is not None and era.sample_weights is not None:
                table["alpha"] = _alpha(era.inputs, era.neutralizers, era.sample_weights)
            tables.append(table)
            progress.advance(task)
    per_era = pd.concat(tables, ignore_index=True)
    several = len(inputs.target_names) > 1
    summaries = []
    for name in inputs.target_names:
        rows = per_era[per_era["target"] == name].drop(columns="target")
        summaries.append(summarize(rows, target_horizon_eras=horizon).assign(target=name))
    summary = pd.concat(summaries)
    shown = [column for column in _TABLE_COLUMNS if column.key in summary.columns]
    targets_text = ", ".join(repr(t) for t in inputs.target_names)
    render_table(
        summary.rename_axis("model").reset_index(),
        [*((Column("target"),) if several else ()), Column("model"), *shown],
        labels=2 if several else 1,
        console=console,
        title=f"{predictions.name} on {data.name} (target {targets_text}, means over eras)",
    )
    _coverage_notes(coverage, console)
    if out is not None:
        _write(per_era, out)
        console.print(f"per-era scores: {len(per_era)} rows → {out}")
    if diagnostics_out is not None:
        reports = {
            name: diagnostics(
                per_era[per_era["target"] == name].drop(columns="target"), target_horizon_eras=horizon
            )
            for name in inputs.target_names
        }
        report = reports if several else reports[inputs.target_name]
        diagnostics_out.parent.mkdir(parents=True, exist_ok=True)
        diagnostics_out.write_text(json.dumps(report, indent=1, allow_nan=True))
        console.print(f"diagnostics → {diagnostics_out}")


def register(app: typer.Typer) -> None:
    """Add ``kardashev score`` to the CLI."""
    app.command("score")(score)
