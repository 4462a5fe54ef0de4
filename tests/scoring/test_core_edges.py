"""Edge cases of the array core: alignment, stakes, churn, signals inputs."""

from __future__ import annotations

import numpy as np
import pytest

from kardashev.errors import AlignmentError, InvalidInputError
from kardashev.scoring import (
    alpha,
    churn,
    correlation_contribution,
    meta_portfolio_contribution,
    neutralized_weights,
    numerai_corr,
    stake_weight,
    turnover,
)


def test_one_dimensional_predictions_give_a_float() -> None:
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 5, 50) / 4
    value = numerai_corr(rng.random(50), targets)
    assert isinstance(value, float)
    assert isinstance(correlation_contribution(rng.random(50), rng.random(50), targets), float)


def test_nan_rows_dropped_until_twenty_percent() -> None:
    rng = np.random.default_rng(1)
    predictions, targets = rng.random((50, 2)), rng.integers(0, 5, 50) / 4
    predictions[:10, 0] = np.nan  # exactly 20% lost: allowed
    assert np.isfinite(numerai_corr(predictions, targets)).all()
    predictions[10, 1] = np.nan  # 22% lost
    with pytest.raises(AlignmentError, match="at least 80%"):
        numerai_corr(predictions, targets)
    assert np.isfinite(numerai_corr(predictions, targets, max_filtered_ratio=0.5)).all()
    with pytest.raises(InvalidInputError, match="same number of rows"):
        numerai_corr(predictions, targets[:-1])


def test_stake_weight() -> None:
    predictions = np.array([[1.0, 0.0], [np.nan, 1.0]])
    np.testing.assert_allclose(stake_weight(predictions, [3.0, 1.0]), [0.75, 0.25])  # NaN counts as 0
    with pytest.raises(InvalidInputError, match="sum to zero"):
        stake_weight(predictions, [0.0, 0.0])
    with pytest.raises(InvalidInputError, match="stakes"):
        stake_weight(predictions, [1.0])


def test_churn_and_turnover_edges() -> None:
    first = np.arange(10.0)
    assert churn(first, first) == pytest.approx(0.0)
    assert churn(first, -first) == pytest.approx(2.0)
    assert churn(first, first[::-1], top_bottom=3) == 1.0
    assert churn(first, first + 1, top_bottom=3) == 0.0
    with pytest.raises(InvalidInputError, match="constant"):
        churn(first, np.ones(10))
    assert turnover([0.5, -0.5, 0.0], [0.0, -0.5, 0.5]) == 0.5
    with pytest.raises(InvalidInputError, match="same length"):
        turnover([0.1], [0.1, 0.2])


def test_signals_inputs() -> None:
    rng = np.random.default_rng(2)
    predictions, neutralizers, weights = rng.random((30, 2)), rng.normal(size=(30, 3)), rng.random(30)
    targets = rng.normal(size=30)
    bad = neutralizers.copy()
    bad[0, 0] = np.nan
    with pytest.raises(InvalidInputError, match="neutralizers contain NaN"):
        alpha(predictions, bad, weights, targets)
    with pytest.raises(InvalidInputError, match="non-negative"):
        meta_portfolio_contribution(predictions, [1.0, -1.0], neutralizers, weights, targets)
    normalized = neutralized_weights(predictions, neutralizers, weights, center_and_normalize=True)
    np.testing.assert_allclose(np.abs(normalized).sum(axis=0), 1.0)
    np.testing.assert_allclose(normalized.mean(axis=0), 0.0, atol=1e-15)
