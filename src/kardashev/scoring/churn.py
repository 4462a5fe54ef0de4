"""Churn between two rankings and turnover between two portfolios (Signals rules)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from kardashev.errors import InvalidInputError
from kardashev.scoring.alignment import DEFAULT_MAX_FILTERED_RATIO, as_float_array, complete_rows
from kardashev.scoring.correlation import pearson_matrix
from kardashev.scoring.ranking import tie_kept_rank

__all__ = ["churn", "turnover"]


def _top_bottom_sets(values: np.ndarray, top_bottom: int) -> tuple[set[int], set[int]]:
    # numerai-tools' order: a stable argsort with NaN last, so NaN rows count among the top names
    order = np.argsort(values, kind="stable")
    return set(order[-top_bottom:].tolist()), set(order[:top_bottom].tolist())


def churn(
    first: ArrayLike,
    second: ArrayLike,
    *,
    top_bottom: int | None = None,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> float:
    """Churn between two signals on the same rows: ``1 - spearman(first, second)`` (0 … 2).

    With ``top_bottom = k`` it is instead ``1 - (|top_k ∩ top_k'| + |bot_k ∩ bot_k'|) / (2k)``, the share
    of the k highest and k lowest names that changed (ties broken by row order; as in numerai-tools a
    NaN sorts above every number, so NaN rows count among the top names).

    Parameters
    ----------
    first, second
        ``(n_stocks,)`` signals, rows aligned; rows with a NaN in either are dropped (Spearman form).
    top_bottom
        Number of top and bottom names compared, or ``None`` for the Spearman form.

    Raises
    ------
    InvalidInputError
        A signal is constant (Spearman undefined), or ``top_bottom`` is not positive.
    AlignmentError
        More than ``max_filtered_ratio`` of the rows have a NaN.
    """
    a = as_float_array(first, name="first", ndim=(1,))
    b = as_float_array(second, name="second", ndim=(1,))
    if a.shape != b.shape:
        raise InvalidInputError(f"signals must have the same length, got {a.shape[0]} and {b.shape[0]}")
    if top_bottom is not None and top_bottom > 0:
        top_a, bottom_a = _top_bottom_sets(a, top_bottom)
        top_b, bottom_b = _top_bottom_sets(b, top_bottom)
        overlap = (len(top_a & top_b) / top_bottom + len(bottom_a & bottom_b) / top_bottom) / 2
        return 1 - overlap
    keep = complete_rows([("first", a), ("second", b)], max_filtered_ratio=max_filtered_ratio)
    a, b = a[keep], b[keep]
    for name, values in (("first", a), ("second", b)):
        if values.size < 2 or values.max() == values.min():
            raise InvalidInputError(f"{name} signal is constant: churn (1 - Spearman) is undefined")
    spearman = pearson_matrix(tie_kept_rank(a), tie_kept_rank(b))[0, 0]
    return float(1 - spearman)


def turnover(
    first_weights: ArrayLike,
    second_weights: ArrayLike,
    *,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> float:
    """Portfolio turnover ``Σ|w1 - w2| / 2`` over the rows where both weights are known.

    Parameters
    ----------
    first_weights, second_weights
        ``(n_stocks,)`` portfolio weights, rows aligned.
    """
    a = as_float_array(first_weights, name="first_weights", ndim=(1,))
    b = as_float_array(second_weights, name="second_weights", ndim=(1,))
    if a.shape != b.shape:
        raise InvalidInputError(f"weights must have the same length, got {a.shape[0]} and {b.shape[0]}")
    keep = complete_rows([("first_weights", a), ("second_weights", b)], max_filtered_ratio=max_filtered_ratio)
    return float(np.abs(a[keep] - b[keep]).sum() / 2)
