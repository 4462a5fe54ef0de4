"""Per-era scores of many models straight from pandas tables (wide or long predictions).

A pandas edge over :func:`kardashev.scoring.score_eras`: the frames are checked (ids, eras,
columns), grouped by era in the data's order and streamed one era at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from kardashev.data.era import Era
from kardashev.errors import DataFormatError, InvalidInputError
from kardashev.scoring.batch import score_eras

__all__ = ["score_frame"]


def _frame(data: pd.DataFrame, name: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise InvalidInputError(f"{name} must be a pandas DataFrame, got {type(data).__name__}")
    return data


def _with_keys(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """``id`` and ``era`` as string columns (an ``id`` index becomes a column)."""
    if "id" not in frame.columns and frame.index.name == "id":
        frame = frame.reset_index()
    missing = [c for c in ("id", "era") if c not in frame.columns]
    if missing:
        raise DataFormatError(f"{name}: missing column(s) {missing}", code="missing_column")
    if frame["id"].isna().any() or frame["era"].isna().any():
        raise DataFormatError(f"{name}: rows without an id or era (NaN)", code="nan_ids")
    frame = frame.assign(id=frame["id"].astype(str), era=frame["era"].astype(str))
    duplicated = frame.duplicated(["era", "id", "model"] if "model" in frame.columns else ["era", "id"])
    if duplicated.any():
        examples = frame.loc[duplicated, "id"].head(3).tolist()
        raise DataFormatError(f"{name}: duplicated ids within an era, e.g. {examples}", code="duplicate_ids")
    return frame


def score_frame(
    predictions: pd.DataFrame,
    data: pd.DataFrame,
    *,
    target: str = "target",
    features: Sequence[str] | None = None,
    meta_model: pd.Series | None = None,
    benchmark: pd.Series | None = None,
    metrics: Sequence[str] | None = None,
    target_pow15: bool = True,
    show_progress: bool = False,
) -> pd.DataFrame:
    """Per-era scores of many models from pandas frames, era by era.

    Parameters
    ----------
    predictions
        Wide: ``id`` (column or index), ``era`` and one numeric column per model; or long: ``id``,
        ``era``, ``model`` and ``prediction``.
    data
        ``id``, ``era``, the ``target`` column and the ``features`` columns.
    meta_model, benchmark
        Series indexed by ``id`` or by ``(era, id)``.

    Returns
    -------
    Tidy table ``era, model, <metric>…`` as :func:`kardashev.scoring.score_eras`.
    """
    predictions = _with_keys(_frame(predictions, "predictions"), "predictions")
    if "model" in predictions.columns:
        if "prediction" not in predictions.columns:
            raise DataFormatError(
                "predictions: a 'model' column needs a 'prediction' column", code="missing_column"
            )
        predictions = predictions.pivot(index=["era", "id"], columns="model", values="prediction")
        predictions.columns = [str(c) for c in predictions.columns]
    else:
        predictions = predictions.set_index(["era", "id"])
    models = [str(c) for c in predictions.columns if c != "data_type"]
    non_numeric = [c for c in models if not pd.api.types.is_numeric_dtype(predictions[c])]
    if non_numeric or not models:
        raise DataFormatError(
            f"predictions: need numeric model columns, got {non_numeric or 'none'}", code="wrong_dtype"
        )
    data = _with_keys(_frame(data, "data"), "data")
    feature_names = list(features or [])
    missing = [c for c in [target, *feature_names] if c not in data.columns]
    if missing:
        raise DataFormatError(f"data: missing column(s) {missing}", code="missing_column")
    unknown = predictions.index.difference(pd.MultiIndex.from_frame(data[["era", "id"]]))
    if len(unknown):
        raise DataFormatError(
            f"predictions: {len(unknown)} (era, id) pairs are not in the data, e.g. {list(unknown[:3])}",
            code="unknown_ids",
        )
    predicted_eras = set(predictions.index.get_level_values("era"))

    def reference(series: pd.Series | None, keys: pd.MultiIndex) -> np.ndarray | None:
        if series is None:
            return None
        if series.index.nlevels == 2:
            return series.reindex(keys).to_numpy(dtype=np.float64)
        return series.reindex(keys.get_level_values("id")).to_numpy(dtype=np.float64)

    def eras() -> Iterator[Era]:
        for era, group in data.groupby("era", sort=False):
            if era not in predicted_eras:
                continue
            keys = pd.MultiIndex.from_arrays([group["era"], group["id"]], names=["era", "id"])
            yield Era.build(
                str(era),
                group["id"].to_numpy(),
                predictions=predictions[models].reindex(keys).to_numpy(dtype=np.float64),
                model_names=models,
                target=group[target].to_numpy(dtype=np.float64),
                meta_model=reference(meta_model, keys),
                benchmark=reference(benchmark, keys),
                features=group[feature_names].to_numpy(dtype=np.float64) if feature_names else None,
            )

    return score_eras(
        eras(),
        model_names=models,
        metrics=metrics,
        target_pow15=target_pow15,
        show_progress=show_progress,
        total=len(predicted_eras),
    )
