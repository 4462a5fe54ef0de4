"""Neutralization against a set of neutralizers (features, factors) and the scores built on it.

``neutralize(X, N, proportion) = X - proportion·[N, 1]·β`` with ``β`` the minimum-norm least
squares solution, as ``numpy.linalg.lstsq(..., rcond=1e-6)`` in numerai-tools: the projection of
``X`` on the column space of ``[N, 1]``, leaving out directions whose singular value is below
``rcond·σ_max``.

One factorization per neutralizer matrix serves any number of prediction columns. Fast path: the
columns of ``N`` are centered (which splits off the intercept exactly) and scaled to unit norm,
``S``; the projection is ``mean(X) + S (SᵀS)⁻¹ Sᵀ X`` with ``SᵀS`` (k × k) inverted by Cholesky. It
is taken only when ``lstsq`` would cut nothing: an upper bound of the condition number of
``[N, 1]ᵀ[N, 1]``, rebuilt from the centered Gram matrix, the means and the norms, is far below the
cut (1e9 vs ``rcond⁻² = 1e12``). When ``N`` holds small integers (features in 0…4) the Gram
matrix and column sums are computed exactly in float32 (every partial sum is an integer below
``2²⁴``), the centering is folded into the small matrices and ``N`` itself is the basis.
Otherwise (constant, duplicated, collinear or badly scaled columns) the exact path is a thin QR
of ``[N, 1]`` and an SVD of its small ``R`` factor, truncated as
``lstsq`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import blas, lapack

from kardashev.errors import InvalidInputError
from kardashev.scoring.alignment import DEFAULT_MAX_FILTERED_RATIO, as_float_array, as_matrix, complete_rows
from kardashev.scoring.correlation import numerai_corr, pearson_matrix, top_bottom_rows
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
    """A factored neutralizer matrix ``[N, 1]``; :meth:`project` gives ``[N, 1]β`` for any ``X``.

    The projection is ``mean(X)·[with_mean] + B̃ W B̃ᵀ X`` with ``B̃ = B - 1·centersᵀ``.

    Attributes
    ----------
    basis
        ``(n_stocks, r)`` columns ``B``: the neutralizers themselves (fast path on small integers,
        centered implicitly by ``centers``), centered unit-norm neutralizers (fast path otherwise)
        or an orthonormal basis of the kept singular directions of ``[N, 1]`` (exact path).
    weights
        ``(r, r)`` ``W``: ``(B̃ᵀB̃)⁻¹`` (fast path) or the identity (exact path).
    with_mean
        Whether the intercept is handled by subtracting the mean (fast path).
    centers
        ``(r,)`` column means subtracted from ``B`` implicitly, or None (``B`` used as is).
    """

    basis: NDArray[np.float64]
    weights: NDArray[np.float64]
    with_mean: bool
    centers: NDArray[np.float64] | None = None

    @property
    def n_stocks(self) -> int:
        return int(self.basis.shape[0])

    def project(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Projection of each column of ``values`` ``(n_stocks, m)`` on the kept span of ``[N, 1]``."""
        inner = self.basis.T @ values
        if self.centers is not None:
            inner -= np.outer(self.centers, values.sum(axis=0))
        coefficients = self.weights @ inner
        projection = self.basis @ coefficients
        shift = values.mean(axis=0) if self.with_mean else np.zeros(values.shape[1])
        if self.centers is not None:
            shift -= self.centers @ coefficients
        return projection + shift if self.with_mean or self.centers is not None else projection

    def residual_rows(self, rows: NDArray[np.float64], *, overwrite: bool = False) -> NDArray[np.float64]:
        """``X - projection(X)`` for ``X`` given transposed, as rows ``(m, n_stocks)`` (returned so).

        With ``overwrite`` a C-contiguous float64 ``rows`` may be overwritten by the result (one
        ``gemm`` accumulating into it instead of a product and a subtraction).
        """
        row_sums = rows.sum(axis=1)
        inner = rows @ self.basis
        if self.centers is not None:
            inner -= np.outer(row_sums, self.centers)
        coefficients = inner @ self.weights
        basis = self.basis
        if overwrite and rows.dtype == np.float64 and rows.flags.c_contiguous and basis.dtype == np.float64:
            # Rᵀ = Xᵀ - B Cᵀ as a Fortran-ordered gemm on the transposed views (no copies)
            residual = blas.dgemm(
                -1.0, basis.T, coefficients.T, beta=1.0, c=rows.T, trans_a=1, overwrite_c=1
            ).T
        else:
            residual = coefficients @ basis.T
            np.subtract(rows, residual, out=residual)
        if self.with_mean or self.centers is not None:
            shift = row_sums / rows.shape[1] if self.with_mean else np.zeros(rows.shape[0])
            if self.centers is not None:
                shift -= coefficients @ self.centers
            residual -= shift[:, None]
        return residual


def neutralizer_basis(neutralizers: ArrayLike, *, rcond: float = LSTSQ_RCOND) -> NeutralizerBasis:
    """Factor ``[N, 1]`` once for :func:`neutralize` (see the module docstring for the method).

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
    n, k = matrix.shape
    integer_gram = _small_integer_gram(matrix) if n > k + 1 else None  # None for any NaN
    if integer_gram is None and np.isnan(matrix).any():
        raise InvalidInputError("neutralizers contain NaN", code="nan_neutralizers")
    if n > k + 1:
        if integer_gram is not None:
            sums, cross = integer_gram
            # n·(centered Gram) = n·FᵀF - s sᵀ is an integer below 2⁵³: exact; one rounding in / n
            centered_gram = (n * cross - np.outer(sums, sums)) / n
            norms = np.sqrt(np.diagonal(centered_gram))
            means = sums / n
            if np.all(norms > 0):
                gram = centered_gram / np.outer(norms, norms)
                inverse_gram = _fast_path_inverse(gram, means, norms, n, rcond)
                if inverse_gram is not None:
                    weights = inverse_gram / np.outer(norms, norms)
                    return NeutralizerBasis(basis=matrix, weights=weights, with_mean=True, centers=means)
        else:
            means = matrix.mean(axis=0)
            scaled = matrix - means  # centered …
            norms = np.sqrt(np.einsum("ij,ij->j", scaled, scaled))
            if np.all(norms > 0):
                scaled /= norms  # … and of unit norm
                gram = scaled.T @ scaled
                inverse_gram = _fast_path_inverse(gram, means, norms, n, rcond)
                if inverse_gram is not None:
                    return NeutralizerBasis(basis=scaled, weights=inverse_gram, with_mean=True)
    return _exact_basis(matrix, rcond)


# float32 sums of integer products are exact while every partial sum stays below 2²⁴
_FLOAT32_EXACT = 2**24


def _small_integer_gram(
    matrix: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Column sums ``s`` and Gram matrix ``FᵀF`` of ``F`` computed exactly in float32, or None.

    Exact when every entry is an integer in ``[-M, M]`` (``M ≤ 127``) and ``n·M² < 2²⁴``: then every
    product and every partial sum, in any order, is an integer below ``2²⁴`` and so exact in float32
    (also ``n·FᵀF`` and ``s sᵀ`` stay below ``2⁵³`` in float64). None when that cannot be guaranteed.
    """
    n = matrix.shape[0]
    if n == 0 or n >= _FLOAT32_EXACT:
        return None
    with np.errstate(invalid="ignore"):
        small = matrix.astype(np.int8)  # out-of-range or fractional values fail the comparison below
    if not np.array_equal(small, matrix):
        return None
    largest = max(-int(small.min(initial=0)), int(small.max(initial=0)))
    if n * largest * largest >= _FLOAT32_EXACT:
        return None
    single = small.astype(np.float32)
    sums = np.ones(n, dtype=np.float32) @ single  # partial sums below n·M < 2²⁴: exact
    return sums.astype(np.float64), (single.T @ single).astype(np.float64)


def _inverse_cholesky_factor(matrix: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """``L⁻¹`` for the Cholesky factor ``L`` of ``matrix`` (LAPACK potrf + trtri), None if not PD."""
    lower, info = lapack.dpotrf(matrix, lower=1, clean=1)
    if info != 0:
        return None
    lower_inverse, info = lapack.dtrtri(lower, lower=1, overwrite_c=1)
    if info != 0 or not np.all(np.isfinite(lower_inverse)):
        return None
    return np.asarray(lower_inverse)


def _fast_path_inverse(
    gram: NDArray[np.float64], means: NDArray[np.float64], norms: NDArray[np.float64], n: int, rcond: float
) -> NDArray[np.float64] | None:
    """``(SᵀS)⁻¹`` when ``lstsq`` on ``A = [N, 1]`` would keep every direction, else None.

    ``SᵀS`` is the Gram matrix of the centered unit-norm neutralizers. With ``D`` the norms and
    ``C = D SᵀS D`` the centered Gram matrix, ``AᵀA = [[C + n μμᵀ, n μ], [n μᵀ, n]]``, positive
    definite with ``tr((AᵀA)⁻¹) = tr(C⁻¹) + 1/n + μᵀC⁻¹μ`` (Schur complement of ``n``), so one
    Cholesky of ``SᵀS`` gives both condition bounds ``κ₂(M) ≤ ‖M‖_F·tr(M⁻¹)``, which must be
    below ``1e-3 · rcond⁻²`` for ``SᵀS`` and for ``AᵀA``.
    """
    max_condition = 1e-3 / rcond**2
    lower_inverse = _inverse_cholesky_factor(gram)
    if lower_inverse is None:
        return None
    k = gram.shape[0]
    raw_gram = np.empty((k + 1, k + 1))
    raw_gram[:k, :k] = norms[:, None] * gram * norms[None, :] + n * np.outer(means, means)
    raw_gram[:k, k] = raw_gram[k, :k] = n * means
    raw_gram[k, k] = n
    with np.errstate(all="ignore"):
        column_norms = np.einsum("ij,ij->j", lower_inverse, lower_inverse)  # diagonal of (SᵀS)⁻¹
        scaled_means = lower_inverse @ (means / norms)
        raw_trace = column_norms @ norms**-2.0 + 1.0 / n + scaled_means @ scaled_means
        gram_bound = np.linalg.norm(gram) * column_norms.sum()
        raw_bound = np.linalg.norm(raw_gram) * raw_trace
    if not (gram_bound < max_condition and raw_bound < max_condition):  # also rejects NaN / inf
        return None
    inverse, info = lapack.dlauum(lower_inverse, lower=1)  # L⁻ᵀL⁻¹, lower triangle
    if info != 0:
        return None
    inverse = np.tril(inverse)
    return inverse + np.tril(inverse, -1).T


def _exact_basis(matrix: NDArray[np.float64], rcond: float) -> NeutralizerBasis:
    """Orthonormal basis of the singular directions of ``[N, 1]`` kept by ``lstsq(rcond)``."""
    augmented = np.hstack([matrix, np.ones((matrix.shape[0], 1))])
    if augmented.shape[0] >= augmented.shape[1]:
        q, r = np.linalg.qr(augmented)
        left, singular, _ = np.linalg.svd(r)
        left = q @ left
    else:
        left, singular, _ = np.linalg.svd(augmented, full_matrices=False)
    kept = left[:, singular > rcond * singular.max(initial=0.0)]
    return NeutralizerBasis(basis=np.ascontiguousarray(kept), weights=np.eye(kept.shape[1]), with_mean=False)


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
    top_bottom: int | None = None,
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
    target = centered[keep]
    if top_bottom is not None and top_bottom > 0:
        result = np.array(
            [
                pearson_matrix(neutral[rows, j], target[rows])[0, 0]
                for j, rows in enumerate(top_bottom_rows(neutral, top_bottom))
            ]
        )
    else:
        result = pearson_matrix(neutral, target)[:, 0]
    return float(result[0]) if was_1d else result


def feature_neutral_corr(
    predictions: ArrayLike,
    features: ArrayLike | NeutralizerBasis,
    targets: ArrayLike,
    *,
    top_bottom: int | None = None,
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
        result[~constant] = numerai_corr(
            neutral[:, ~constant], target, top_bottom=top_bottom, max_filtered_ratio=max_filtered_ratio
        )
    return float(result[0]) if was_1d else result
