"""Signals scores: alpha and the meta portfolio contribution (MPC).

Both turn each signal into portfolio-like weights ``w = (s' - N(Nᵀ(v∘s')))∘v`` with
``s' = pow(Φ⁻¹(tkr(p)), 1.5)``, neutralizer matrix ``N`` and universe sample weights ``v``.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray

from kardashev.errors import InvalidInputError
from kardashev.scoring.alignment import DEFAULT_MAX_FILTERED_RATIO, as_float_array, as_matrix, complete_rows
from kardashev.scoring.contribution import orthogonalize
from kardashev.scoring.ranking import tie_kept_rank_gauss_pow15

__all__ = [
    "alpha",
    "meta_portfolio_contribution",
    "neutralized_weights",
    "orthonormal_neutralizers",
    "portfolio_gradient",
    "weights_from_ranked",
]


def orthonormal_neutralizers(
    exposures: ArrayLike,
    sample_weights: ArrayLike | None = None,
    *,
    add_intercept: bool = False,
    rcond: float = 1e-10,
) -> NDArray[np.float64]:
    """Neutralizer matrix ``N`` for Signals' scores from raw exposures: ``Nᵀ diag(v) N = I``.

    Signals' neutralized weights ``s' - N(Nᵀ(v∘s'))`` are a (``v``-weighted) projection only when
    ``N`` is orthonormal in that sense; raw exposure columns (country and sector one-hots, which are
    collinear with the ones column, beta, size …) are not. ``N`` spans the columns of ``exposures``
    (plus the ones column when ``add_intercept``); dependent directions are dropped by a pivoted QR
    of ``diag(√v)·X`` with a relative cut ``rcond`` on its diagonal.

    Parameters
    ----------
    exposures
        ``X``, ``(n_stocks, k)``, finite.
    sample_weights
        ``v``, ``(n_stocks,)``, finite and > 0; default all ones.

    Returns
    -------
    ``(n_stocks, rank)`` array ``N``.
    """
    matrix, _ = as_matrix(exposures, name="exposures")
    n_stocks = matrix.shape[0]
    if add_intercept:
        matrix = np.column_stack([matrix, np.ones(n_stocks)])
    if not np.all(np.isfinite(matrix)):
        raise InvalidInputError("exposures must be finite (found NaN or inf)")
    weights = (
        np.ones(n_stocks)
        if sample_weights is None
        else as_float_array(sample_weights, name="sample_weights", ndim=(1,))
    )
    if weights.shape != (n_stocks,) or not np.all(np.isfinite(weights)) or np.any(weights <= 0):
        raise InvalidInputError(f"sample_weights must be {n_stocks} finite positive numbers")
    if matrix.shape[1] == 0:
        return np.zeros((n_stocks, 0))
    root = np.sqrt(weights)
    basis, triangular, _ = scipy.linalg.qr(matrix * root[:, None], mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(triangular))
    rank = int((diagonal > rcond * diagonal[0]).sum()) if diagonal.size and diagonal[0] > 0 else 0
    return basis[:, :rank] / root[:, None]


def neutralized_weights(
    predictions: ArrayLike,
    neutralizers: ArrayLike,
    sample_weights: ArrayLike,
    *,
    center_and_normalize: bool = False,
) -> NDArray[np.float64]:
    """Signals' neutralized portfolio weights, one column per model.

    ``s' = pow(Φ⁻¹(tkr(p)), 1.5)``; ``w = (s' - N(Nᵀ(v∘s')))∘v``; optionally ``w ← c/Σ|c|`` with
    ``c = w - mean(w)``.

    Parameters
    ----------
    predictions
        ``(n_stocks, n_models)`` or ``(n_stocks,)``, no NaN.
    neutralizers
        ``(n_stocks, k)`` neutralizer matrix ``N``, no NaN.
    sample_weights
        ``(n_stocks,)`` universe sampling weights ``v``, no NaN.

    Returns
    -------
    Array of the shape of ``predictions``.
    """
    matrix, was_1d = as_matrix(predictions, name="predictions")
    neutralizer_matrix, _ = as_matrix(neutralizers, name="neutralizers")
    weights = as_float_array(sample_weights, name="sample_weights", ndim=(1,))
    for name, values in (
        ("predictions", matrix),
        ("neutralizers", neutralizer_matrix),
        ("sample_weights", weights),
    ):
        if np.isnan(values).any():
            raise InvalidInputError(f"{name} contain NaN", code="nan_values")
        if values.shape[0] != matrix.shape[0]:
            raise InvalidInputError(f"{name} have {values.shape[0]} rows, predictions have {matrix.shape[0]}")
    result = weights_from_ranked(
        tie_kept_rank_gauss_pow15(matrix),
        neutralizer_matrix,
        weights,
        center_and_normalize=center_and_normalize,
    )
    return result[:, 0] if was_1d else result


def weights_from_ranked(
    ranked: NDArray[np.float64],
    neutralizers: NDArray[np.float64],
    sample_weights: NDArray[np.float64],
    *,
    center_and_normalize: bool = False,
) -> NDArray[np.float64]:
    """``(s' - N(Nᵀ(v∘s')))∘v`` for already transformed signals ``s'`` ``(n, m)`` (then ``c/Σ|c|``)."""
    weights = sample_weights[:, None]
    result = (ranked - neutralizers @ (neutralizers.T @ (weights * ranked))) * weights
    if center_and_normalize:
        centered = result - result.mean(axis=0)
        result = centered / np.abs(centered).sum(axis=0)
    return result


def portfolio_gradient(
    signal_weights: NDArray[np.float64],
    stake_weights: NDArray[np.float64],
    centered_target: NDArray[np.float64],
) -> NDArray[np.float64]:
    """MPC from the neutralized weights ``W`` ``(n, m)``, normalized stakes and the centered target."""
    centered_weights = signal_weights - signal_weights.mean(axis=0, keepdims=True)
    portfolio = centered_weights @ stake_weights
    portfolio = portfolio - portfolio.mean()
    norm = np.sqrt(np.sum(portfolio**2))
    residual = orthogonalize(centered_weights, portfolio)
    return (residual.T @ centered_target) / norm / 50


def alpha(
    predictions: ArrayLike,
    neutralizers: ArrayLike,
    sample_weights: ArrayLike,
    targets: ArrayLike,
    *,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> NDArray[np.float64] | float:
    """Signals alpha: ``w·center(t) / n`` with ``w`` the neutralized weights of each signal.

    The target is centered over all its non-NaN values, then rows with a NaN prediction or target
    are dropped (the signal is ranked over the remaining rows).

    Parameters
    ----------
    predictions
        ``(n_stocks, n_models)`` or ``(n_stocks,)``.
    neutralizers
        ``(n_stocks, k)``, no NaN.
    sample_weights
        ``(n_stocks,)``, no NaN.
    targets
        ``(n_stocks,)`` e.g. realized returns.

    Returns
    -------
    ``(n_models,)`` (float for 1-D predictions).
    """
    matrix, was_1d = as_matrix(predictions, name="predictions")
    neutralizer_matrix, _ = as_matrix(neutralizers, name="neutralizers")
    weights = as_float_array(sample_weights, name="sample_weights", ndim=(1,))
    target = as_float_array(targets, name="targets", ndim=(1,))
    centered = target - np.nanmean(target) if target.size else target
    keep = complete_rows(
        [("predictions", matrix), ("targets", centered)], max_filtered_ratio=max_filtered_ratio
    )
    if neutralizer_matrix.shape[0] != matrix.shape[0] or weights.shape[0] != matrix.shape[0]:
        raise InvalidInputError(
            "neutralizers and sample_weights must have one row per stock of the predictions"
        )
    signal_weights = neutralized_weights(matrix[keep], neutralizer_matrix[keep], weights[keep])
    result = (centered[keep] @ signal_weights) / int(keep.sum())
    return float(result[0]) if was_1d else result


def meta_portfolio_contribution(
    predictions: ArrayLike,
    stakes: ArrayLike,
    neutralizers: ArrayLike,
    sample_weights: ArrayLike,
    targets: ArrayLike,
    *,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> NDArray[np.float64]:
    """MPC: the gradient of the stake-weighted portfolio's score ``(v·t)/(50‖v‖)`` w.r.t. the stakes.

    ``W`` neutralized weights (one column per model), ``W_c = W - mean(W)``, ``s = stakes/Σ|stakes|``,
    ``v = W_c s - mean(W_c s)``, ``MPC = ((I - v vᵀ/‖v‖²) W_c)ᵀ center(t) / (50‖v‖)``.

    Parameters
    ----------
    predictions
        ``(n_stocks, n_models)``; rows with a NaN prediction or target are dropped.
    stakes
        ``(n_models,)``; NaN counts as 0; must not sum to zero in absolute value.
    neutralizers
        ``(n_stocks, k)``.
    sample_weights
        ``(n_stocks,)``.
    targets
        ``(n_stocks,)``.

    Returns
    -------
    ``(n_models,)``.
    """
    matrix = as_float_array(predictions, name="predictions", ndim=(2,))
    stake_vector = np.nan_to_num(as_float_array(stakes, name="stakes", ndim=(1,)), nan=0.0)
    neutralizer_matrix, _ = as_matrix(neutralizers, name="neutralizers")
    weights = as_float_array(sample_weights, name="sample_weights", ndim=(1,))
    target = as_float_array(targets, name="targets", ndim=(1,))
    if stake_vector.shape[0] != matrix.shape[1]:
        raise InvalidInputError(f"{stake_vector.shape[0]} stakes for {matrix.shape[1]} model columns")
    stake_weights = stake_vector / np.abs(stake_vector).sum()
    if not np.isclose(stake_weights.sum(), 1):
        raise InvalidInputError("stakes must be non-negative and not all zero", code="invalid_stakes")
    keep = complete_rows(
        [("predictions", matrix), ("targets", target)], max_filtered_ratio=max_filtered_ratio
    )
    if neutralizer_matrix.shape[0] != matrix.shape[0] or weights.shape[0] != matrix.shape[0]:
        raise InvalidInputError(
            "neutralizers and sample_weights must have one row per stock of the predictions"
        )
    centered_target = target[keep] - target[keep].mean()
    signal_weights = neutralized_weights(matrix[keep], neutralizer_matrix[keep], weights[keep])
    return portfolio_gradient(signal_weights, stake_weights, centered_target)
