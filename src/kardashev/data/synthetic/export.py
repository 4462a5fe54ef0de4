"""Write a synthetic market and crowd to disk in Numerai's own layouts, one era at a time.

Files written to ``out_dir`` (each parquet file holds one row group per era), named and laid out
as Numerai's downloads (Classic v5, Signals v2.1 under ``signals/``):

=======================================  ==============================================================
``train.parquet``                        Classic train eras (index ``id``; ``era``, ``data_type``,
                                         int8 features, targets)
``validation.parquet``                   validation eras; each target is NaN in its last ``horizon``
                                         eras (not resolved yet), as Numerai's are
``live.parquet``                         the newest era (``data_type`` ``live``, targets all NaN)
``features.json``                        ``feature_sets`` and ``targets``
``validation_predictions.parquet``       the crowd on the validation eras (one column per model)
``validation_example_preds.parquet``     an ordinary model (``prediction``); ``live_example_preds``
                                         the same on the live era
``validation_benchmark_models.parquet``  one benchmark column per target (``v1_lgbm_<target>``)
``meta_model.parquet``                   stake-weighted meta model (``numerai_meta_model``), validation
``signals/validation.parquet``           Signals v2.1: ``numerai_ticker``, ``composite_figi``, ``date``,
                                         ``data_type``, features, targets (also ``signals/train`` /
                                         ``live.parquet``)
``signals/validation_neutralizer.parquet``, ``signals/validation_sample_weights.parquet``,
``signals/validation_example_preds.parquet`` (``signal``), ``signals/live_example_preds.parquet``
``operator.parquet``                     the fund's private data: exposures, risk model, ``adv``, returns
``manifest.json``                        sizes, seeds, model names, archetypes, stakes, planted truth
=======================================  ==============================================================
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from kardashev.data.binning import percentile_rank
from kardashev.data.numerai import (
    META_MODEL_COLUMN,
    classic_writer,
    predictions_writer,
    write_features_json,
)
from kardashev.data.parquet import EraParquetWriter
from kardashev.data.synthetic.crowd import Crowd
from kardashev.data.synthetic.market import EraData, SyntheticMarket
from kardashev.errors import InvalidInputError

__all__ = ["DatasetFiles", "benchmark_column", "write_dataset"]

SIGNALS_FEATURES = 20  # Signals publishes a few features (Classic: all of them)


@dataclass(frozen=True)
class DatasetFiles:
    """Paths of a written dataset (Classic at the top, Signals under ``signals/``)."""

    directory: Path
    train: Path
    validation: Path
    live: Path
    features_json: Path
    predictions: Path
    example_predictions: Path
    live_example_predictions: Path
    benchmark_models: Path
    meta_model: Path
    signals_train: Path
    signals_validation: Path
    signals_live: Path
    signals_neutralizer: Path
    signals_sample_weights: Path
    signals_example_predictions: Path
    signals_live_example_predictions: Path
    operator: Path
    manifest: Path
    n_eras: int
    n_rows: int


def benchmark_column(target: str) -> str:
    """The benchmark models file's column for ``target`` (Numerai names them by target)."""
    name = target.removeprefix("target").strip("_").replace("_", "") or "target"
    return f"v1_lgbm_{name}"


def _operator_schema(market: SyntheticMarket) -> pa.Schema:
    fields = [("id", pa.string()), ("era", pa.string())]
    fields += [(name, pa.float64()) for name in market.exposure_names]
    fields += [("specific_variance", pa.float64()), ("adv", pa.float64())]
    fields += [("return", pa.float64()), ("residual_return", pa.float64())]
    return pa.schema(fields)


def _signals_keys() -> list[tuple[str, pa.DataType]]:
    return [("numerai_ticker", pa.string()), ("composite_figi", pa.string()), ("date", pa.date32())]


def _signals_data_schema(features: list[str], targets: tuple[str, ...]) -> pa.Schema:
    fields = [*_signals_keys(), ("data_type", pa.string())]
    return pa.schema(fields + [(f, pa.int8()) for f in features] + [(t, pa.float32()) for t in targets])


def _split(n_eras: int, validation_fraction: float) -> tuple[int, int]:
    """(first validation era, live era): the newest era is live, the ones before it validation."""
    if n_eras < 3:
        return n_eras, n_eras  # too short to split: everything is train
    live = n_eras - 1
    n_validation = min(max(1, round(validation_fraction * n_eras)), live - 1)
    return live - n_validation, live


def _unresolved(market: SyntheticMarket, index: int, live: int) -> np.ndarray:
    """Targets not resolved at era ``index``: their horizon reaches past the newest era."""
    return np.asarray([index + h >= live + 1 for h in market.target_horizons])


def _tickers(era: EraData, countries: list[str]) -> tuple[np.ndarray, np.ndarray]:
    n_countries = len(countries)
    country = np.asarray(countries, dtype=object)[np.argmax(era.exposures[:, :n_countries], axis=1)]
    ids = era.ids.astype(str)
    tickers = np.char.add(np.char.add(ids, " "), country.astype(str)).astype(object)
    figi = np.char.add("BBG00", np.char.upper(np.char.zfill(ids, 7))).astype(object)
    return tickers, figi


def write_dataset(
    market: SyntheticMarket,
    crowd: Crowd,
    out_dir: str | Path,
    *,
    validation_fraction: float = 0.2,
    on_era: Callable[[int, int], None] | None = None,
) -> DatasetFiles:
    """Write ``market`` and ``crowd`` to ``out_dir`` era by era (memory holds one era).

    The newest era is live, the ``validation_fraction`` before it validation, the rest train
    (fewer than 3 eras: all train). In validation each target is NaN in the eras its horizon has
    not passed yet. ``on_era(done, total)`` is called after each era (for a progress bar).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    n_eras = market.n_eras
    first_validation, live_index = _split(n_eras, validation_fraction)
    archetypes = np.asarray(crowd.archetypes)
    example_index = (
        int(np.flatnonzero(archetypes == "consensus")[0]) if (archetypes == "consensus").any() else 0
    )
    stakes = crowd.stakes
    weights = stakes / stakes.sum() if stakes.sum() > 0 else np.full(stakes.shape, 1.0 / stakes.size)
    countries = [
        name.removeprefix("country_") for name in market.exposure_names if name.startswith("country_")
    ]
    styles = [
        i for i, name in enumerate(market.exposure_names) if not name.startswith(("country_", "sector_"))
    ]
    signals_dir = out / "signals"
    files = DatasetFiles(
        directory=out,
        train=out / "train.parquet",
        validation=out / "validation.parquet",
        live=out / "live.parquet",
        features_json=out / "features.json",
        predictions=out / "validation_predictions.parquet",
        example_predictions=out / "validation_example_preds.parquet",
        live_example_predictions=out / "live_example_preds.parquet",
        benchmark_models=out / "validation_benchmark_models.parquet",
        meta_model=out / "meta_model.parquet",
        signals_train=signals_dir / "train.parquet",
        signals_validation=signals_dir / "validation.parquet",
        signals_live=signals_dir / "live.parquet",
        signals_neutralizer=signals_dir / "validation_neutralizer.parquet",
        signals_sample_weights=signals_dir / "validation_sample_weights.parquet",
        signals_example_predictions=signals_dir / "validation_example_preds.parquet",
        signals_live_example_predictions=signals_dir / "live_example_preds.parquet",
        operator=out / "operator.parquet",
        manifest=out / "manifest.json",
        n_eras=n_eras,
        n_rows=0,
    )
    write_features_json(files.features_json, market.feature_sets, market.target_names)
    targets = market.target_names
    bench_names = [benchmark_column(t) for t in targets]
    signal_features = list(market.feature_names[:SIGNALS_FEATURES])
    signals_schema = _signals_data_schema(signal_features, targets)
    neutralizer_names = [f"neutralizer_{market.exposure_names[i]}" for i in styles]
    n_rows = 0
    with ExitStack() as stack:

        def classic(path: Path) -> EraParquetWriter:
            return stack.enter_context(classic_writer(path, market.feature_names, targets))

        def predictions(path: Path, columns: list[str], data_type: bool = False) -> EraParquetWriter:
            return stack.enter_context(predictions_writer(path, columns, data_type=data_type))

        def plain(path: Path, schema: pa.Schema, index: str | None = None) -> EraParquetWriter:
            return stack.enter_context(EraParquetWriter(path, schema, index=index))

        data = {"train": classic(files.train)}
        signals = {"train": plain(files.signals_train, signals_schema)}
        if live_index < n_eras:
            data |= {"validation": classic(files.validation), "live": classic(files.live)}
            signals |= {
                "validation": plain(files.signals_validation, signals_schema),
                "live": plain(files.signals_live, signals_schema),
            }
            crowd_file = predictions(files.predictions, list(crowd.model_names))
            example = predictions(files.example_predictions, ["prediction"])
            live_example = stack.enter_context(
                EraParquetWriter(
                    files.live_example_predictions,
                    pa.schema([("id", pa.string()), ("prediction", pa.float64())]),
                    index="id",
                )
            )
            bench = predictions(files.benchmark_models, bench_names, data_type=True)
            meta = predictions(files.meta_model, [META_MODEL_COLUMN], data_type=True)
            keys = _signals_keys()
            neutralizer = plain(
                files.signals_neutralizer, pa.schema(keys + [(n, pa.float64()) for n in neutralizer_names])
            )
            sample_weights = plain(
                files.signals_sample_weights, pa.schema([*keys, ("sample_weight", pa.float64())])
            )
            signals_example = plain(
                files.signals_example_predictions, pa.schema([*keys, ("signal", pa.float64())])
            )
            signals_live_example = plain(
                files.signals_live_example_predictions,
                pa.schema([("numerai_ticker", pa.string()), ("signal", pa.float64())]),
            )
        operator = plain(files.operator, _operator_schema(market), index="id")
        for era in market.iter_eras():
            split = (
                "train"
                if era.index < first_validation
                else "validation"
                if era.index < live_index
                else "live"
            )
            ids = era.ids.astype(str)
            labels = np.full(ids.shape[0], era.era, dtype=object)
            data_types = np.full(ids.shape[0], split, dtype=object)
            target_values = era.targets.astype(np.float32)
            if split != "train":
                target_values[:, _unresolved(market, era.index, live_index)] = np.nan
            columns: dict[str, object] = {"id": ids, "era": labels, "data_type": data_types}
            columns.update({name: era.features[:, j] for j, name in enumerate(era.feature_names)})
            columns.update({name: target_values[:, j] for j, name in enumerate(targets)})
            data[split].write(columns)
            tickers, figi = _tickers(era, countries)
            if split == "train" and era.index < first_validation // 2:
                figi = np.full(ids.shape[0], None, dtype=object)  # composite_figi only in later eras
            dates = np.full(ids.shape[0], era.date)
            signal_columns = {
                "numerai_ticker": tickers,
                "composite_figi": figi,
                "date": dates,
                "data_type": data_types,
            }
            signal_columns.update({name: era.features[:, j] for j, name in enumerate(signal_features)})
            signal_columns.update({name: target_values[:, j] for j, name in enumerate(targets)})
            signals[split].write(signal_columns)
            ranks = crowd.predictions(era)
            if split == "validation":
                crowd_file.write(
                    {"id": ids, "era": labels, **{n: ranks[:, j] for j, n in enumerate(crowd.model_names)}}
                )
                example.write({"id": ids, "era": labels, "prediction": ranks[:, example_index]})
                bench_values = {
                    name: percentile_rank(ranks[:, (example_index + j) % ranks.shape[1]])
                    for j, name in enumerate(bench_names)
                }
                bench.write({"id": ids, "era": labels, "data_type": data_types, **bench_values})
                meta.write(
                    {
                        "id": ids,
                        "era": labels,
                        "data_type": data_types,
                        META_MODEL_COLUMN: percentile_rank(ranks @ weights),
                    }
                )
                keyed = {"numerai_ticker": tickers, "composite_figi": figi, "date": dates}
                neutralizer.write(
                    {
                        **keyed,
                        **{n: era.exposures[:, i] for n, i in zip(neutralizer_names, styles, strict=True)},
                    }
                )
                adv = np.sqrt(np.maximum(era.adv, 0.0))
                sample_weights.write({**keyed, "sample_weight": adv / adv.sum()})
                signals_example.write({**keyed, "signal": ranks[:, example_index]})
            elif split == "live":
                live_example.write({"id": ids, "prediction": ranks[:, example_index]})
                signals_live_example.write({"numerai_ticker": tickers, "signal": ranks[:, example_index]})
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
        "splits": {
            "train": list(market.eras[:first_validation]),
            "validation": list(market.eras[first_validation:live_index]),
            "live": list(market.eras[live_index:]),
        },
        "n_rows": n_rows,
        "feature_names": list(market.feature_names),
        "target_names": list(targets),
        "target_horizons": list(market.target_horizons),
        "benchmark_columns": dict(zip(targets, bench_names, strict=True)),
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
