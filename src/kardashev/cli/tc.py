"""``kardashev tc``: estimate a model's True Contribution at home; ``kardashev fund-config``: get FUND.toml.

``kardashev tc PREDICTIONS --meta-model RELEASED --config FUND.toml --data DATA --risk RISK`` reads the
predictions, the data (eras, ids, target) and the released meta model with the readers of
``kardashev score``, the operator's risk file (``id``, ``era``, exposures, returns …, named in
FUND.toml), and prints each era's estimated TC (:func:`kardashev.contribution.local.estimate_era_tc`).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kardashev.cli.tables import Column, NumberFormat, output_console, render_table
from kardashev.contribution.fund_config import (
    FundConfig,
    fund_config_toml,
    load_fund_config,
    parse_fund_config,
)
from kardashev.contribution.local import estimate_era_tc
from kardashev.data.era import Era, EraRisk
from kardashev.data.keys import check_numeric, keyed, keys_layout, value_columns
from kardashev.data.layout import read_table
from kardashev.errors import ConfigError, DataFormatError, InvalidInputError, NotFoundError
from kardashev.scoring.io import ScoringInputs, open_scoring_inputs

__all__ = ["register"]

_NOT_EXPOSURES = frozenset({"data_type", "specific_variance", "adv", "return", "residual_return"})
_MAX_MODEL_COLUMNS = 8  # wider per-era tables become a per-model summary (write --out for the rest)


def _risk_frame(
    path: Path, inputs: ScoringInputs, fund: FundConfig
) -> tuple[dict[str, pd.DataFrame], tuple[str, ...]]:
    """The risk file split by era (each part indexed by id, grouped once), and its exposure columns."""
    layout = keys_layout(path, inputs.layout)
    if layout.era_column is None:
        raise DataFormatError(f"{path.name}: missing column(s) ['era']", code="missing_column")
    values = value_columns(layout.columns)
    risk = fund.risk
    named = [c for c in risk.special() if c != "target" or risk.returns != "target"]
    missing = [c for c in named if c not in values]
    if missing:
        raise DataFormatError(
            f"{path.name}: missing column(s) {missing} named in FUND.toml", code="missing_column"
        )
    exposures = risk.exposures
    if exposures is None:
        exposures = tuple(c for c in values if c not in named and c not in _NOT_EXPOSURES)
    absent = [c for c in exposures if c not in values]
    if absent:
        raise DataFormatError(f"{path.name}: missing exposure column(s) {absent[:5]}", code="missing_column")
    if risk.factor_covariance is not None and risk.factor_covariance.shape[0] != len(exposures):
        raise ConfigError(
            f"FUND.toml: [risk] factor_covariance is {risk.factor_covariance.shape[0]}×"
            f"{risk.factor_covariance.shape[0]} but {path.name} has {len(exposures)} exposures"
        )
    columns = list(dict.fromkeys([layout.id_column, layout.era_column, *exposures, *named]))
    frame = read_table(path, columns=columns)
    check_numeric(frame, [*exposures, *named], path.name)
    frame = keyed(frame, layout, path.name)
    by_era = {str(era): part.set_index("id") for era, part in frame.groupby("era", sort=False)}
    return by_era, tuple(exposures)


def _era_inputs(
    era: Era, risk: dict[str, pd.DataFrame], exposures: tuple[str, ...], fund: FundConfig
) -> Era | None:
    """The era restricted to the stocks the risk file covers, with the optimizer's arrays."""
    rows = risk.get(era.era)
    if rows is None:
        return None
    keep = np.isin(era.ids, rows.index.to_numpy())
    columns = fund.risk
    if columns.returns == "target":
        keep &= np.isfinite(era.required("target"))
    era = era.rows(keep)
    if era.n_stocks < 2:
        return None
    rows = rows.reindex(pd.Index(era.ids))
    if columns.returns == "target":
        target = era.required("target")
        returns = target - target.mean()
    else:
        returns = rows[columns.returns].to_numpy(dtype=np.float64)
    exposure_matrix = rows[list(exposures)].to_numpy(dtype=np.float64) if exposures else None
    risk_model = None
    if (
        columns.factor_covariance is not None
        and columns.specific_variance is not None
        and exposure_matrix is not None
    ):
        risk_model = EraRisk(
            exposure_matrix,
            columns.factor_covariance,
            rows[columns.specific_variance].to_numpy(dtype=np.float64),
        )
    return Era.build(
        era.era,
        era.ids,
        predictions=era.predictions,
        model_names=era.model_names,
        meta_model=era.meta_model,
        realized_returns=returns,
        exposures=exposure_matrix,
        exposure_names=exposures or None,
        risk=risk_model,
        adv=None if columns.adv is None else rows[columns.adv].to_numpy(dtype=np.float64),
    )


def tc(
    predictions: Path = typer.Argument(
        ..., help="Predictions: id (+ era) and 'prediction' or one column per model."
    ),
    meta_model: Path = typer.Option(
        ..., "--meta-model", help="The released meta model (id [+ era] and one value column)."
    ),
    config: Path = typer.Option(..., "--config", help="FUND.toml (kardashev fund-config writes one)."),
    data: Path = typer.Option(..., "--data", help="Numerai-style data with era, id and the target."),
    risk: Path = typer.Option(
        ...,
        "--risk",
        help="The operator's risk file: id, era, exposures, returns (columns named in FUND.toml).",
    ),
    target: str | None = typer.Option(None, "--target", help="Target column (default 'target')."),
    stake_share: float | None = typer.Option(
        None, "--stake-share", help="Your hypothetical share of the total stake (default: FUND.toml's)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Write the per-era estimates (era × model), .csv."),
) -> None:
    """Estimate your True Contribution locally from what the fund publishes (FUND.toml, risk data,
    released meta model): the fund's optimizer run on the released meta model and your predictions."""
    fund = load_fund_config(config)
    if stake_share is not None and not 0.0 <= stake_share < 1.0:
        raise InvalidInputError(
            f"--stake-share must be in [0, 1), got {stake_share}", code="invalid_stake_share"
        )
    share = fund.stake_share if stake_share is None else stake_share
    if out is not None and out.suffix.lower() != ".csv":
        raise DataFormatError(f"--out must end in .csv, got {out.name}", code="bad_file")
    inputs = open_scoring_inputs(predictions, data, meta_model_path=meta_model, target=target)
    if not inputs.eras:
        raise DataFormatError(
            f"{predictions.name}: no era of the predictions is in {data.name}", code="wrong_era"
        )
    risk_rows, exposures = _risk_frame(risk, inputs, fund)
    console = output_console()
    rows: list[dict[str, object]] = []
    skipped: list[str] = []
    bar = (TextColumn("[bold]TC at home"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*bar, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("eras", total=len(inputs.eras))
        for era in inputs.iter_eras():
            built = _era_inputs(era, risk_rows, exposures, fund)
            if built is None:
                skipped.append(era.era)
            else:
                estimates = estimate_era_tc(built, fund, share=share)
                rows.append({"era": era.era, **dict(zip(inputs.model_names, estimates, strict=True))})
            progress.advance(task)
    if not rows:
        raise NotFoundError(f"{risk.name}: no era of the predictions has risk data", code="wrong_era")
    table = pd.DataFrame(rows).set_index("era")
    if skipped:
        console.print(
            f"skipped {len(skipped)} era(s) without risk data in {risk.name}: {', '.join(skipped[:6])}"
        )
    console.print(
        f"estimated TC of {predictions.name}: stake share {share:g}, {fund.release.kind} meta model "
        f"released with a lag of {fund.release.lag} (TC = Σs·∂(rᵀw*)/∂s_k)"
    )
    tc_format = NumberFormat(decimals=5)
    if len(inputs.model_names) <= _MAX_MODEL_COLUMNS:
        shown = pd.concat([table, table.mean().to_frame("mean").T]).rename_axis("era").reset_index()
        styles = [None] * len(table) + ["bold"]
        columns = [Column("era"), *(Column(name, fmt=tc_format) for name in inputs.model_names)]
        render_table(shown, columns, console=console, styles=styles)
    else:
        spread = table.std(ddof=1)
        summary = pd.DataFrame(
            {
                "model": list(inputs.model_names),
                "eras": table.count().to_numpy(),
                "mean": table.mean().to_numpy(),
                "std": spread.to_numpy(),
                "ratio": (table.mean() / spread.where(spread > 0)).to_numpy(),
            }
        )
        columns = [
            Column("model"),
            Column("eras", fmt="int"),
            Column("mean", "mean TC", fmt=tc_format),
            Column("std", "std of TC", short="std", fmt=tc_format),
            Column("ratio", "mean/std", fmt="ratio"),
        ]
        render_table(summary, columns, console=console)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out)
        console.print(f"per-era estimates: {len(table)} eras → {out}")


def fund_config(
    out: Path = typer.Option(..., "--out", help="Where to write FUND.toml."),
    url: str | None = typer.Option(
        None, "--url", help="A kardashev server (e.g. http://127.0.0.1:8000): download its FUND.toml."
    ),
) -> None:
    """Write FUND.toml: a server's (GET /v1/fund/config?format=toml) or the engine's default fund."""
    if url is None:
        text = fund_config_toml(FundConfig())
    else:
        try:
            response = httpx.get(f"{url.rstrip('/')}/v1/fund/config", params={"format": "toml"}, timeout=30)
        except httpx.HTTPError as exc:
            raise NotFoundError(f"cannot reach {url}: {exc}", code="unreachable") from None
        if response.status_code != 200:
            raise NotFoundError(
                f"{url}/v1/fund/config answered {response.status_code}", code="no_fund_config"
            )
        text = response.text
        parse_fund_config(text)  # refuse to write what kardashev tc could not read
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    Console().print(f"FUND.toml → {out}")


def register(app: typer.Typer) -> None:
    """Add ``kardashev tc`` and ``kardashev fund-config`` to the CLI."""
    app.command("tc")(tc)
    app.command("fund-config")(fund_config)
