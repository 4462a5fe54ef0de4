"""Hypothesis properties of the scores (definitions, not implementations, are the reference)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kardashev.scoring import (
    churn,
    correlation_contribution,
    feature_neutral_corr,
    gaussianize,
    neutral_correlation,
    neutralize,
    numerai_corr,
    pearson_matrix,
)

SETTINGS = settings(max_examples=25, deadline=None)


@st.composite
def eras(draw: st.DrawFn, n_models: int = 4) -> dict[str, np.ndarray]:
    """A random era: continuous predictions (distinct values), bucket targets, int features."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_stocks = draw(st.integers(40, 120))
    rng = np.random.default_rng(seed)
    return {
        "predictions": rng.normal(size=(n_stocks, n_models)),
        "meta_model": rng.normal(size=n_stocks),
        "targets": rng.integers(0, 5, n_stocks) / 4,
        "features": rng.integers(0, 5, (n_stocks, 4)).astype(float),
    }


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(pearson_matrix(a, b)[0, 0])


@SETTINGS
@given(eras(n_models=6))
def test_mmc_is_proportional_to_the_derivative_of_meta_model_corr(era: dict[str, np.ndarray]) -> None:
    """d/dε corr(t, (1-ε)m̃ + εp̃) at 0 equals MMC · n / (‖t_c‖ ‖m̃‖), the same factor for every model."""
    targets = era["targets"]
    assume(np.ptp(targets) > 0)
    mmc = correlation_contribution(era["predictions"], era["meta_model"], targets)
    p, m = gaussianize(era["predictions"]), gaussianize(era["meta_model"])
    epsilon = 1e-6
    derivative = np.array(
        [
            (
                _corr(targets, (1 - epsilon) * m + epsilon * p[:, k])
                - _corr(targets, (1 + epsilon) * m - epsilon * p[:, k])
            )
            / (2 * epsilon)
            for k in range(p.shape[1])
        ]
    )
    centered = 4 * targets - (4 * targets).mean()
    factor = len(targets) / (np.linalg.norm(centered) * np.linalg.norm(m))
    np.testing.assert_allclose(derivative, factor * mmc, rtol=1e-4, atol=1e-8)
    assert _corr(derivative, mmc) > 0.9999


@SETTINGS
@given(eras(), st.sampled_from(["exp", "cube", "affine", "arctan"]))
def test_rank_based_scores_are_invariant_to_increasing_transforms(
    era: dict[str, np.ndarray], transform: str
) -> None:
    predictions = era["predictions"]
    transformed = {
        "exp": np.exp(predictions / 4),
        "cube": predictions**3 + predictions,
        "affine": 2.5 * predictions - 7,
        "arctan": np.arctan(predictions),
    }[transform]
    assume(np.all(np.diff(np.sort(transformed, axis=0), axis=0) > 0))  # no ties created by rounding
    for score in (
        lambda p: numerai_corr(p, era["targets"]),
        lambda p: correlation_contribution(p, era["meta_model"], era["targets"]),
        lambda p: feature_neutral_corr(p, era["features"], era["targets"]),
        lambda p: neutral_correlation(p, era["features"], era["targets"]),
    ):
        np.testing.assert_array_equal(score(transformed), score(predictions))
    assert churn(transformed[:, 0], predictions[:, 1]) == churn(predictions[:, 0], predictions[:, 1])


@SETTINGS
@given(eras(), st.floats(0.0, 1.0))
def test_neutralized_predictions_have_no_exposure_left(era: dict[str, np.ndarray], proportion: float) -> None:
    predictions, features = era["predictions"], era["features"]
    assume(np.all(np.ptp(features, axis=0) > 0))
    neutral = neutralize(predictions, features, proportion=proportion)
    centered_features = features - features.mean(axis=0)
    # covariance with every neutralizer shrinks by exactly (1 - proportion); zero at proportion 1
    np.testing.assert_allclose(
        centered_features.T @ neutral,
        (1 - proportion) * centered_features.T @ (predictions - predictions.mean(axis=0)),
        atol=1e-8,
    )
    fully = neutralize(predictions, features)
    assert np.abs(pearson_matrix(features, fully)).max() < 1e-9


@SETTINGS
@given(arrays(np.float64, st.integers(3, 50), elements=st.floats(-1e3, 1e3), unique=True))
def test_gaussianized_column_is_standard_and_symmetric(values: np.ndarray) -> None:
    """Distinct values gaussianize to quantiles symmetric around zero."""
    gauss = gaussianize(values)
    assert abs(gauss.sum()) < 1e-9 * len(values)
    np.testing.assert_allclose(np.sort(gauss), -np.sort(gauss)[::-1], atol=1e-12)


@SETTINGS
@given(eras())
def test_meta_model_has_zero_contribution_to_itself(era: dict[str, np.ndarray]) -> None:
    assume(np.ptp(era["targets"]) > 0)
    self_mmc = correlation_contribution(era["meta_model"], era["meta_model"], era["targets"])
    assert abs(self_mmc) < 1e-12
