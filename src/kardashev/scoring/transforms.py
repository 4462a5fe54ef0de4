"""Column transforms of numerai-tools' ``scoring`` module that the scores build on.

Array core: every function works column-wise on ``(n_stocks, n_models)`` arrays and also takes
``(n_stocks,)`` arrays. NaN is skipped the way pandas skips it (a NaN stays NaN and is not counted
in ranks, means, sums, extremes or standard deviations), so the pandas wrappers in
:mod:`kardashev.scoring.frames` return numerai-tools' numbers. Inputs are never modified.

- ``rank(x, method)``: ``(rank_method(x) - 0.5) / count(x)`` with pandas' ``average``, ``min``,
  ``max``, ``first`` (ties broken by row order) or ``dense`` ranks (``scipy.stats.rankdata``).
- ``gaussian(x)``: the normal quantile ``Φ⁻¹(x)`` of the raw values (``0 → -inf``, ``1 → +inf``,
  outside ``[0, 1]`` NaN); :func:`kardashev.scoring.gaussianize` is ``gaussian(tie_kept_rank(x))``.
- ``power(x, p)``: ``sign(x)·|x|**p``, refused when it would decorrelate a column (numerai-tools'
  check: every non-constant column keeps a Pearson correlation ≥ 0.9 with its input).
- ``center``, ``min_max_normalize``, ``weight_normalize``, ``standardize``, ``variance_normalize``.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

from kardashev.errors import InvalidInputError
from kardashev.scoring.alignment import as_float_array
from kardashev.scoring.ranking import tie_kept_rank

__all__ = [
    "RANK_METHODS",
    "RankMethod",
    "center",
    "gaussian",
    "min_max_normalize",
    "power",
    "rank",
    "standardize",
    "tie_broken_rank",
    "variance_normalize",
    "weight_normalize",
]

RankMethod = Literal["average", "min", "max", "first", "dense"]
RANK_METHODS: tuple[str, ...] = ("average", "min", "max", "first", "dense")
_SCIPY_METHOD = {"average": "average", "min": "min", "max": "max", "first": "ordinal", "dense": "dense"}
POWER_MIN_CORRELATION = 0.9


def rank(values: ArrayLike, *, method: RankMethod = "average") -> NDArray[np.float64]:
    """Percentile rank of each column: ``(rank(x) - 0.5) / count(x)`` (pandas' rank methods).

    Parameters
    ----------
    values
        ``(n_stocks,)`` or ``(n_stocks, n_models)``; NaN stays NaN and is not counted.
    method
        ``average`` (ties share their mean rank), ``min``, ``max``, ``first`` (ties broken by row
        order) or ``dense`` (ranks of the distinct values).

    Raises
    ------
    InvalidInputError
        An unknown ``method``.
    """
    if method not in _SCIPY_METHOD:
        raise InvalidInputError(
            f"unknown rank method {method!r}; expected one of {', '.join(RANK_METHODS)}", code="rank_method"
        )
    array = as_float_array(values, name="values")
    if method == "average":
        return tie_kept_rank(array)
    if array.shape[0] == 0:
        return array.copy()
    from scipy.stats import rankdata  # here: scipy.stats costs ~0.9 s to import

    ranks = np.asarray(rankdata(array, method=_SCIPY_METHOD[method], axis=0, nan_policy="omit"), dtype=float)
    counts = (~np.isnan(array)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ranks - 0.5) / counts


def tie_broken_rank(values: ArrayLike) -> NDArray[np.float64]:
    """``rank(values, method="first")``: ties broken by row order (id order for sorted ids)."""
    return rank(values, method="first")


def gaussian(values: ArrayLike) -> NDArray[np.float64]:
    """``Φ⁻¹(x)`` element-wise on the raw values (numerai-tools' ``gaussian``; no ranking)."""
    return np.asarray(ndtri(as_float_array(values, name="values", ndim=(0, 1, 2))), dtype=np.float64)


def center(values: ArrayLike) -> NDArray[np.float64]:
    """``x - mean(x)`` per column, the mean over the non-NaN values."""
    array = as_float_array(values, name="values")
    return array - _nan_reduce(np.nanmean, array)


def min_max_normalize(values: ArrayLike) -> NDArray[np.float64]:
    """``(x - min(x)) / (max(x) - min(x))`` per column (a constant column gives NaN)."""
    array = as_float_array(values, name="values")
    low, high = _nan_reduce(np.nanmin, array), _nan_reduce(np.nanmax, array)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (array - low) / (high - low)


def weight_normalize(values: ArrayLike) -> NDArray[np.float64]:
    """``x / Σ|x|`` per column (NaN skipped in the sum)."""
    array = as_float_array(values, name="values")
    with np.errstate(invalid="ignore", divide="ignore"):
        return array / np.nansum(np.abs(array), axis=0)


def variance_normalize(values: ArrayLike) -> NDArray[np.float64]:
    """``x / std(x)`` per column, population std (ddof 0) over the non-NaN values."""
    array = as_float_array(values, name="values")
    with np.errstate(invalid="ignore", divide="ignore"):
        return array / _nan_reduce(np.nanstd, array)


def standardize(values: ArrayLike) -> NDArray[np.float64]:
    """``variance_normalize(center(x))``: mean 0 and std 1 per column."""
    return variance_normalize(center(values))


def power(values: ArrayLike, p: float) -> NDArray[np.float64]:
    """Signed power ``sign(x)·|x|**p`` per column, checked as numerai-tools checks it.

    Raises
    ------
    InvalidInputError
        ``nan_values`` for a NaN; ``power_decorrelates`` when a non-constant column of the result
        correlates below 0.9 with its input (numerai-tools asserts).
    """
    array = as_float_array(values, name="values")
    if np.isnan(array).any():
        raise InvalidInputError("data to raise to a power contains NaN", code="nan_values")
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        result = np.sign(array) * np.abs(array) ** float(p)
    matrix, raw = (result[:, None], array[:, None]) if result.ndim == 1 else (result, array)
    # pandas' ``std() == 0`` and ``corrwith`` formulas, so that borderline columns go the same way
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        n = matrix.shape[0]
        constant = np.std(matrix, axis=0, ddof=1) == 0
        a = matrix - matrix.mean(axis=0)
        b = raw - raw.mean(axis=0)
        denominator = (n - 1) * np.std(matrix, axis=0, ddof=1) * np.std(raw, axis=0, ddof=1)
        correlation = (a * b).sum(axis=0) / denominator
    bad = ~(constant | (correlation >= POWER_MIN_CORRELATION))
    if bad.any():
        raise InvalidInputError(
            f"raising to the power {p} leaves {int(bad.sum())} columns correlated below "
            f"{POWER_MIN_CORRELATION} with the input (columns {np.flatnonzero(bad)[:5].tolist()})",
            code="power_decorrelates",
        )
    return result


def _nan_reduce(function, array: NDArray[np.float64]) -> NDArray[np.float64]:
    """``function(array, axis=0)``; an all-NaN or empty column gives NaN without a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return function(array, axis=0)
