"""The stake-weighted meta model: Kardashev's definition.

For one era with predictions ``P`` of shape ``(n_stocks, n_models)`` and stakes ``s`` of shape
``(n_models,)``::

    G = gaussianize(P)                  # column-wise Φ⁻¹(tie-kept rank), see kardashev.scoring
    m = G s / Σ s                       # stake-weighted blend (weights s/Σs)
    meta_model = (m − mean(m)) / std(m) # standardized: mean 0, std 1 (ddof 0)

Stakes must be finite and ≥ 0 with a positive sum. A model with stake 0 is in ``P`` but has no
weight. The array core (:func:`meta_model_from_gaussianized`, :func:`standardize`) works on
numpy arrays; :func:`stake_weighted_meta_model` also accepts a pandas DataFrame (index: stock ids,
columns: model names) with stakes as a Series aligned by model name, and then returns a Series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kardashev.data.era import Era
from kardashev.errors import AlignmentError, InvalidInputError
from kardashev.scoring.registry import gaussianize_predictions, with_gaussianized

__all__ = [
    "align_stakes",
    "as_prediction_matrix",
    "gaussianize_predictions",
    "meta_model_from_gaussianized",
    "meta_model_or_none",
    "naive_meta_model",
    "stake_weighted_meta_model",
    "standardize",
    "validate_stakes",
    "with_meta_model",
]


def validate_stakes(stakes: object, *, n_models: int | None = None) -> np.ndarray:
    """Return stakes as a float64 vector, or raise :class:`InvalidInputError`.

    Stakes must be one-dimensional, finite, non-negative, with a positive sum, and (when
    ``n_models`` is given) one per model.
    """
    try:
        values = np.asarray(stakes, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"stakes must be numbers: {exc}", code="invalid_stakes") from exc
    if values.ndim != 1:
        raise InvalidInputError(
            f"stakes must be a vector (one per model), got shape {values.shape}", code="invalid_stakes"
        )
    if n_models is not None and values.shape[0] != n_models:
        raise InvalidInputError(
            f"got {values.shape[0]} stakes for {n_models} models (one stake per prediction column)",
            code="shape_mismatch",
        )
    if values.shape[0] == 0:
        raise InvalidInputError("no models: stakes are empty", code="invalid_stakes")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InvalidInputError(
            f"stakes must be finite; model positions {bad[:5].tolist()} are NaN or infinite",
            code="invalid_stakes",
        )
    negative = np.flatnonzero(values < 0)
    if negative.size:
        raise InvalidInputError(
            f"stakes must be >= 0; model positions {negative[:5].tolist()} are negative",
            code="negative_stake",
        )
    if not values.sum() > 0:
        raise InvalidInputError(
            "all stakes are 0: the stake-weighted meta model is undefined", code="zero_stakes"
        )
    return values


def as_prediction_matrix(predictions: object) -> np.ndarray:
    """Return predictions as a finite ``(n_stocks, n_models)`` matrix (a vector is one model).

    float32 input stays float32 (ranking it is exact and faster); anything else becomes float64.
    """
    try:
        values = np.asarray(predictions)
        if values.dtype not in (np.float32, np.float64):
            values = values.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"predictions must be numbers: {exc}", code="invalid_predictions") from exc
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise InvalidInputError(
            f"predictions must be (n_stocks, n_models), got shape {values.shape}", code="shape_mismatch"
        )
    if values.shape[0] < 2 or values.shape[1] < 1:
        raise InvalidInputError(
            f"predictions need at least 2 stocks and 1 model, got shape {values.shape}",
            code="shape_mismatch",
        )
    if not np.isfinite(values).all():
        rows, cols = np.nonzero(~np.isfinite(values))
        raise InvalidInputError(
            f"predictions contain NaN or infinite values (first at stock row {rows[0]}, model column "
            f"{cols[0]}); fill or drop them before blending",
            code="invalid_predictions",
        )
    return values


def standardize(values: np.ndarray) -> np.ndarray:
    """``(x − mean x) / std x`` with ddof 0; a constant vector raises :class:`InvalidInputError`."""
    centered = values - values.mean()
    scale = float(np.sqrt(np.mean(centered * centered)))
    if not scale > 1e-12 * max(1.0, float(np.max(np.abs(values)))):
        raise InvalidInputError(
            "the meta model is constant across stocks, so it cannot be standardized "
            "(every staked model ranks all stocks the same)",
            code="constant_meta_model",
        )
    return centered / scale


def meta_model_from_gaussianized(gaussianized: np.ndarray, stakes: np.ndarray) -> np.ndarray:
    """Blend already-gaussianized predictions and standardize.

    Parameters
    ----------
    gaussianized
        ``G``, shape ``(n_stocks, n_models)``: each column Φ⁻¹ of its tie-kept rank.
    stakes
        ``s``, shape ``(n_models,)``, validated (≥ 0, positive sum).

    Returns
    -------
    numpy.ndarray
        ``standardize(G s / Σs)``, shape ``(n_stocks,)``.
    """
    blended = gaussianized @ (stakes / stakes.sum())
    return standardize(blended)


def align_stakes(model_names: pd.Index, stakes: object) -> np.ndarray:
    """Stakes in the order of ``model_names``: a Series is aligned by model name (extra names ignored)."""
    if isinstance(stakes, pd.Series):
        missing = model_names.difference(stakes.index)
        if len(missing):
            raise AlignmentError(
                f"no stake for models {list(missing[:5])} (stakes must be indexed by model name)",
                code="missing_stakes",
            )
        if not stakes.index.is_unique:
            raise AlignmentError("stakes index has duplicate model names", code="duplicate_models")
        return validate_stakes(stakes.reindex(model_names).to_numpy(), n_models=len(model_names))
    return validate_stakes(stakes, n_models=len(model_names))


def _check_frame(predictions: pd.DataFrame) -> None:
    if not predictions.index.is_unique:
        raise AlignmentError("predictions have duplicate stock ids in the index", code="duplicate_ids")
    if not predictions.columns.is_unique:
        raise AlignmentError("predictions have duplicate model columns", code="duplicate_models")


def stake_weighted_meta_model(
    predictions: np.ndarray | pd.DataFrame, stakes: object
) -> np.ndarray | pd.Series:
    """Kardashev's stake-weighted meta model for one era.

    Parameters
    ----------
    predictions
        ``(n_stocks, n_models)`` array, or a DataFrame indexed by stock id with one column per model.
    stakes
        ``(n_models,)`` stakes ≥ 0 with a positive sum; with a DataFrame, a Series indexed by model
        name (aligned by name; stakes of models without predictions are ignored) or a plain vector.

    Returns
    -------
    numpy.ndarray or pandas.Series
        ``standardize(gaussianize(P) s / Σs)``: mean 0, std 1; a Series named ``"meta_model"``
        indexed by stock id when ``predictions`` is a DataFrame.

    Raises
    ------
    InvalidInputError
        Negative, NaN or all-zero stakes; NaN predictions; a stake count that differs from the
        number of models; a meta model that is constant.
    """
    if isinstance(predictions, pd.DataFrame):
        _check_frame(predictions)
        stake_vector = align_stakes(predictions.columns, stakes)
        matrix = as_prediction_matrix(predictions.to_numpy())
        values = meta_model_from_gaussianized(gaussianize_predictions(matrix), stake_vector)
        return pd.Series(values, index=predictions.index, name="meta_model")
    matrix = as_prediction_matrix(predictions)
    stake_vector = validate_stakes(stakes, n_models=matrix.shape[1])
    return meta_model_from_gaussianized(gaussianize_predictions(matrix), stake_vector)


def naive_meta_model(predictions: np.ndarray | pd.DataFrame) -> np.ndarray | pd.Series:
    """The equal-weight meta model: :func:`stake_weighted_meta_model` with every stake 1."""
    n_models = predictions.shape[1] if np.ndim(predictions) == 2 else 1
    return stake_weighted_meta_model(predictions, np.ones(n_models))


def meta_model_or_none(gaussianized: np.ndarray, stakes: np.ndarray) -> np.ndarray | None:
    """:func:`meta_model_from_gaussianized`, or ``None`` when the blend is constant across stocks
    (the submissions cancel out: there is no meta model to add to)."""
    try:
        return meta_model_from_gaussianized(gaussianized, np.asarray(stakes, dtype=np.float64))
    except InvalidInputError as exc:
        if exc.code != "constant_meta_model":
            raise
        return None


def with_meta_model(era: Era) -> Era:
    """``era`` carrying its meta model, blended from the era's one gaussianization.

    Stake-weighted (:func:`meta_model_from_gaussianized`) when the era's stakes have a positive total,
    else the naive equal-weight blend; ``meta_model`` stays ``None`` when the predictions cancel out
    into a constant. An era that already has a meta model is returned as is.
    """
    if era.meta_model is not None or era.predictions is None:
        return era
    era = with_gaussianized(era)
    assert era.gaussianized is not None  # for mypy: NaN-free predictions are gaussianized
    stakes = era.stakes if era.stakes is not None and era.has("stakes") else np.ones(era.n_models)
    meta = meta_model_or_none(era.gaussianized, stakes)
    return era if meta is None else era.with_(meta_model=meta)
