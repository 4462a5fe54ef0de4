"""Diagnostics of a validation predictions file, and the operator's validation data they use.

The operator uploads a validation table (``era``, ``id``, ``target``, optional ``feature_*`` columns), or
Numerai's ``validation.parquet`` as downloaded (``id`` index, ``data_type``, several targets, NaN in
unresolved eras: :func:`kardashev.data.layout.select_validation_rows`), with
``PUT /v1/admin/validation-data``; it is kept as one parquet file in the data directory. A participant posts
predictions for every validation id (the Classic rules, via :mod:`kardashev.tournament.validation`) and gets
back, per era and summarized, CORR, FNC and the largest feature exposure computed by :mod:`kardashev.scoring`.
Nothing of the participant's file is stored.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kardashev.api import schemas
from kardashev.api.context import ApiContext
from kardashev.api.convert import finite_or_none
from kardashev.api.uploads import UploadedFile
from kardashev.data.era import Era
from kardashev.data.layout import select_validation_rows
from kardashev.errors import DataFormatError, StateError
from kardashev.scoring.registry import available_scores, compute_scores
from kardashev.scoring.summary import summarize_series
from kardashev.tournament.operator_data import OPERATOR_READ_LIMITS, OperatorDataLimits, check_values
from kardashev.tournament.submission_file import normalized_names
from kardashev.tournament.validation import ValidationConfig, read_submission_table, validate_classic

__all__ = [
    "DIAGNOSTIC_SCORES",
    "ValidationData",
    "load_validation_data",
    "run_diagnostics",
    "store_validation_data",
    "store_validation_file",
]

_FILE_NAME = "validation.parquet"
_LOCK = threading.Lock()
_CACHE: dict[str, ValidationData] = {}


@dataclass(frozen=True, eq=False)
class ValidationData:
    """The validation table as arrays: ``eras`` (n,), ``ids`` (n,), ``target`` (n,), ``features`` (n, f)."""

    eras: np.ndarray
    ids: np.ndarray
    target: np.ndarray
    features: np.ndarray | None
    sha256: str


def _validation_path(data_dir: Path) -> Path:
    return Path(data_dir) / "validation" / _FILE_NAME


def _path(context: ApiContext) -> Path:
    return _validation_path(Path(context.settings.data_dir))


def _numeric(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(frame[column].replace("", np.nan), errors="coerce").to_numpy(dtype=np.float64)
    raw_missing = frame[column].isna() | (frame[column].astype(str).str.strip() == "")
    if np.isnan(values[~raw_missing.to_numpy()]).any():
        raise DataFormatError(f"column {column!r} has values that are not numbers", code="non_numeric_values")
    if np.isinf(values).any():
        raise DataFormatError(f"column {column!r} has infinite values", code="out_of_range")
    return values


def _check_validation_header(names: Sequence[str]) -> None:
    """Refuse a header without era, id and target before any row is parsed."""
    columns = normalized_names(names)
    missing = [name for name in ("era", "id", "target") if name not in columns]
    if missing:
        raise DataFormatError(
            f"validation data needs columns era, id and target; missing {missing}", code="wrong_headers"
        )


def _parse_validation(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.rename(columns=lambda name: str(name).strip().lower())
    missing = [name for name in ("era", "id", "target") if name not in frame.columns]
    if missing:
        raise DataFormatError(
            f"validation data needs columns era, id and target; missing {missing}", code="wrong_headers"
        )
    if frame.columns.duplicated().any():
        raise DataFormatError("validation data has duplicate column names", code="wrong_headers")
    features = sorted(name for name in frame.columns if name.startswith("feature"))
    ids = frame["id"].astype(str).str.strip()
    if (ids == "").any() or frame["id"].isna().any():
        raise DataFormatError("validation data has empty ids", code="empty_ids")
    if ids.duplicated().any():
        example = ids[ids.duplicated()].iloc[0]
        raise DataFormatError(f"validation data has duplicate ids, e.g. {example!r}", code="duplicate_ids")
    eras = frame["era"].astype(str).str.strip()
    if (eras == "").any() or frame["era"].isna().any():
        raise DataFormatError("validation data has empty era labels", code="empty_ids")
    result = pd.DataFrame({"era": eras.to_numpy(), "id": ids.to_numpy(), "target": _numeric(frame, "target")})
    for name in features:
        result[name] = _numeric(frame, name)
    if np.isnan(result["target"].to_numpy()).all():
        raise DataFormatError("every validation target is missing", code="nan_values")
    return result


def store_validation_data(context: ApiContext, upload: UploadedFile) -> schemas.ValidationDataOut:
    """Check and store the validation table (atomically replacing the previous one)."""
    return store_validation_file(
        Path(context.settings.data_dir), upload, max_rows=context.settings.max_upload_rows
    )


def store_validation_file(
    data_dir: Path, upload: UploadedFile, *, max_rows: int
) -> schemas.ValidationDataOut:
    """Check the validation table in ``upload`` and store it in ``data_dir`` (atomically replacing the
    previous one): what ``PUT /v1/admin/validation-data`` and ``kardashev validation-data upload`` do."""
    frame = read_submission_table(
        upload.data,
        filename=upload.filename,
        limits=replace(OPERATOR_READ_LIMITS, max_rows=max_rows),
        check_header=_check_validation_header,
    )
    table = _parse_validation(select_validation_rows(frame))
    limits = OperatorDataLimits()
    check_values(table["target"].to_numpy(), name="target", max_abs=limits.max_abs_target, allow_nan=True)
    features = [name for name in table.columns if name.startswith("feature")]
    if features:
        check_values(table[features].to_numpy(), name="features", max_abs=limits.max_abs_feature)
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), sink)
    data = sink.getvalue()
    path = _validation_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
    n_features = sum(1 for name in table.columns if name.startswith("feature"))
    return schemas.ValidationDataOut(
        n_rows=len(table),
        n_eras=int(table["era"].nunique()),
        n_features=n_features,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def load_validation_data(context: ApiContext) -> ValidationData:
    """The stored validation data (cached while the file is unchanged)."""
    path = _path(context)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StateError(
            "no validation data: the operator must upload it first (PUT /v1/admin/validation-data)",
            code="no_validation_data",
        ) from None
    sha = hashlib.sha256(data).hexdigest()
    with _LOCK:
        cached = _CACHE.get(sha)
        if cached is not None:
            return cached
        table = pq.read_table(io.BytesIO(data)).to_pandas()
        features = [name for name in table.columns if name.startswith("feature")]
        loaded = ValidationData(
            eras=table["era"].to_numpy(dtype=object),
            ids=table["id"].to_numpy(dtype=object),
            target=table["target"].to_numpy(dtype=np.float64),
            features=table[features].to_numpy(dtype=np.float64) if features else None,
            sha256=sha,
        )
        _CACHE.clear()  # one validation table at a time (content-addressed: never stale)
        _CACHE[sha] = loaded
        return loaded


#: the registry's scores a validation file is diagnosed with (those its data allow)
DIAGNOSTIC_SCORES = ("corr", "fnc", "feature_exposure_max", "feature_exposure_rms")


def _summary_metrics(name: str, values: np.ndarray) -> dict[str, float | None]:
    """The scoring layer's summary of one per-era series, as ``{name}_{statistic}`` (max drawdown ≤ 0)."""
    summary = summarize_series(values, lag=0)
    if summary.n_eras == 0:
        return {f"{name}_mean": None}
    fields = ("mean", "std", "sharpe", "max_drawdown", "hit_rate", "t_statistic")
    return {f"{name}_{field}": finite_or_none(float(getattr(summary, field))) for field in fields}


def run_diagnostics(context: ApiContext, upload: UploadedFile) -> schemas.DiagnosticsOut:
    """Score validation predictions era by era with the registry's scores; nothing is stored."""
    validation = load_validation_data(context)
    validated = validate_classic(
        upload.data,
        live_ids=[str(i) for i in validation.ids],
        config=ValidationConfig(max_rows=context.settings.max_upload_rows),
        filename=upload.filename,
    )
    predictions = np.asarray(validated.values, dtype=np.float64)
    per_era: list[dict[str, float | str | None]] = []
    series: dict[str, list[float]] = {}
    for label in pd.unique(validation.eras):
        rows = (validation.eras == label) & np.isfinite(validation.target)  # unresolved targets skipped
        if rows.sum() < 2:
            continue
        era = Era.build(
            str(label),
            validation.ids[rows],
            predictions=predictions[rows],
            model_names=("prediction",),
            target=validation.target[rows],
            features=None if validation.features is None else validation.features[rows],
        )
        wanted = [name for name in DIAGNOSTIC_SCORES if name in available_scores(era)]
        scores, _ = compute_scores(era, wanted)
        row: dict[str, float | str | None] = {"era": era.era, "n_rows": float(rows.sum())}
        for name, values in scores.items():
            row[name] = finite_or_none(float(values[0]))
            series.setdefault(name, []).append(float(values[0]))
        per_era.append(row)
    metrics: dict[str, float | None] = {}
    for name, per_era_values in series.items():
        metrics.update(_summary_metrics(name, np.asarray(per_era_values, dtype=np.float64)))
    return schemas.DiagnosticsOut(
        n_eras=len(per_era), n_rows=int(predictions.size), metrics=metrics, per_era=per_era
    )
