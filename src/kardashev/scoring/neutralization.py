"""Neutralization against a set of neutralizers (features, factors) and the scores built on it.

``neutralize(X, N, proportion) = X - proportion·[N, 1]·β`` with ``β`` the minimum-norm least
squares solution (``rcond = 1e-6``, as ``numpy.linalg.lstsq`` in numerai-tools). The projection is
computed from one thin QR of ``[N, 1]`` followed by an SVD of the small ``R`` factor, so one
:class:`NeutralizerBasis` serves any number of prediction columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kardashev.errors import InvalidInputError
from kardashev.scoring.alignment import DEFAULT_MAX_FILTERED_RATIO, as_float_array, as_matrix, complete_rows
from kardashev.scoring.correlation import numerai_corr, pearson_matrix
from kardashev.scoring.ranking import gaussianize

__all__ = [
    "NeutralizerBasis",
    "feature_neutral_corr",
    "neutral_correlation",
    "neutralize",
    "neutralizer_basis",
    "variance_normalize",
]

LSTSQ_RCOND = 1e-6


@dataclass(frozen=True)
class NeutralizerBasis:
    """Orthonormal basis of the column space of ``[N, 1]`` (numerical rank only).

    Attributes
    ----------
    basis
        ``(n_stocks, rank)`` orthonormal columns ``U_r``; the projection of ``X`` is ``U_r U_rᵀ X``.
    """

    basis: NDArray[np.float64]

    @property
    def n_stocks(self) -> int:
        return int(self.basis.shape[0])

    def project(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """``U_r U_rᵀ X`` for ``X`` of shape ``(n_stocks, k)``."""
        return self.basis @ (self.basis.T @ values)


def neutralizer_basis(neutralizers: ArrayLike, *, rcond: float = LSTSQ_RCOND) -> NeutralizerBasis:
    """Factor ``A = [N, 1]`` once: ``A = Q R``, ``R = U Σ Vᵀ``, keep ``σ > rcond·σ_max``, ``U_r = Q U[:, r]``.

    Parameters
    ----------
    neutralizers
        ``(n_stocks, k)`` or ``(n_stocks,)`` neutralizer values, no NaN.
    rcond
        Relative cut-off of small singular values (numpy ``lstsq``'s meaning).

    Returns
    -------
    :class:`NeutralizerBasis`
    """
    matrix, _ = as_matrix(neutralizers, name="neutralizers")
    if np.isnan(matrix).any():
        raise InvalidInputError("neutralizers contain NaN", code="nan_neutralizers")
    augmented = np.hstack([matrix, np.ones((matrix.shape[0], 1))])
    if augmented.shape[0] >= augmented.shape[1]:
        q, r = np.linalg.qr(augmented)
        u, singular, _ = np.linalg.svd(r)
        left = q @ u
    else:
        left, singular, _ = np.linalg.svd(augmented, full_matrices=False)
    keep = singular > rcond * singular.max(initial=0.0)
    return NeutralizerBasis(basis=np.ascontiguousarray(left[:, keep]))


def _constant_columns(matrix: NDArray[np.float64]) -> NDArray[np.bool_]:
    if matrix.shape[0] < 2:
        return np.zeros(matrix.shape[1], dtype=bool)
    return matrix.max(axis=0) == matrix.min(axis=0)


def neutralize(
    values: ArrayLike,
    neutralizers: ArrayLike | NeutralizerBasis,
    *,
    proportion: float = 1.0,
) -> NDArray[np.float64]:
    """Remove ``proportion`` of each column's least-squares fit on ``[neutralizers, 1]``.

    ``X - proportion·[N, 1]·β``, ``β = argmin ‖[N, 1]β - X‖`` (minimum norm, ``rcond=1e-6``).
    A constant column comes out NaN.

    Parameters
    ----------
    values
        ``(n_stocks, n_models)`` or ``(n_stocks,)``, no NaN.
    neutralizers
        ``(n_stocks, k)`` array, or a precomputed :class:`NeutralizerBasis` for the same rows.
    proportion
        Fraction of the fit removed, usually in [0, 1].

    Returns
    -------
    Array of the shape of ``values``.
    """
    matrix, was_1d = as_matrix(values, name="values")
    if np.isnan(matrix).any():
        raise InvalidInputError("values to neutralize contain NaN", code="nan_values")
    basis = neutralizers if isinstance(neutralizers, NeutralizerBasis) else neutralizer_basis(neutralizers)
    if basis.n_stocks != matrix.shape[0]:
        raise InvalidInputError(
            f"values have {matrix.shape[0]} rows but the neutralizers have {basis.n_stocks}"
        )
    constant = _constant_columns(matrix)
    neutral = matrix - proportion * basis.project(matrix)
    neutral[:, constant] = np.nan
    return neutral[:, 0] if was_1d else neutral


def variance_normalize(values: ArrayLike) -> NDArray[np.float64]:
    """Divide each column by its standard deviation (ddof 0): ``X / std(X)``."""
    array = as_float_array(values, name="values")
    with np.errstate(invalid="ignore", divide="ignore"):
        return array / np.std(array, axis=0)


def neutral_correlation(
    predictions: ArrayLike,
    neutralizers: ArrayLike,
    targets: ArrayLike,
    *,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> NDArray[np.float64] | float:
    """Correlation of neutralized gaussianized predictions with the centered target.

    ``t_c = t - mean(t)`` over non-NaN targets; rows with a NaN anywhere dropped;
    ``score = pearson(t_c, neutralize(Φ⁻¹(tkr(p)), N))``. No 1.5 powers.

    Parameters
    ----------
    predictions
        ``(n_stocks, n_models)`` or ``(n_stocks,)``.
    neutralizers
        ``(n_stocks, k)``.
    targets
        ``(n_stocks,)``.

    Returns
    -------
    ``(n_models,)`` (float for 1-D predictions).
    """
    matrix, was_1d = as_matrix(predictions, name="predictions")
    neutralizer_matrix, _ = as_matrix(neutralizers, name="neutralizers")
    target = as_float_array(targets, name="targets", ndim=(1,))
    centered = target - np.nanmean(target) if target.size else target
    keep = complete_rows(
        [("targets", centered), ("predictions", matrix), ("neutralizers", neutralizer_matrix)],
        max_filtered_ratio=max_filtered_ratio,
    )
    neutral = neutralize(gaussianize(matrix[keep]), neutralizer_matrix[keep])
    result = pearson_matrix(neutral, centered[keep])[:, 0]
    return float(result[0]) if was_1d else result


def feature_neutral_corr(
    predictions: ArrayLike,
    features: ArrayLike | NeutralizerBasis,
    targets: ArrayLike,
    *,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> NDArray[np.float64] | float:
    """FNC: ``numerai_corr(variance_normalize(neutralize(Φ⁻¹(tkr(p)), F)), t)``.

    The predictions are ranked and neutralized over the rows where predictions and features are
    complete; the targets then enter ``numerai_corr`` (centered over all their non-NaN values,
    rows with NaN targets dropped), as in numerai-tools.

    Parameters
    ----------
    predictions
        ``(n_stocks, n_models)`` or ``(n_stocks,)``.
    features
        ``(n_stocks, n_features)``, or a :class:`NeutralizerBasis` of them (then predictions must
        have no NaN).
    targets
        ``(n_stocks,)``.

    Returns
    -------
    ``(n_models,)`` (float for 1-D predictions).
    """
    matrix, was_1d = as_matrix(predictions, name="predictions")
    target = as_float_array(targets, name="targets", ndim=(1,))
    if isinstance(features, NeutralizerBasis):
        basis = features
        keep = complete_rows([("predictions", matrix)], max_filtered_ratio=max_filtered_ratio)
        if not keep.all():
            raise InvalidInputError("predictions contain NaN; pass the features array instead of a basis")
    else:
        feature_matrix, _ = as_matrix(features, name="features")
        keep = complete_rows(
            [("predictions", matrix), ("features", feature_matrix)], max_filtered_ratio=max_filtered_ratio
        )
        basis = neutralizer_basis(feature_matrix[keep])
    if target.shape[0] != matrix.shape[0]:
        raise InvalidInputError(f"predictions have {matrix.shape[0]} rows but targets have {target.shape[0]}")
    neutral = np.full(matrix.shape, np.nan)
    neutral[keep] = variance_normalize(neutralize(gaussianize(matrix[keep]), basis))
    # constant columns are NaN after neutralizing: score them NaN without dropping rows of the others
    constant = np.isnan(neutral[keep]).all(axis=0) if keep.any() else np.ones(matrix.shape[1], dtype=bool)
    result = np.full(matrix.shape[1], np.nan)
    if (~constant).any():
        result[~constant] = numerai_corr(neutral[:, ~constant], target, max_filtered_ratio=max_filtered_ratio)
    return float(result[0]) if was_1d else result
