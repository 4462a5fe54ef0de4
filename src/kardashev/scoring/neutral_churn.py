"""Neutral churn: churn between two eras' signals after neutralizing each against its era's factors.

``neutral_churn = 1 - spearman(r₁, r₂)`` with ``rₑ = neutralize(Φ⁻¹(tkr(sₑ)), Nₑ)``, each era's signal
ranked and neutralized over its own complete rows, then compared on the rows both have. Numerai
Signals keeps ``neutral_churn_penalty(mean neutral churn)`` of a positive payout:
``min(1, 2 / (1 + exp(k·(c - θ))))`` (threshold ``θ = 0.1``, scaling ``k = 10``), the definitions of
numerai-tools 0.7.2. pandas wrappers with its names are in :mod:`kardashev.scoring.frames`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kardashev.errors import InvalidInputError
from kardashev.scoring.alignment import DEFAULT_MAX_FILTERED_RATIO, as_float_array, as_matrix, complete_rows
from kardashev.scoring.churn import churn
from kardashev.scoring.neutralization import neutralize
from kardashev.scoring.ranking import gaussianize

__all__ = [
    "NEUTRAL_CHURN_SCALING_FACTOR",
    "NEUTRAL_CHURN_THRESHOLD",
    "neutral_churn",
    "neutral_churn_penalty",
    "neutral_signal",
]

NEUTRAL_CHURN_THRESHOLD = 0.1
NEUTRAL_CHURN_SCALING_FACTOR = 10.0


def neutral_signal(
    signal: ArrayLike,
    neutralizers: ArrayLike,
    *,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> NDArray[np.float64]:
    """``neutralize(Φ⁻¹(tkr(s)), N)`` over the rows where the signal and ``N`` are complete.

    Parameters
    ----------
    signal
        ``(n_stocks,)``.
    neutralizers
        ``(n_stocks, k)``, rows aligned with ``signal``.

    Returns
    -------
    ``(n_stocks,)``: NaN on dropped rows, and everywhere for a constant signal.
    """
    values = as_float_array(signal, name="signal", ndim=(1,))
    matrix, _ = as_matrix(neutralizers, name="neutralizers")
    keep = complete_rows(
        [("signal", values), ("neutralizers", matrix)], max_filtered_ratio=max_filtered_ratio
    )
    result = np.full(values.shape, np.nan)
    result[keep] = neutralize(gaussianize(values[keep]), matrix[keep])
    return result


def neutral_churn(
    first: ArrayLike,
    second: ArrayLike,
    first_neutralizers: ArrayLike,
    second_neutralizers: ArrayLike,
    *,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> float:
    """``1 - spearman`` of the two eras' neutral signals (:func:`neutral_signal`), in ``[0, 2]``.

    All four inputs are row-aligned (row ``i`` is the same stock); rows a signal or its
    neutralizers lack are dropped for that era, then the eras are compared on their common rows.

    Raises
    ------
    AlignmentError
        Too many rows lost (a constant signal loses every row).
    InvalidInputError
        A neutral signal is constant on the common rows.
    """
    return churn(
        neutral_signal(first, first_neutralizers, max_filtered_ratio=max_filtered_ratio),
        neutral_signal(second, second_neutralizers, max_filtered_ratio=max_filtered_ratio),
        max_filtered_ratio=max_filtered_ratio,
    )


def neutral_churn_penalty(
    neutral_churn: ArrayLike,
    threshold: float = NEUTRAL_CHURN_THRESHOLD,
    scaling_factor: float = NEUTRAL_CHURN_SCALING_FACTOR,
) -> NDArray[np.float64] | float:
    """Fraction of a positive payout kept: 1 up to ``threshold``, then ``2e / (1 + e)``,
    ``e = exp(-scaling_factor·(neutral_churn - threshold))`` (the capped logistic without overflow).

    Parameters
    ----------
    neutral_churn
        A churn in ``[0, 2]`` or an array of them.
    threshold
        Churn up to which the whole payout is kept, in ``[0, 2]``.
    scaling_factor
        How fast the kept fraction falls, > 0.

    Raises
    ------
    InvalidInputError
        A value outside those ranges or not finite (numerai-tools asserts).
    """
    churns = as_float_array(neutral_churn, name="neutral_churn", ndim=(0, 1))
    if not (np.all(np.isfinite(churns)) and np.all((churns >= 0) & (churns <= 2))):
        raise InvalidInputError("neutral_churn must be finite and between 0 and 2", code="invalid_churn")
    if not (math.isfinite(threshold) and 0 <= threshold <= 2):
        raise InvalidInputError("threshold must be finite and between 0 and 2", code="invalid_churn")
    if not (math.isfinite(scaling_factor) and scaling_factor > 0):
        raise InvalidInputError("scaling_factor must be finite and positive", code="invalid_churn")
    if churns.ndim == 0:
        value = float(churns)
        if value <= threshold:
            return 1.0
        decay = math.exp(-scaling_factor * (value - threshold))
        return 2 * decay / (1 + decay)
    decays = np.exp(-scaling_factor * np.maximum(churns - threshold, 0.0))
    return np.where(churns <= threshold, 1.0, 2 * decays / (1 + decays))
