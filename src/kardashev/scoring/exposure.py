"""Feature exposures and similarity between submissions.

Exposure is the Pearson correlation of the *raw* predictions with each feature (as numerai-tools'
``max_feature_correlation``); pairwise similarity is the Pearson correlation between the
submissions of one round.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kardashev.errors import InvalidInputError
from kardashev.scoring.alignment import as_matrix
from kardashev.scoring.correlation import pearson_matrix, top_bottom_rows

__all__ = [
    "feature_exposures",
    "max_feature_correlation",
    "max_feature_exposure",
    "max_pairwise_correlation",
    "mean_pairwise_correlation",
    "pairwise_correlations",
    "rms_feature_exposure",
]


def _complete(name: str, matrix: NDArray[np.float64]) -> None:
    if np.isnan(matrix).any():
        raise InvalidInputError(
            f"{name} contain NaN; align and drop incomplete rows first", code="nan_values"
        )


def feature_exposures(predictions: ArrayLike, features: ArrayLike) -> NDArray[np.float64]:
    """Pearson correlation of each prediction column with each feature.

    Parameters
    ----------
    predictions
        ``(n_stocks, n_models)`` or ``(n_stocks,)``, no NaN.
    features
        ``(n_stocks, n_features)``, no NaN, same rows.

    Returns
    -------
    ``(n_features, n_models)`` (``(n_features,)`` for 1-D predictions); NaN for a constant feature.
    """
    matrix, was_1d = as_matrix(predictions, name="predictions")
    feature_matrix, _ = as_matrix(features, name="features")
    _complete("predictions", matrix)
    _complete("features", feature_matrix)
    exposures = pearson_matrix(feature_matrix, matrix)
    return exposures[:, 0] if was_1d else exposures


def _reduce(exposures: NDArray[np.float64], reducer: str) -> NDArray[np.float64]:
    magnitude = np.abs(exposures)
    valid = ~np.isnan(magnitude)
    count = valid.sum(axis=0)
    filled = np.where(valid, magnitude, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if reducer == "max":
            result = filled.max(axis=0, initial=0.0)
        else:
            result = np.sqrt((filled**2).sum(axis=0) / count)
    return np.where(count > 0, result, np.nan)


def max_feature_exposure(predictions: ArrayLike, features: ArrayLike) -> NDArray[np.float64] | float:
    """Largest absolute feature correlation per model: ``max_f |corr(p, F_f)|`` (NaN features skipped)."""
    exposures = feature_exposures(predictions, features)
    result = _reduce(exposures.reshape(exposures.shape[0], -1), "max")
    return float(result[0]) if exposures.ndim == 1 else result


def rms_feature_exposure(predictions: ArrayLike, features: ArrayLike) -> NDArray[np.float64] | float:
    """Root mean square feature correlation per model: ``sqrt(mean_f corr(p, F_f)²)``."""
    exposures = feature_exposures(predictions, features)
    result = _reduce(exposures.reshape(exposures.shape[0], -1), "rms")
    return float(result[0]) if exposures.ndim == 1 else result


def max_feature_correlation(
    prediction: ArrayLike, features: ArrayLike, *, top_bottom: int | None = None
) -> tuple[int, float]:
    """The feature most correlated with one prediction: ``(feature index, |corr|)``.

    Parameters
    ----------
    prediction
        ``(n_stocks,)`` raw predictions, no NaN.
    features
        ``(n_stocks, n_features)``.
    top_bottom
        If given (``k``), only the rows of the ``k`` lowest and ``k`` highest predictions count.

    Raises
    ------
    InvalidInputError
        When every feature is constant (no correlation is defined).
    """
    values = np.asarray(prediction, dtype=np.float64).reshape(-1)
    feature_matrix, _ = as_matrix(features, name="features")
    if top_bottom is not None and top_bottom > 0:
        _complete("prediction", values[:, None])
        rows = top_bottom_rows(values[:, None], top_bottom)[0]
        values, feature_matrix = values[rows], feature_matrix[rows]
    exposures = np.abs(feature_exposures(values, feature_matrix))
    if np.isnan(exposures).all():
        raise InvalidInputError("no feature has a defined correlation with the prediction (all constant?)")
    best = int(np.nanargmax(exposures))
    return best, float(exposures[best])


def pairwise_correlations(predictions: ArrayLike) -> NDArray[np.float64]:
    """``(n_models, n_models)`` Pearson correlations between the submissions' columns (no NaN)."""
    matrix, _ = as_matrix(predictions, name="predictions")
    _complete("predictions", matrix)
    return pearson_matrix(matrix, matrix)


def _others(predictions: ArrayLike) -> NDArray[np.float64]:
    correlations = pairwise_correlations(predictions)
    if correlations.shape[0] < 2:
        raise InvalidInputError("pairwise correlation needs at least two submissions")
    np.fill_diagonal(correlations, np.nan)
    return correlations


def max_pairwise_correlation(predictions: ArrayLike) -> NDArray[np.float64]:
    """Per model, the largest correlation with any *other* submission: ``(n_models,)``."""
    correlations = _others(predictions)
    with np.errstate(invalid="ignore"):
        return np.where(
            np.isnan(correlations).all(axis=1),
            np.nan,
            np.nanmax(np.nan_to_num(correlations, nan=-np.inf), axis=1),
        )


def mean_pairwise_correlation(predictions: ArrayLike) -> NDArray[np.float64]:
    """Per model, the mean correlation with the other submissions (NaN pairs skipped): ``(n_models,)``."""
    correlations = _others(predictions)
    valid = ~np.isnan(correlations)
    count = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.where(valid, correlations, 0.0).sum(axis=1) / count, np.nan)
