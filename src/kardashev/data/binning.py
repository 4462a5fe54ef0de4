"""Per-era ranking and quantile binning, Numerai style.

Numerai publishes features as five equal quantile bins coded ``0..4`` (``int8``) and
targets as five unequal bins ``0, .25, .5, .75, 1`` holding about 5 / 20 / 50 / 20 / 5 %
of an era's stocks. Both are computed here from raw values of one era.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FEATURE_BIN_EDGES",
    "TARGET_BIN_EDGES",
    "TARGET_BIN_VALUES",
    "bin_features",
    "bin_targets",
    "percentile_rank",
]

#: cumulative shares where a feature bin ends (five equal bins)
FEATURE_BIN_EDGES = (0.2, 0.4, 0.6, 0.8)
#: cumulative shares where a target bin ends (5 / 20 / 50 / 20 / 5 %)
TARGET_BIN_EDGES = (0.05, 0.25, 0.75, 0.95)
#: the values of the five target bins
TARGET_BIN_VALUES = (0.0, 0.25, 0.5, 0.75, 1.0)


def percentile_rank(values: np.ndarray) -> np.ndarray:
    """Column-wise percentile ranks in (0, 1), ties averaged.

    ``p = (rank - 0.5) / n`` with ``rank`` the 1-based average rank of each row in its
    column, so the ranks of ``n`` distinct values are ``1/2n, 3/2n, …, 1 - 1/2n``.
    NaN values stay NaN and are not counted in ``n``.

    Parameters
    ----------
    values : (n,) or (n, k) float array
    """
    from scipy.stats import rankdata  # here: scipy.stats costs ~0.9 s to import, most commands never bin

    values = np.asarray(values, dtype=float)
    ranks = rankdata(values, axis=0, method="average", nan_policy="omit")
    counts = np.sum(~np.isnan(values), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ranks - 0.5) / counts


def _bin(values: np.ndarray, edges: tuple[float, ...]) -> np.ndarray:
    p = percentile_rank(values)
    return np.searchsorted(np.asarray(edges), p, side="right").astype(np.int8)


def bin_features(values: np.ndarray) -> np.ndarray:
    """Bin raw feature values of one era into five equal quantile bins ``0..4`` (int8), per column."""
    binned = _bin(values, FEATURE_BIN_EDGES)
    if np.isnan(np.asarray(values, dtype=float)).any():
        raise ValueError("bin_features: NaN values cannot be binned")
    return binned


def bin_targets(values: np.ndarray) -> np.ndarray:
    """Bin raw forward returns of one era into ``0, .25, .5, .75, 1`` (5 / 20 / 50 / 20 / 5 %), per column."""
    codes = _bin(values, TARGET_BIN_EDGES)
    return np.asarray(TARGET_BIN_VALUES)[codes]
