"""Rows of Numerai's files keyed by ``(era, id)``: one key per layout, checked once.

Classic files key rows by ``id``; Signals files by a ticker column (``numerai_ticker``,
``composite_figi``, ``bloomberg_ticker``) and ``date`` (or ``friday_date``). :func:`keyed` renames a
file's key columns to ``id`` / ``era`` (string labels, dates as ``"2024-01-05"``) and refuses NaN or
repeated keys; :func:`keys_layout` reads a companion file (predictions, meta model, side files)
keyed like the data; :func:`check_prediction_keys` matches predictions to the data's rows. Every
error is a one-line :class:`~kardashev.errors.DataFormatError` naming the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from kardashev.data.layout import (
    DATE_COLUMNS,
    KEY_COLUMNS,
    FileLayout,
    era_labels,
    file_layout,
    index_columns,
)
from kardashev.errors import DataFormatError

__all__ = [
    "check_numeric",
    "check_prediction_keys",
    "keyed",
    "keys_layout",
    "select_data_type",
    "value_columns",
]


def keys_layout(path: Path, data: FileLayout | None) -> FileLayout:
    """A file's layout keyed like the data (same ticker column; ``friday_date`` read as ``date``)."""
    if data is None:
        return file_layout(path)
    probe = file_layout(path)
    id_column = data.id_column if data.id_column in probe.columns else probe.id_column
    if (id_column == "id") != (data.id_column == "id"):
        kind, data_kind = _tournament(id_column), _tournament(data.id_column)
        raise DataFormatError(
            f"{path.name} is a {kind} file (keyed by {id_column!r}) but {data.path.name} is {data_kind} "
            f"data (keyed by {data.id_column!r})",
            code="wrong_tournament",
        )
    if id_column not in data.columns:
        raise DataFormatError(
            f"{path.name}: keyed by {id_column!r}, which {data.path.name} lacks (it is keyed by "
            f"{data.id_column!r})",
            code="missing_column",
        )
    era_column = probe.era_column
    if data.era_column in probe.columns:
        era_column = data.era_column
    elif data.era_column in DATE_COLUMNS:
        era_column = next((c for c in DATE_COLUMNS if c in probe.columns), None)
    return file_layout(path, id_column=id_column, era_column=era_column)


def _tournament(id_column: str) -> str:
    return "Classic" if id_column == "id" else "Signals"


def keyed(frame: pd.DataFrame, layout: FileLayout, name: str, *, drop_missing: bool = False) -> pd.DataFrame:
    """Rename the key columns to ``id`` / ``era`` (string labels); check NaN and duplicated keys."""
    frame = frame.rename(columns={layout.id_column: "id"})
    if layout.era_column is not None:
        frame = frame.rename(columns={layout.era_column: "era"})
        frame["era"] = era_labels(frame["era"], dates=layout.kind == "signals")
    ids = frame["id"]
    missing = ids.isna().to_numpy()
    if missing.any() and drop_missing:
        frame, missing = frame[~missing], np.zeros(int((~missing).sum()), dtype=bool)
    if missing.any():
        raise DataFormatError(f"{name}: {int(missing.sum())} row(s) have no id (NaN)", code="nan_ids")
    frame = frame.assign(id=frame["id"].astype(str).to_numpy(dtype=object))
    by_era = "era" in frame.columns
    if by_era and frame["era"].isna().any():
        raise DataFormatError(
            f"{name}: {int(frame['era'].isna().sum())} row(s) have no era (NaN)", code="nan_ids"
        )
    duplicated = frame.duplicated(["era", "id"] if by_era else ["id"])
    if duplicated.any():
        examples = frame.loc[duplicated, "id"].unique()[:3].tolist()
        where = " within an era" if by_era else ""
        raise DataFormatError(
            f"{name}: {int(duplicated.sum())} duplicated id(s){where}, e.g. {examples}", code="duplicate_ids"
        )
    return frame


def check_numeric(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    for column in columns:
        dtype = frame[column].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise DataFormatError(
                f"{name}: column {column!r} has dtype {dtype}, expected numbers", code="wrong_dtype"
            )


def value_columns(columns: Sequence[str]) -> list[str]:
    """Value columns among ``columns`` (not keys, not a saved pandas index: see :func:`index_columns`)."""
    ignored = set(index_columns(columns))
    return [c for c in columns if c not in KEY_COLUMNS and c not in ignored]


def select_data_type(frame: pd.DataFrame, data_type: str | None, name: str) -> pd.DataFrame:
    if data_type is None:
        return frame
    if "data_type" not in frame.columns:
        raise DataFormatError(f"{name}: --data-type needs a 'data_type' column", code="missing_column")
    selected = frame["data_type"].astype(str).to_numpy() == data_type
    if not selected.any():
        found = sorted(frame["data_type"].astype(str).unique().tolist())[:5]
        raise DataFormatError(
            f"{name}: no rows with data_type {data_type!r} (found {found})", code="wrong_era"
        )
    return frame[selected]


def check_prediction_keys(
    predictions: pd.DataFrame, data_keys: pd.DataFrame, name: str, data_name: str
) -> pd.DataFrame:
    """Attach eras to predictions without an era column, reject unknown ids and wrong eras."""
    unknown = ~predictions["id"].isin(pd.Index(data_keys["id"].unique()))
    if unknown.any():
        examples = predictions.loc[unknown, "id"].head(3).tolist()
        raise DataFormatError(
            f"{name}: {int(unknown.sum())} id(s) are not in {data_name}, e.g. {examples}", code="unknown_ids"
        )
    if "era" not in predictions.columns:
        if data_keys["id"].duplicated().any():
            raise DataFormatError(
                f"{name}: missing column(s) ['era'] (ids repeat across the eras of {data_name})",
                code="missing_column",
            )
        return predictions.merge(data_keys[["id", "era"]], on="id", how="left")
    pairs = pd.MultiIndex.from_frame(data_keys[["era", "id"]])
    wrong = ~pd.MultiIndex.from_frame(predictions[["era", "id"]]).isin(pairs)
    if wrong.any():
        unknown_eras = sorted(set(predictions.loc[wrong, "era"]) - set(data_keys["era"]))
        detail = f"; era(s) {unknown_eras[:3]} are not in {data_name}" if unknown_eras else ""
        examples = predictions.loc[wrong, ["id", "era"]].astype(str).head(3).to_dict("records")
        raise DataFormatError(
            f"{name}: {int(wrong.sum())} row(s) give an id under the wrong era{detail}, e.g. {examples}",
            code="wrong_era",
        )
    return predictions
