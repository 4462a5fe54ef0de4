"""Stake weighting of predictions into a meta model."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kardashev.errors import InvalidInputError
from kardashev.scoring.alignment import as_float_array

__all__ = ["stake_weight"]


def stake_weight(predictions: ArrayLike, stakes: ArrayLike) -> NDArray[np.float64]:
    """Stake-weighted average of the prediction columns: ``Σ_k s_k P[:, k] / Σ_k s_k``.

    As in numerai-tools, a NaN prediction (or NaN stake) contributes nothing to the numerator,
    while the denominator is the sum of all known stakes; no ranking is applied here.

    Parameters
    ----------
    predictions
        ``(n_stocks, n_models)``.
    stakes
        ``(n_models,)``.

    Returns
    -------
    ``(n_stocks,)`` meta model.

    Raises
    ------
    InvalidInputError
        Shapes disagree, or the stakes sum to zero.
    """
    matrix = as_float_array(predictions, name="predictions", ndim=(2,))
    stake_vector = as_float_array(stakes, name="stakes", ndim=(1,))
    if matrix.shape[1] != stake_vector.shape[0]:
        raise InvalidInputError(
            f"predictions have {matrix.shape[1]} model columns but {stake_vector.shape[0]} stakes were given"
        )
    total = np.nansum(stake_vector)
    if total == 0:
        raise InvalidInputError("stakes sum to zero: the stake-weighted meta model is undefined")
    weighted = matrix * stake_vector
    return np.where(np.isnan(weighted), 0.0, weighted).sum(axis=1) / total
