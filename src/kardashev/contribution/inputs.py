"""Validate and align the inputs of one era for True Contribution and True Return.

Thin pandas edge: predictions may be a DataFrame (index: stock ids, columns: model names); then
stakes may be a Series (aligned by model name), realized returns / ADV / previous weights Series
and exposures a DataFrame (aligned by stock id). Returns, exposures and ADV must cover every stock
of the predictions (extra ids are ignored); previous weights missing for a stock mean "not held"
(0). With plain arrays the shapes must agree. Everything ends up as float64 numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kardashev.data.era import Era
from kardashev.errors import AlignmentError, InvalidInputError
from kardashev.metamodel import align_stakes, as_prediction_matrix, gaussianize_predictions, validate_stakes

__all__ = ["FrameLabels", "gaussianized_matrix", "prepare_era"]


@dataclass(frozen=True)
class FrameLabels:
    """The pandas edge's labels of an era: stock ids and model names, to label the results with."""

    ids: pd.Index
    model_names: pd.Index


def _finite_vector(values: np.ndarray, name: str, n_stocks: int) -> np.ndarray:
    if values.ndim != 1 or values.shape[0] != n_stocks:
        raise InvalidInputError(
            f"{name} must have one value per stock ({n_stocks}), got shape {values.shape}",
            code="shape_mismatch",
        )
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InvalidInputError(
            f"{name} contain NaN or infinite values (first at stock row {bad[0]}, {bad.size} in all)",
            code=f"invalid_{name.replace(' ', '_')}",
        )
    return values


def _vector(
    values: object, name: str, ids: pd.Index | None, n_stocks: int, *, fill: float | None
) -> np.ndarray:
    if isinstance(values, pd.Series | pd.DataFrame) and ids is not None:
        if isinstance(values, pd.DataFrame) and values.shape[1] != 1:
            raise InvalidInputError(f"{name} must be a Series or a one-column table", code="shape_mismatch")
        series: pd.Series = values.iloc[:, 0] if isinstance(values, pd.DataFrame) else values
        if not series.index.is_unique:
            raise AlignmentError(f"{name} have duplicate stock ids", code="duplicate_ids")
        missing = ids.difference(series.index)
        if len(missing) and fill is None:
            raise AlignmentError(
                f"{name} are missing for {len(missing)} of {len(ids)} stocks (e.g. {list(missing[:5])})",
                code="mismatched_ids",
            )
        values = series.reindex(ids, fill_value=fill if fill is not None else np.nan)
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be numbers: {exc}") from exc
    return _finite_vector(array, name, n_stocks)


def _exposure_matrix(exposures: object, ids: pd.Index | None, n_stocks: int) -> np.ndarray:
    if isinstance(exposures, pd.DataFrame) and ids is not None:
        if not exposures.index.is_unique:
            raise AlignmentError("exposures have duplicate stock ids", code="duplicate_ids")
        missing = ids.difference(exposures.index)
        if len(missing):
            raise AlignmentError(
                f"exposures are missing for {len(missing)} of {len(ids)} stocks (e.g. {list(missing[:5])})",
                code="mismatched_ids",
            )
        exposures = exposures.reindex(ids)
    try:
        array = np.asarray(exposures, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"exposures must be numbers: {exc}") from exc
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] != n_stocks:
        raise InvalidInputError(
            f"exposures must be (n_stocks={n_stocks}, n_exposures), got shape {array.shape}",
            code="shape_mismatch",
        )
    if not np.isfinite(array).all():
        rows, cols = np.nonzero(~np.isfinite(array))
        raise InvalidInputError(
            f"exposures contain NaN or infinite values (first at stock row {rows[0]}, column {cols[0]})",
            code="invalid_exposures",
        )
    return array


def prepare_era(
    predictions: object,
    stakes: object,
    realized_returns: object,
    exposures: object,
    *,
    previous_weights: object = None,
    adv: object = None,
) -> tuple[Era, FrameLabels | None]:
    """Check and align one era's inputs; raise a :mod:`kardashev.errors` error naming what is wrong.

    Returns the :class:`~kardashev.data.era.Era` of aligned float arrays (float32 predictions stay
    float32) and, for pandas input, the labels to put back on the results (``None`` for arrays).
    """
    ids: pd.Index | None = None
    model_names: pd.Index | None = None
    if isinstance(predictions, pd.DataFrame):
        if not predictions.index.is_unique:
            raise AlignmentError("predictions have duplicate stock ids in the index", code="duplicate_ids")
        if not predictions.columns.is_unique:
            raise AlignmentError("predictions have duplicate model columns", code="duplicate_models")
        ids, model_names = predictions.index, pd.Index(predictions.columns)
        matrix = as_prediction_matrix(predictions.to_numpy())
        stake_vector = align_stakes(model_names, stakes)
    else:
        matrix = as_prediction_matrix(predictions)
        stake_vector = validate_stakes(stakes, n_models=matrix.shape[1])
    n_stocks = matrix.shape[0]
    returns = _vector(realized_returns, "realized returns", ids, n_stocks, fill=None)
    exposure_matrix = None if exposures is None else _exposure_matrix(exposures, ids, n_stocks)
    exposure_names = (
        tuple(str(name) for name in exposures.columns) if isinstance(exposures, pd.DataFrame) else None
    )
    previous = (
        None
        if previous_weights is None
        else _vector(previous_weights, "previous weights", ids, n_stocks, fill=0.0)
    )
    liquidity = None if adv is None else _vector(adv, "adv", ids, n_stocks, fill=None)
    if liquidity is not None and (liquidity < 0).any():
        raise InvalidInputError("adv (average daily dollar volume) must be >= 0", code="invalid_adv")
    era = Era(
        era="",
        ids=np.asarray(ids if ids is not None else np.arange(n_stocks).astype(str), dtype=object),
        predictions=matrix,
        model_names=tuple(str(name) for name in model_names)
        if model_names is not None
        else tuple(f"model_{j}" for j in range(matrix.shape[1])),
        stakes=stake_vector,
        realized_returns=returns,
        exposures=exposure_matrix,
        exposure_names=exposure_names,
        previous_weights=previous,
        adv=liquidity,
    )
    labels = None if ids is None or model_names is None else FrameLabels(ids=ids, model_names=model_names)
    return era, labels


def gaussianized_matrix(era: Era, *, already_gaussianized: bool) -> np.ndarray:
    """``G`` in float64: the predictions gaussianized column-wise, or as given when they already are."""
    if already_gaussianized:
        return np.asarray(era.required("predictions"), dtype=np.float64)
    return gaussianize_predictions(era.required("predictions"))
