"""Contribution scores: MMC / BMC (``correlation_contribution``) and ``neutral_contribution``.

BMC is ``correlation_contribution`` against a benchmark model instead of the meta model.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kardashev.scoring.alignment import DEFAULT_MAX_FILTERED_RATIO, as_float_array, as_matrix, complete_rows
from kardashev.scoring.correlation import top_bottom_rows
from kardashev.scoring.neutralization import NeutralizerBasis, neutralize, neutralizer_basis
from kardashev.scoring.ranking import gaussianize

__all__ = ["contribution_scores", "correlation_contribution", "neutral_contribution", "orthogonalize"]


def orthogonalize(values: NDArray[np.float64], direction: NDArray[np.float64]) -> NDArray[np.float64]:
    """Remove from each column of ``values`` its projection on ``direction``.

    ``v⊥ = v - u (vᵀu)/(uᵀu)`` for ``values`` ``(n, k)`` and ``direction`` ``(n,)``.
    """
    return values - np.outer(direction, (values.T @ direction) / (direction @ direction))


def contribution_scores(
    neutral_predictions: NDArray[np.float64], targets: NDArray[np.float64], *, top_bottom: int | None = None
) -> NDArray[np.float64]:
    """Covariance of orthogonalized predictions with the target: ``center(t)ᵀ P⊥ / n``.

    If every target lies in [0, 1] it is first multiplied by 4 (buckets −2 … 2 after centering).
    With ``top_bottom = k`` each column only counts its ``k`` lowest and ``k`` highest rows:
    ``Σ_sel center(t)·p⊥ / (2k)``.

    Parameters
    ----------
    neutral_predictions
        ``(n, k)`` orthogonalized predictions.
    targets
        ``(n,)`` without NaN.

    Returns
    -------
    ``(k,)`` contributions.
    """
    if targets.size and np.all((targets >= 0) & (targets <= 1)):
        targets = targets * 4
    centered = targets - targets.mean() if targets.size else targets
    if top_bottom is not None and top_bottom > 0:
        return np.array(
            [
                centered[rows] @ neutral_predictions[rows, j] / (2 * top_bottom)
                for j, rows in enumerate(top_bottom_rows(neutral_predictions, top_bottom))
            ]
        )
    return (centered @ neutral_predictions) / len(centered)


def correlation_contribution(
    predictions: ArrayLike,
    meta_model: ArrayLike,
    targets: ArrayLike,
    *,
    top_bottom: int | None = None,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> NDArray[np.float64] | float:
    """MMC (or BMC with a benchmark in place of the meta model).

    Rows with a NaN in any input dropped; ``p̃ = Φ⁻¹(tkr(p))``, ``m̃ = Φ⁻¹(tkr(m))``;
    ``p⊥ = p̃ - m̃ (p̃·m̃)/(m̃·m̃)``; ``score = center(t')·p⊥ / n`` with ``t' = 4t`` when all
    targets lie in [0, 1].

    Parameters
    ----------
    predictions
        ``(n_stocks, n_models)`` or ``(n_stocks,)``.
    meta_model
        ``(n_stocks,)`` the meta model (or benchmark) predictions.
    targets
        ``(n_stocks,)``.

    Returns
    -------
    ``(n_models,)`` contributions (float for 1-D predictions).
    """
    matrix, was_1d = as_matrix(predictions, name="predictions")
    meta = as_float_array(meta_model, name="meta_model", ndim=(1,))
    target = as_float_array(targets, name="targets", ndim=(1,))
    keep = complete_rows(
        [("targets", target), ("predictions", matrix), ("meta_model", meta)],
        max_filtered_ratio=max_filtered_ratio,
    )
    p = gaussianize(matrix[keep])
    m = gaussianize(meta[keep])
    with np.errstate(invalid="ignore", divide="ignore"):
        result = contribution_scores(orthogonalize(p, m), target[keep], top_bottom=top_bottom)
    return float(result[0]) if was_1d else result


def neutral_contribution(
    predictions: ArrayLike,
    meta_model: ArrayLike,
    neutralizers: ArrayLike,
    targets: ArrayLike,
    *,
    top_bottom: int | None = None,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> NDArray[np.float64] | float:
    """MMC after neutralizing both the predictions and the meta model against ``neutralizers``.

    ``p̃ = neutralize(Φ⁻¹(tkr(p)), N)``, ``m̃ = neutralize(Φ⁻¹(tkr(m)), N)``, then as
    :func:`correlation_contribution`. No 1.5 powers, no variance normalization.

    Parameters
    ----------
    predictions
        ``(n_stocks, n_models)`` or ``(n_stocks,)``.
    meta_model
        ``(n_stocks,)``.
    neutralizers
        ``(n_stocks, k)``.
    targets
        ``(n_stocks,)``.

    Returns
    -------
    ``(n_models,)`` (float for 1-D predictions).
    """
    matrix, was_1d = as_matrix(predictions, name="predictions")
    meta = as_float_array(meta_model, name="meta_model", ndim=(1,))
    neutralizer_matrix, _ = as_matrix(neutralizers, name="neutralizers")
    target = as_float_array(targets, name="targets", ndim=(1,))
    keep = complete_rows(
        [
            ("targets", target),
            ("predictions", matrix),
            ("meta_model", meta),
            ("neutralizers", neutralizer_matrix),
        ],
        max_filtered_ratio=max_filtered_ratio,
    )
    basis: NeutralizerBasis = neutralizer_basis(neutralizer_matrix[keep])
    p = neutralize(gaussianize(matrix[keep]), basis)
    m = neutralize(gaussianize(meta[keep]), basis)
    with np.errstate(invalid="ignore", divide="ignore"):
        result = contribution_scores(orthogonalize(p, m), target[keep], top_bottom=top_bottom)
    return float(result[0]) if was_1d else result
