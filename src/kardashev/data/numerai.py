"""Numerai's file conventions: Classic datasets, Signals data, meta-model and prediction files.

Classic (``train.parquet`` / ``validation.parquet`` / ``live.parquet``): pandas index ``id``
(str), columns ``era`` (str), ``data_type`` (str), ``feature_*`` (int8, 0–4) and ``target*``
(float, NaN where unknown); ``features.json`` holds ``{"feature_sets": {name: [features]},
"targets": [...]}``. Signals v2.1: one row per (stock, date) with ``numerai_ticker`` and/or
``composite_figi`` (or ``bloomberg_ticker``), ``date`` (the legacy ``friday_date`` is read as
``date``), ``data_type``, features and targets, or ``signal``. Meta model: index ``id``,
``era``, ``data_type``, ``numerai_meta_model``. Example or
model predictions: index ``id``, ``era`` and ``prediction`` (or one column per model).

Everything reads era by era (:func:`iter_classic`, :func:`iter_signals`, …) with column
selection, so memory holds one era; ``read_*`` functions read chosen eras with a pyarrow filter.
Each frame is validated: a missing column, a missing (NaN) id or ticker, an id repeated within
an era, or a column of the wrong dtype raises :class:`~kardashev.errors.DataFormatError`
naming the column (codes ``missing_column``, ``nan_ids``, ``duplicate_ids``, ``wrong_dtype``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from kardashev.data.parquet import EraParquetWriter, iter_eras, read_eras
from kardashev.errors import DataFormatError, NotFoundError

__all__ = [
    "META_MODEL_COLUMN",
    "classic_schema",
    "iter_classic",
    "iter_meta_model",
    "iter_predictions",
    "iter_signals",
    "predictions_schema",
    "read_classic",
    "read_features_json",
    "read_signals",
    "signals_schema",
    "validate_classic",
    "validate_predictions",
    "validate_signals",
    "write_features_json",
]

META_MODEL_COLUMN = "numerai_meta_model"
TICKER_COLUMNS = ("numerai_ticker", "composite_figi", "bloomberg_ticker")


# ------------------------------------------------------------------ schemas (for EraParquetWriter)
def classic_schema(feature_names: Sequence[str], target_names: Sequence[str]) -> pa.Schema:
    """Schema of a Classic dataset file: ``id``, ``era``, ``data_type``, int8 features, float32 targets."""
    _check_names(feature_names, "feature_", "feature")
    _check_names(target_names, "target", "target")
    fields = [("id", pa.string()), ("era", pa.string()), ("data_type", pa.string())]
    fields += [(name, pa.int8()) for name in feature_names]
    fields += [(name, pa.float32()) for name in target_names]
    return pa.schema(fields)


def predictions_schema(prediction_columns: Sequence[str], *, data_type: bool = False) -> pa.Schema:
    """Schema of a predictions / meta-model file: ``id``, ``era`` (``data_type``) and float columns."""
    fields = [("id", pa.string()), ("era", pa.string())]
    if data_type:
        fields.append(("data_type", pa.string()))
    return pa.schema(fields + [(name, pa.float64()) for name in prediction_columns])


def signals_schema(value_columns: Sequence[str] = ("signal",)) -> pa.Schema:
    """Schema of a Signals v2.1 file: ``numerai_ticker``, ``composite_figi``, ``date`` (date32), floats."""
    fields = [("numerai_ticker", pa.string()), ("composite_figi", pa.string()), ("date", pa.date32())]
    return pa.schema(fields + [(name, pa.float64()) for name in value_columns])


def _check_names(names: Sequence[str], prefix: str, what: str) -> None:
    bad = [n for n in names if not str(n).startswith(prefix)]
    if bad:
        raise DataFormatError(f"{what} names must start with {prefix!r}: {bad[:5]}", code="bad_column_name")


# ------------------------------------------------------------------ features.json
def write_features_json(
    path: str | Path, feature_sets: Mapping[str, Sequence[str]], targets: Sequence[str]
) -> None:
    """Write Numerai's ``features.json`` (feature sets and target names)."""
    payload = {"feature_sets": {k: list(v) for k, v in feature_sets.items()}, "targets": list(targets)}
    Path(path).write_text(json.dumps(payload, indent=1))


def read_features_json(path: str | Path) -> dict[str, list[str]]:
    """Read ``features.json``; returns ``{set name: features}`` plus the key ``"targets"``."""
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"no such file: {path}")
    try:
        payload = json.loads(path.read_text())
        sets = {str(k): [str(f) for f in v] for k, v in payload["feature_sets"].items()}
    except (json.JSONDecodeError, KeyError, AttributeError, TypeError) as exc:
        raise DataFormatError(
            f"{path.name} is not a features.json file: {exc!r}", code="bad_features_json"
        ) from None
    sets["targets"] = [str(t) for t in payload.get("targets", [])]
    return sets


# ------------------------------------------------------------------ validation
def _ids_of(frame: pd.DataFrame, name: str) -> pd.Series:
    if frame.index.name == "id":
        return frame.index.to_series()
    if "id" in frame.columns:
        return frame["id"]
    raise DataFormatError(f"{name}: no 'id' index or column", code="missing_column")


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataFormatError(f"{name}: missing column(s) {missing}", code="missing_column")


def _check_keys(keys: pd.Series, eras: pd.Series | None, key_name: str, name: str) -> None:
    if keys.isna().any():
        raise DataFormatError(f"{name}: {int(keys.isna().sum())} missing (NaN) {key_name}(s)", code="nan_ids")
    grouped = keys if eras is None else pd.Series(list(zip(eras, keys, strict=True)))
    duplicated = grouped.duplicated()
    if duplicated.any():
        examples = keys[duplicated.to_numpy()].astype(str).unique()[:3].tolist()
        where = "" if eras is None else " within an era"
        raise DataFormatError(
            f"{name}: {int(duplicated.sum())} duplicated {key_name}(s){where}, e.g. {examples}",
            code="duplicate_ids",
        )


def _check_dtype(frame: pd.DataFrame, column: str, kind: str, name: str) -> None:
    dtype = frame[column].dtype
    ok = {
        "integer": pd.api.types.is_integer_dtype(dtype),
        "float": pd.api.types.is_float_dtype(dtype) or pd.api.types.is_integer_dtype(dtype),
        "string": pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype),
    }[kind]
    if not ok or pd.api.types.is_bool_dtype(dtype):
        raise DataFormatError(
            f"{name}: column {column!r} has dtype {dtype}, expected {kind}", code="wrong_dtype"
        )


def validate_classic(
    frame: pd.DataFrame, *, name: str = "classic data", require_targets: bool = False
) -> None:
    """Check a Classic frame: ids non-NaN and unique per era, ``era`` present, dtypes, features in 0..4."""
    _require(frame, ["era"], name)
    _check_keys(_ids_of(frame, name), frame["era"], "id", name)
    for column in frame.columns:
        if str(column).startswith("feature_"):
            _check_dtype(frame, column, "integer", name)
            values = frame[column].to_numpy()
            if values.size and (values.min() < 0 or values.max() > 4):
                raise DataFormatError(f"{name}: feature {column!r} outside 0..4", code="wrong_dtype")
        elif str(column).startswith("target"):
            _check_dtype(frame, column, "float", name)
    if require_targets and not any(str(c).startswith("target") for c in frame.columns):
        raise DataFormatError(f"{name}: no target column", code="missing_column")


def validate_predictions(frame: pd.DataFrame, columns: Sequence[str], *, name: str = "predictions") -> None:
    """Check a predictions / meta-model frame: ids, ``era`` and float columns in [0, 1]."""
    _require(frame, ["era", *columns], name)
    _check_keys(_ids_of(frame, name), frame["era"], "id", name)
    for column in columns:
        _check_dtype(frame, column, "float", name)
        values = frame[column].to_numpy(dtype=float)
        if np.isnan(values).any():
            raise DataFormatError(f"{name}: column {column!r} has missing values", code="nan_predictions")
        if values.size and (values.min() < 0 or values.max() > 1):
            raise DataFormatError(f"{name}: column {column!r} has values outside [0, 1]", code="out_of_range")


def validate_signals(
    frame: pd.DataFrame, *, name: str = "signals", value_columns: Sequence[str] = ()
) -> None:
    """Check a Signals frame: a ticker column, ``date``, tickers non-NaN and unique per date, float values."""
    tickers = [c for c in TICKER_COLUMNS if c in frame.columns]
    if not tickers:
        raise DataFormatError(
            f"{name}: need a 'numerai_ticker', 'composite_figi' or 'bloomberg_ticker' column",
            code="missing_column",
        )
    _require(frame, ["date", *value_columns], name)
    _check_keys(
        frame[tickers[0]].reset_index(drop=True), frame["date"].reset_index(drop=True), "ticker", name
    )
    for column in value_columns:
        _check_dtype(frame, column, "float", name)


# ------------------------------------------------------------------ readers
def _classic_columns(
    columns: Sequence[str] | None, feature_set: str | None, features_json: str | Path | None
) -> list[str] | None:
    if feature_set is None:
        return None if columns is None else list(columns)
    if features_json is None:
        raise DataFormatError(
            "feature_set needs features_json (the path of features.json)", code="missing_argument"
        )
    sets = read_features_json(features_json)
    if feature_set not in sets or feature_set == "targets":
        raise NotFoundError(f"no feature set {feature_set!r} in {Path(features_json).name}")
    extra = list(columns) if columns is not None else ["data_type", *sets["targets"]]
    return list(dict.fromkeys([*sets[feature_set], *extra]))


def iter_classic(
    path: str | Path,
    *,
    columns: Sequence[str] | None = None,
    feature_set: str | None = None,
    features_json: str | Path | None = None,
    eras: Sequence[str] | None = None,
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Yield ``(era, frame)`` of a Classic file one era at a time (index ``id``), validated.

    ``columns`` selects columns; ``feature_set`` (with ``features_json``) selects that set's
    features plus ``data_type`` and the targets (or plus ``columns`` if given).
    """
    selected = _classic_columns(columns, feature_set, features_json)
    for era, frame in iter_eras(path, columns=selected, eras=eras):
        validate_classic(frame, name=Path(path).name)
        yield era, frame


def read_classic(
    path: str | Path,
    *,
    eras: Sequence[str],
    columns: Sequence[str] | None = None,
    feature_set: str | None = None,
    features_json: str | Path | None = None,
) -> pd.DataFrame:
    """Read chosen eras of a Classic file (a pyarrow filter skips the others), validated."""
    selected = _classic_columns(columns, feature_set, features_json)
    frame = read_eras(path, eras, columns=selected)
    validate_classic(frame, name=Path(path).name)
    return frame


def iter_predictions(
    path: str | Path, *, columns: Sequence[str] | None = None, eras: Sequence[str] | None = None
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Yield ``(era, frame)`` of a predictions file (``prediction`` or one column per model), validated."""
    for era, frame in iter_eras(path, columns=columns, eras=eras):
        value_columns = [c for c in frame.columns if c not in ("era", "data_type", "id")]
        validate_predictions(frame, value_columns, name=Path(path).name)
        yield era, frame


def iter_meta_model(
    path: str | Path, *, eras: Sequence[str] | None = None
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Yield ``(era, frame)`` of a meta-model file (column ``numerai_meta_model``), validated."""
    for era, frame in iter_eras(path, columns=[META_MODEL_COLUMN], eras=eras):
        validate_predictions(frame, [META_MODEL_COLUMN], name=Path(path).name)
        yield era, frame


def _signals_era_column(path: str | Path) -> str:
    import pyarrow.parquet as pq

    names = pq.ParquetFile(path).schema_arrow.names if Path(path).exists() else []
    for candidate in ("era", "date", "friday_date"):
        if candidate in names:
            return candidate
    raise DataFormatError(f"{Path(path).name}: missing column(s) ['date']", code="missing_column")


def _signals_values(frame: pd.DataFrame, value_columns: Sequence[str] | None) -> list[str]:
    if value_columns is not None:
        return list(value_columns)
    return [c for c in frame.columns if c == "signal" or str(c).startswith("target")]


def _normalize_signals(frame: pd.DataFrame) -> pd.DataFrame:
    if "date" not in frame.columns and "friday_date" in frame.columns:
        frame = frame.rename(columns={"friday_date": "date"})
    return frame


def iter_signals(
    path: str | Path,
    *,
    columns: Sequence[str] | None = None,
    dates: Sequence[str] | None = None,
    value_columns: Sequence[str] | None = None,
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Yield ``(date or era, frame)`` of a Signals-style file one date at a time, validated.

    Grouped by ``era`` when the file has one, else by ``date`` (or ``friday_date``, read as
    ``date``). ``value_columns`` (default ``signal`` and the ``target*`` columns present) must be floats.
    """
    if not Path(path).exists():
        raise NotFoundError(f"no such file: {path}")
    key = _signals_era_column(path)
    for era, frame in iter_eras(path, columns=columns, eras=dates, era_column=key):
        frame = _normalize_signals(frame)
        validate_signals(frame, name=Path(path).name, value_columns=_signals_values(frame, value_columns))
        yield era, frame


def read_signals(
    path: str | Path,
    *,
    dates: Sequence[str],
    columns: Sequence[str] | None = None,
    value_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read chosen dates (or eras) of a Signals-style file with a pyarrow filter, validated."""
    if not Path(path).exists():
        raise NotFoundError(f"no such file: {path}")
    key = _signals_era_column(path)
    frame = _normalize_signals(read_eras(path, dates, columns=columns, era_column=key))
    validate_signals(frame, name=Path(path).name, value_columns=_signals_values(frame, value_columns))
    return frame


def classic_writer(
    path: str | Path, feature_names: Sequence[str], target_names: Sequence[str]
) -> EraParquetWriter:
    """An era-by-era writer of a Classic file: ``write({"id": …, "era": …, "data_type": …, …})``."""
    return EraParquetWriter(path, classic_schema(feature_names, target_names), index="id")


def predictions_writer(
    path: str | Path, columns: Sequence[str], *, data_type: bool = False
) -> EraParquetWriter:
    """An era-by-era writer of a predictions or meta-model file."""
    return EraParquetWriter(path, predictions_schema(columns, data_type=data_type), index="id")


def signals_writer(path: str | Path, value_columns: Sequence[str] = ("signal",)) -> EraParquetWriter:
    """A date-by-date writer of a Signals-style file."""
    return EraParquetWriter(path, signals_schema(value_columns))


__all__ += ["TICKER_COLUMNS", "classic_writer", "predictions_writer", "signals_writer"]
