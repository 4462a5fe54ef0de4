"""Reading scoring inputs in Numerai's file conventions (parquet or CSV) for ``kardashev score``.

Data: ``id`` (column or pandas index), ``era``, ``feature_*`` and ``target*`` columns, with a
``features.json`` next to it naming feature sets (``{"feature_sets": {"small": [...], ...}}``).
Predictions: ``id`` (+ ``era``), then ``prediction`` (or ``probability``) or one column per model;
a long table ``id, era, model, prediction`` is pivoted. Meta model / benchmark: ``id`` (+ ``era``)
and one value column (``numerai_meta_model``, ``prediction`` or the only numeric one).

Everything is checked before scoring starts; a bad file raises a
:class:`~kardashev.errors.DataFormatError` naming the file and the problem (codes
``missing_column``, ``nan_ids``, ``duplicate_ids``, ``unknown_ids``, ``wrong_era``,
``wrong_dtype``, ``bad_file``). Parquet data is read one era at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from kardashev.data.era import Era
from kardashev.errors import ConfigError, DataFormatError, NotFoundError

__all__ = ["ScoringInputs", "open_scoring_inputs", "read_table"]

_KEY_COLUMNS = ("id", "era", "data_type")
_PREDICTION_NAMES = ("prediction", "probability")
_REFERENCE_NAMES = ("numerai_meta_model", "prediction", "probability")


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise NotFoundError(f"no such file: {path}", code="file_not_found")
    if path.suffix.lower() not in (".parquet", ".pq", ".csv"):
        raise DataFormatError(f"{path.name}: expected a .parquet or .csv file", code="bad_file")


def _parquet_index_columns(path: Path) -> list[str]:
    """Columns a parquet file stores as the pandas index (restored as the index on read)."""
    metadata = pq.read_schema(path).pandas_metadata or {}
    return [c for c in metadata.get("index_columns", []) if isinstance(c, str)]


def _columns_of(path: Path) -> list[str]:
    _check_exists(path)
    try:
        if path.suffix.lower() == ".csv":
            return [str(c) for c in pd.read_csv(path, nrows=0).columns]
        index_names = _parquet_index_columns(path)
        return [name for name in pq.read_schema(path).names if name not in index_names or name == "id"]
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataFormatError(f"{path.name}: cannot be read ({exc})", code="bad_file") from None


def read_table(path: str | Path, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a parquet or CSV file; an ``id`` pandas index becomes a column.

    Raises
    ------
    NotFoundError
        The file does not exist.
    DataFormatError
        Unreadable file, or a requested column is missing.
    """
    path = Path(path)
    available = _columns_of(path)
    if columns is not None:
        missing = [c for c in columns if c not in available]
        if missing:
            raise DataFormatError(f"{path.name}: missing column(s) {missing}", code="missing_column")
    try:
        if path.suffix.lower() == ".csv":
            frame = pd.read_csv(
                path,
                usecols=list(columns) if columns is not None else None,
                dtype={"id": str, "era": str},  # keep "0001"-style labels
            )
        else:
            index_names = _parquet_index_columns(path)
            selected = None if columns is None else [c for c in columns if c not in index_names]
            frame = pd.read_parquet(path, columns=selected)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataFormatError(f"{path.name}: cannot be read ({exc})", code="bad_file") from None
    if frame.index.name == "id":
        frame = frame.reset_index()
    if columns is not None:
        frame = frame[list(columns)]
    return frame


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataFormatError(f"{name}: missing column(s) {missing}", code="missing_column")


def _check_keys(frame: pd.DataFrame, name: str, *, by_era: bool) -> None:
    if frame["id"].isna().any():
        raise DataFormatError(
            f"{name}: {int(frame['id'].isna().sum())} row(s) have no id (NaN)", code="nan_ids"
        )
    if by_era and frame["era"].isna().any():
        raise DataFormatError(
            f"{name}: {int(frame['era'].isna().sum())} row(s) have no era (NaN)", code="nan_ids"
        )
    keys = ["era", "id"] if by_era else ["id"]
    duplicated = frame.duplicated(keys)
    if duplicated.any():
        examples = frame.loc[duplicated, "id"].astype(str).unique()[:3].tolist()
        where = " within an era" if by_era else ""
        raise DataFormatError(
            f"{name}: {int(duplicated.sum())} duplicated id(s){where}, e.g. {examples}", code="duplicate_ids"
        )


def _numeric(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    for column in columns:
        dtype = frame[column].dtype
        if not (pd.api.types.is_numeric_dtype(dtype)) or pd.api.types.is_bool_dtype(dtype):
            raise DataFormatError(
                f"{name}: column {column!r} has dtype {dtype}, expected numbers", code="wrong_dtype"
            )


def _normalize_keys(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["id"] = frame["id"].astype("string").astype(object).where(frame["id"].notna(), np.nan)
    if "era" in frame.columns:
        frame["era"] = frame["era"].astype("string").astype(object).where(frame["era"].notna(), np.nan)
    return frame


def _read_predictions(path: Path) -> tuple[pd.DataFrame, list[str]]:
    name = path.name
    frame = read_table(path)
    _require(frame, ["id"], name)
    if "model" in frame.columns:  # long table id, era, model, prediction
        value = next((c for c in _PREDICTION_NAMES if c in frame.columns), None)
        if value is None:
            raise DataFormatError(
                f"{name}: a 'model' column needs a 'prediction' column", code="missing_column"
            )
        keys = ["era", "id"] if "era" in frame.columns else ["id"]
        frame = _normalize_keys(frame)
        if frame.duplicated([*keys, "model"]).any():
            raise DataFormatError(f"{name}: an id appears twice for the same model", code="duplicate_ids")
        frame = frame.pivot(index=keys, columns="model", values=value).reset_index()
        frame.columns.name = None
    models = [c for c in frame.columns if c not in _KEY_COLUMNS]
    if not models:
        raise DataFormatError(
            f"{name}: no prediction column (expected 'prediction' or model columns)", code="missing_column"
        )
    _numeric(frame, models, name)
    frame = _normalize_keys(frame)
    _check_keys(frame, name, by_era="era" in frame.columns)
    return frame, [str(m) for m in models]


def _read_reference(path: Path, label: str) -> pd.DataFrame:
    name = path.name
    frame = read_table(path)
    _require(frame, ["id"], name)
    value = next((c for c in _REFERENCE_NAMES if c in frame.columns), None)
    if value is None:
        candidates = [c for c in frame.columns if c not in _KEY_COLUMNS]
        if len(candidates) != 1:
            raise DataFormatError(
                f"{name}: the {label} file needs one value column ('numerai_meta_model' or 'prediction'), "
                f"found {candidates}",
                code="missing_column",
            )
        value = candidates[0]
    _numeric(frame, [value], name)
    keys = ["id", "era"] if "era" in frame.columns else ["id"]
    frame = _normalize_keys(frame[[*keys, value]].rename(columns={value: label}))
    _check_keys(frame, name, by_era="era" in frame.columns)
    return frame


def _feature_names(data_path: Path, feature_set: str | None, data_columns: list[str]) -> list[str]:
    if feature_set is None:
        return []
    available = [c for c in data_columns if c.startswith("feature_")]
    if feature_set == "all":
        if not available:
            raise DataFormatError(f"{data_path.name}: no feature_* columns", code="missing_column")
        return available
    features_json = data_path.parent / "features.json"
    if not features_json.exists():
        raise NotFoundError(
            f"--features {feature_set!r} needs {features_json} (or use --features all)", code="file_not_found"
        )
    try:
        sets = json.loads(features_json.read_text())["feature_sets"]
        if not isinstance(sets, dict):
            raise TypeError("'feature_sets' is not a mapping")
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataFormatError(
            f"{features_json.name} is not a features.json file ({exc!r})", code="bad_file"
        ) from None
    if feature_set not in sets:
        raise ConfigError(
            f"no feature set {feature_set!r} in {features_json.name}; known: {sorted({*sets, 'all'})}"
        )
    names = sets[feature_set]
    missing = [f for f in names if f not in data_columns]
    if missing:
        raise DataFormatError(
            f"{data_path.name}: feature set {feature_set!r} names {len(missing)} column(s) not in the data, "
            f"e.g. {missing[:3]}",
            code="missing_column",
        )
    return [str(f) for f in names]


@dataclass(frozen=True)
class ScoringInputs:
    """Checked scoring inputs; :meth:`iter_eras` yields one :class:`~kardashev.data.era.Era` at a time.

    Attributes
    ----------
    model_names
        Prediction columns, one per model.
    eras
        Eras of the data that have predictions, in data order.
    target_name, feature_names
        Data columns used.
    """

    data_path: Path
    predictions: pd.DataFrame
    meta_model: pd.DataFrame | None
    benchmark: pd.DataFrame | None
    model_names: tuple[str, ...]
    eras: tuple[str, ...]
    target_name: str
    feature_names: tuple[str, ...]

    def _data_frames(self) -> Iterator[tuple[str, pd.DataFrame]]:
        columns = ["id", "era", self.target_name, *self.feature_names]
        if self.data_path.suffix.lower() == ".csv":
            frame = _normalize_keys(read_table(self.data_path, columns=columns))
            for era, group in frame.groupby("era", sort=False):
                if era in self.eras:
                    yield str(era), group
            return
        from kardashev.data.parquet import iter_eras

        index_names = _parquet_index_columns(self.data_path)
        parquet_columns = [c for c in columns if c != "era" and c not in index_names]
        for era, frame in iter_eras(self.data_path, columns=parquet_columns, eras=list(self.eras)):
            frame = frame.reset_index() if "id" not in frame.columns else frame
            yield str(era), _normalize_keys(frame)

    def iter_eras(self) -> Iterator[Era]:
        """Yield each era's row-aligned arrays (predictions missing for an id are NaN)."""
        predictions = self.predictions.set_index(["era", "id"])[list(self.model_names)]
        references = {
            label: None
            if ref is None
            else ref.set_index(["era", "id"] if "era" in ref.columns else "id")[label]
            for label, ref in (("meta_model", self.meta_model), ("benchmark", self.benchmark))
        }
        for era, frame in self._data_frames():
            ids = frame["id"].to_numpy()
            keys = pd.MultiIndex.from_arrays([np.full(len(ids), era, dtype=object), ids])
            values = {
                label: None
                if ref is None
                else ref.reindex(keys if ref.index.nlevels == 2 else pd.Index(ids)).to_numpy(dtype=np.float64)
                for label, ref in references.items()
            }
            yield Era.build(
                era,
                ids,
                predictions=predictions.reindex(keys).to_numpy(dtype=np.float64),
                model_names=self.model_names,
                target=frame[self.target_name].to_numpy(dtype=np.float64),
                meta_model=values["meta_model"],
                benchmark=values["benchmark"],
                features=frame[list(self.feature_names)].to_numpy(dtype=np.float64)
                if self.feature_names
                else None,
            )


def _data_keys(path: Path, data_columns: list[str]) -> pd.DataFrame:
    _require(pd.DataFrame(columns=data_columns), ["id", "era"], path.name)
    keys = _normalize_keys(read_table(path, columns=["id", "era"]))
    _check_keys(keys, path.name, by_era=True)
    return keys


def _check_prediction_keys(
    predictions: pd.DataFrame, data_keys: pd.DataFrame, name: str, data_name: str
) -> pd.DataFrame:
    """Attach eras to predictions without an era column, reject unknown ids and wrong eras."""
    known_ids = pd.Index(data_keys["id"].unique())
    unknown = ~predictions["id"].isin(known_ids)
    if unknown.any():
        examples = predictions.loc[unknown, "id"].astype(str).head(3).tolist()
        raise DataFormatError(
            f"{name}: {int(unknown.sum())} id(s) are not in {data_name}, e.g. {examples}", code="unknown_ids"
        )
    ids_unique = not data_keys["id"].duplicated().any()
    if "era" not in predictions.columns:
        if not ids_unique:
            raise DataFormatError(
                f"{name}: missing column(s) ['era'] (ids repeat across the eras of {data_name})",
                code="missing_column",
            )
        return predictions.merge(data_keys, on="id", how="left")
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


def open_scoring_inputs(
    predictions_path: str | Path,
    data_path: str | Path,
    *,
    meta_model_path: str | Path | None = None,
    benchmark_path: str | Path | None = None,
    feature_set: str | None = None,
    target: str | None = None,
) -> ScoringInputs:
    """Read and check every scoring input (the data itself is streamed later, era by era).

    Parameters
    ----------
    predictions_path, data_path
        Files in Numerai's conventions (parquet or CSV).
    meta_model_path, benchmark_path
        Optional meta model / benchmark predictions (for MMC / BMC).
    feature_set
        A set named in ``features.json`` next to the data, or ``"all"`` (for FNC and exposures).
    target
        Target column (default ``target``, else the first ``target*`` column).
    """
    data_path = Path(data_path)
    data_columns = _columns_of(data_path)
    _require(pd.DataFrame(columns=data_columns), ["id", "era"], data_path.name)
    if target is None:
        target = (
            "target"
            if "target" in data_columns
            else next((c for c in data_columns if c.startswith("target")), None)
        )
        if target is None:
            raise DataFormatError(f"{data_path.name}: no target column (target*)", code="missing_column")
    elif target not in data_columns:
        raise DataFormatError(f"{data_path.name}: missing column(s) [{target!r}]", code="missing_column")
    features = _feature_names(data_path, feature_set, data_columns)
    data_keys = _data_keys(data_path, data_columns)
    predictions_path = Path(predictions_path)
    predictions, models = _read_predictions(predictions_path)
    predictions = _check_prediction_keys(predictions, data_keys, predictions_path.name, data_path.name)
    predicted_eras = set(predictions["era"])
    eras = tuple(str(e) for e in data_keys["era"].drop_duplicates() if e in predicted_eras)
    references = {}
    for label, path in (("meta_model", meta_model_path), ("benchmark", benchmark_path)):
        references[label] = None if path is None else _read_reference(Path(path), label)
    return ScoringInputs(
        data_path=data_path,
        predictions=predictions,
        meta_model=references["meta_model"],
        benchmark=references["benchmark"],
        model_names=tuple(models),
        eras=eras,
        target_name=target,
        feature_names=tuple(features),
    )
