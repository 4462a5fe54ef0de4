"""Feature exposure and pairwise similarity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kardashev.errors import InvalidInputError
from kardashev.scoring import (
    feature_exposures,
    max_feature_correlation,
    max_feature_exposure,
    max_pairwise_correlation,
    mean_pairwise_correlation,
    pairwise_correlations,
    rms_feature_exposure,
)


def test_exposures_match_pandas() -> None:
    rng = np.random.default_rng(0)
    predictions = rng.random((80, 3))
    features = rng.integers(0, 5, (80, 4)).astype(float)
    features[:, 2] = 1.0  # constant feature: undefined exposure
    exposures = feature_exposures(predictions, features)
    expected = pd.DataFrame(features).apply(lambda f: pd.DataFrame(predictions).corrwith(f)).to_numpy().T
    np.testing.assert_allclose(exposures, expected, atol=1e-12, equal_nan=True)
    magnitude = np.abs(np.delete(expected, 2, axis=0))
    np.testing.assert_allclose(max_feature_exposure(predictions, features), magnitude.max(axis=0))
    np.testing.assert_allclose(
        rms_feature_exposure(predictions, features), np.sqrt((magnitude**2).mean(axis=0))
    )
    index, value = max_feature_correlation(predictions[:, 0], features)
    assert value == pytest.approx(magnitude[:, 0].max()) and index != 2
    assert isinstance(max_feature_exposure(predictions[:, 0], features), float)


def test_pairwise() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=100)
    predictions = np.column_stack([base, base + 0.1 * rng.normal(size=100), rng.normal(size=100)])
    matrix = pairwise_correlations(predictions)
    np.testing.assert_allclose(matrix, np.corrcoef(predictions.T), atol=1e-12)
    np.testing.assert_allclose(
        max_pairwise_correlation(predictions), [matrix[0, 1], matrix[0, 1], max(matrix[2, :2])]
    )
    np.testing.assert_allclose(mean_pairwise_correlation(predictions)[2], (matrix[2, 0] + matrix[2, 1]) / 2)


def test_errors() -> None:
    with pytest.raises(InvalidInputError, match="two submissions"):
        max_pairwise_correlation(np.ones((5, 1)))
    with pytest.raises(InvalidInputError, match="NaN"):
        feature_exposures(np.array([1.0, np.nan, 2.0]), np.ones((3, 2)))
    with pytest.raises(InvalidInputError, match="constant"):
        max_feature_correlation(np.array([1.0, 2.0, 3.0]), np.ones((3, 2)))
