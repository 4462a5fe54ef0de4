"""CORR (``numerai_corr``), plain Pearson correlation and correlation with the meta model (CWMM)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kardashev.errors import InvalidInputError
from kardashev.scoring.alignment import DEFAULT_MAX_FILTERED_RATIO, as_float_array, as_matrix, complete_rows
from kardashev.scoring.ranking import pow15, tie_kept_rank_gauss_pow15

__all__ = [
    "correlation_with_meta_model",
    "numerai_corr",
    "pearson_correlation",
    "pearson_matrix",
    "top_bottom_rows",
]


def pearson_matrix(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """Pearson correlation of every column of ``a`` with every column of ``b``.

    ``r[i, j] = Σ (a_i - ā_i)(b_j - b̄_j) / sqrt(Σ (a_i - ā_i)² · Σ (b_j - b̄_j)²)``

    Parameters
    ----------
    a
        ``(n, p)`` or ``(n,)``, no NaN.
    b
        ``(n, q)`` or ``(n,)``, no NaN.

    Returns
    -------
    ``(p, q)`` correlations; a constant column gives NaN.
    """
    a_matrix, _ = as_matrix(a, name="a")
    b_matrix, _ = as_matrix(b, name="b")
    if a_matrix.shape[0] != b_matrix.shape[0]:
        raise InvalidInputError(f"a has {a_matrix.shape[0]} rows but b has {b_matrix.shape[0]}")
    a_centered = a_matrix - a_matrix.mean(axis=0)
    b_centered = b_matrix - b_matrix.mean(axis=0)
    a_norm = np.sqrt(np.einsum("ij,ij->j", a_centered, a_centered))
    b_norm = np.sqrt(np.einsum("ij,ij->j", b_centered, b_centered))
    with np.errstate(invalid="ignore", divide="ignore"):
        result = (a_centered.T @ b_centered) / np.outer(a_norm, b_norm)
    # a column is constant iff it centers to exactly zero, or numerically so relative to its scale
    a_scale = np.abs(a_matrix).max(axis=0, initial=0.0)
    b_scale = np.abs(b_matrix).max(axis=0, initial=0.0)
    tiny = np.finfo(np.float64).eps * 4
    result[a_norm <= tiny * a_scale * np.sqrt(a_matrix.shape[0]), :] = np.nan
    result[:, b_norm <= tiny * b_scale * np.sqrt(b_matrix.shape[0])] = np.nan
    return np.clip(result, -1.0, 1.0)


def pearson_correlation(predictions: ArrayLike, target: ArrayLike) -> NDArray[np.float64] | float:
    """Pearson correlation of each prediction column with one target (rows aligned, no NaN).

    Parameters
    ----------
    predictions
        ``(n_stocks, n_models)`` or ``(n_stocks,)``.
    target
        ``(n_stocks,)``.

    Returns
    -------
    ``(n_models,)`` correlations, or a float for 1-D predictions; NaN for a constant column.
    """
    matrix, was_1d = as_matrix(predictions, name="predictions")
    result = pearson_matrix(matrix, as_float_array(target, name="target", ndim=(1,)))[:, 0]
    return float(result[0]) if was_1d else result


def numerai_corr(
    predictions: ArrayLike,
    targets: ArrayLike,
    *,
    target_pow15: bool = True,
    top_bottom: int | None = None,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> NDArray[np.float64] | float:
    """Numerai's canonical correlation CORR, per prediction column.

    ``t_c = t - mean(t)`` over all non-NaN targets; rows with a NaN in the targets or in any
    prediction column are then dropped; ``p' = pow(Φ⁻¹(tkr(p)), 1.5)``, ``t' = pow(t_c, 1.5)``
    (or ``t_c`` when ``target_pow15`` is false); ``CORR = pearson(p', t')``.

    Parameters
    ----------
    predictions
        ``(n_stocks, n_models)`` or ``(n_stocks,)``, rows aligned with ``targets``.
    targets
        ``(n_stocks,)`` e.g. in [0, 1] or raw returns (then use ``target_pow15=False``).
    target_pow15
        Raise the centered targets to the signed power 1.5.
    top_bottom
        If given (``k``), correlate over each column's ``k`` lowest and ``k`` highest transformed
        predictions only (ties broken by row order).
    max_filtered_ratio
        Largest fraction of rows that NaNs may remove.

    Returns
    -------
    ``(n_models,)`` scores (float for 1-D predictions); NaN for a constant prediction column.

    Raises
    ------
    AlignmentError
        More than ``max_filtered_ratio`` of the rows have a NaN.
    """
    matrix, was_1d = as_matrix(predictions, name="predictions")
    target = as_float_array(targets, name="targets", ndim=(1,))
    centered = target - np.nanmean(target) if target.size else target
    keep = complete_rows(
        [("targets", centered), ("predictions", matrix)], max_filtered_ratio=max_filtered_ratio
    )
    centered = centered[keep]
    transformed = tie_kept_rank_gauss_pow15(matrix[keep])
    target_used = pow15(centered) if target_pow15 else centered
    if top_bottom is not None and top_bottom > 0:
        result = np.array(
            [
                pearson_matrix(transformed[rows, j], target_used[rows])[0, 0]
                for j, rows in enumerate(top_bottom_rows(transformed, top_bottom))
            ]
        )
    else:
        result = pearson_matrix(transformed, target_used)[:, 0]
    return float(result[0]) if was_1d else result


def top_bottom_rows(values: NDArray[np.float64], top_bottom: int) -> list[NDArray[np.intp]]:
    """Per column of ``values`` ``(n, m)``, the rows of its ``k`` lowest and ``k`` highest values, sorted.

    Ties are broken by row order (a stable sort), as numerai-tools does on id-sorted data.
    """
    n = values.shape[0]
    if not 0 < 2 * top_bottom <= n:
        raise InvalidInputError(f"top_bottom={top_bottom} needs 2·top_bottom ≤ the {n} rows scored")
    order = np.argsort(values, axis=0, kind="stable")
    return [
        np.sort(np.concatenate([order[:top_bottom, j], order[-top_bottom:, j]]))
        for j in range(values.shape[1])
    ]


def correlation_with_meta_model(
    predictions: ArrayLike,
    meta_model: ArrayLike,
    *,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> NDArray[np.float64] | float:
    """CWMM: ``pearson(pow(Φ⁻¹(tkr(p)), 1.5), meta_model)`` per prediction column.

    Equal to ``numerai_corr(predictions, meta_model, target_pow15=False)``.

    Parameters
    ----------
    predictions
        ``(n_stocks, n_models)`` or ``(n_stocks,)``.
    meta_model
        ``(n_stocks,)`` meta model predictions, rows aligned.

    Returns
    -------
    ``(n_models,)`` correlations (float for 1-D predictions).
    """
    return numerai_corr(predictions, meta_model, target_pow15=False, max_filtered_ratio=max_filtered_ratio)
