"""Write a synthetic market and crowd to disk in Numerai's formats, one era at a time.

Files written to ``out_dir`` (each parquet file holds one row group per era):

===========================  ======================================================================
``train.parquet``            Classic dataset (index ``id``; ``era``, ``data_type``, features, targets)
``features.json``            feature sets and target names
``predictions.parquet``      every model's predictions (index ``id``; ``era``; one column per model)
``meta_model.parquet``       stake-weighted meta model (``numerai_meta_model``), re-ranked to (0, 1)
``example_predictions.parquet``  an ordinary model's predictions (``prediction``)
``signals.parquet``          the example predictions in Signals form (tickers, ``date``, ``signal``)
``operator.parquet``         the fund's private data: exposures, risk model, ``adv``, realized returns
``manifest.json``            sizes, seeds, model names, archetypes, stakes and planted true values
===========================  ======================================================================
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kardashev.data.binning import percentile_rank
from kardashev.data.numerai import (
    META_MODEL_COLUMN,
    classic_writer,
    predictions_writer,
    signals_writer,
    write_features_json,
)
from kardashev.data.parquet import EraParquetWriter
from kardashev.data.synthetic.crowd import Crowd
from kardashev.data.synthetic.market import SyntheticMarket
from kardashev.errors import InvalidInputError

__all__ = ["DatasetFiles", "write_dataset"]


@dataclass(frozen=True)
class DatasetFiles:
    """Paths of a written dataset."""

    directory: Path
    classic: Path
    features_json: Path
    predictions: Path
    meta_model: Path
    example_predictions: Path
    signals: Path
    operator: Path
    manifest: Path
    n_eras: int
    n_rows: int


def _operator_schema(market: SyntheticMarket):
    import pyarrow as pa

    fields = [("id", pa.string()), ("era", pa.string())]
    fields += [(name, pa.float64()) for name in market.exposure_names]
    fields += [("specific_variance", pa.float64()), ("adv", pa.float64())]
    fields += [("return", pa.float64()), ("residual_return", pa.float64())]
    return pa.schema(fields)


def write_dataset(
    market: SyntheticMarket,
    crowd: Crowd,
    out_dir: str | Path,
    *,
    validation_fraction: float = 0.2,
    on_era: Callable[[int, int], None] | None = None,
) -> DatasetFiles:
    """Write ``market`` and ``crowd`` to ``out_dir`` era by era (memory holds one era).

    The last ``validation_fraction`` of eras get ``data_type = "validation"``, the rest
    ``"train"``. ``on_era(done, total)`` is called after each era (for a progress bar).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    n_eras = market.n_eras
    first_validation = n_eras - round(validation_fraction * n_eras)
    archetypes = np.asarray(crowd.archetypes)
    example_index = (
        int(np.flatnonzero(archetypes == "consensus")[0]) if (archetypes == "consensus").any() else 0
    )
    stakes = crowd.stakes
    weights = stakes / stakes.sum() if stakes.sum() > 0 else np.full(stakes.shape, 1.0 / stakes.size)
    countries = [
        name.removeprefix("country_") for name in market.exposure_names if name.startswith("country_")
    ]
    n_countries = len(countries)
    files = DatasetFiles(
        directory=out,
        classic=out / "train.parquet",
        features_json=out / "features.json",
        predictions=out / "predictions.parquet",
        meta_model=out / "meta_model.parquet",
        example_predictions=out / "example_predictions.parquet",
        signals=out / "signals.parquet",
        operator=out / "operator.parquet",
        manifest=out / "manifest.json",
        n_eras=n_eras,
        n_rows=0,
    )
    write_features_json(files.features_json, market.feature_sets, market.target_names)
    n_rows = 0
    with (
        classic_writer(files.classic, market.feature_names, market.target_names) as classic,
        predictions_writer(files.predictions, crowd.model_names) as predictions,
        predictions_writer(files.meta_model, [META_MODEL_COLUMN], data_type=True) as meta,
        predictions_writer(files.example_predictions, ["prediction"]) as example,
        signals_writer(files.signals) as signals,
        EraParquetWriter(files.operator, _operator_schema(market), index="id") as operator,
    ):
        for era in market.iter_eras():
            ids = era.ids.astype(str)
            labels = np.full(ids.shape[0], era.era, dtype=object)
            data_type = "train" if era.index < first_validation else "validation"
            data_types = np.full(ids.shape[0], data_type, dtype=object)
            columns: dict[str, object] = {"id": ids, "era": labels, "data_type": data_types}
            columns.update({name: era.features[:, j] for j, name in enumerate(era.feature_names)})
            columns.update({name: era.targets[:, j] for j, name in enumerate(era.target_names)})
            classic.write(columns)
            ranks = crowd.predictions(era)
            columns = {"id": ids, "era": labels}
            columns.update({name: ranks[:, j] for j, name in enumerate(crowd.model_names)})
            predictions.write(columns)
            meta_model = percentile_rank(ranks @ weights)
            meta.write({"id": ids, "era": labels, "data_type": data_types, META_MODEL_COLUMN: meta_model})
            example.write({"id": ids, "era": labels, "prediction": ranks[:, example_index]})
            country = np.asarray(countries, dtype=object)[np.argmax(era.exposures[:, :n_countries], axis=1)]
            tickers = np.char.add(np.char.add(ids, " "), country.astype(str))
            signals.write(
                {
                    "numerai_ticker": tickers,
                    "bloomberg_ticker": np.char.add(tickers, " Equity"),
                    "date": np.full(ids.shape[0], era.date),
                    "era": labels,
                    "signal": ranks[:, example_index],
                }
            )
            columns = {"id": ids, "era": labels}
            columns.update({name: era.exposures[:, j] for j, name in enumerate(era.exposure_names)})
            columns.update(
                {
                    "specific_variance": era.specific_variance,
                    "adv": era.adv,
                    "return": era.returns,
                    "residual_return": era.residual_returns,
                }
            )
            operator.write(columns)
            n_rows += ids.shape[0]
            if on_era is not None:
                on_era(era.index + 1, n_eras)
    manifest = {
        "generator": "kardashev.data.synthetic",
        "market": {k: str(v) if k == "start_date" else v for k, v in vars(market.config).items()},
        "crowd": vars(crowd.config),
        "eras": list(market.eras),
        "n_rows": n_rows,
        "feature_names": list(market.feature_names),
        "target_names": list(market.target_names),
        "exposure_names": list(market.exposure_names),
        "factor_covariance": np.asarray(market.factor_covariance).tolist(),
        "example_model": crowd.model_names[example_index],
        "models": [
            {"name": name, "archetype": archetype, "stake": float(stake), "true_value": float(value)}
            for name, archetype, stake, value in zip(
                crowd.model_names, crowd.archetypes, crowd.stakes, crowd.true_value, strict=True
            )
        ],
    }
    files.manifest.write_text(json.dumps(manifest, indent=1))
    return DatasetFiles(**{**vars(files), "n_rows": n_rows})
