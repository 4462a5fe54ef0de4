"""The stake-weighted meta model against numerai-tools' gaussian + stake_weight."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numerai_tools.scoring import gaussian, stake_weight, tie_kept_rank

from kardashev.errors import AlignmentError, InvalidInputError
from kardashev.metamodel import naive_meta_model, stake_weighted_meta_model, standardize


def _frame(rng: np.random.Generator, n_stocks: int = 60, n_models: int = 5) -> pd.DataFrame:
    ids = [f"id{i:03d}" for i in range(n_stocks)]
    values = rng.random((n_stocks, n_models)).round(2)  # rounding creates ties
    return pd.DataFrame(values, index=ids, columns=[f"model_{k}" for k in range(n_models)])


def _reference(predictions: pd.DataFrame, stakes: pd.Series) -> pd.Series:
    blended = stake_weight(gaussian(tie_kept_rank(predictions)), stakes)
    return (blended - blended.mean()) / blended.std(ddof=0)


def test_matches_numerai_tools_with_ties_and_a_zero_stake() -> None:
    predictions = _frame(np.random.default_rng(1))
    stakes = pd.Series([3.0, 0.0, 1.5, 10.0, 0.25], index=predictions.columns)
    meta_model = stake_weighted_meta_model(predictions, stakes)
    assert isinstance(meta_model, pd.Series)
    assert meta_model.index.equals(predictions.index)
    np.testing.assert_allclose(meta_model.to_numpy(), _reference(predictions, stakes).to_numpy(), atol=1e-12)
    assert abs(meta_model.mean()) < 1e-12
    assert meta_model.std(ddof=0) == pytest.approx(1.0, abs=1e-12)


def test_stakes_series_is_aligned_by_model_name_and_extra_models_are_ignored() -> None:
    predictions = _frame(np.random.default_rng(2))
    stakes = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0], index=predictions.columns)
    shuffled = pd.concat([stakes.iloc[::-1], pd.Series({"not_submitted": 99.0})])
    np.testing.assert_allclose(
        stake_weighted_meta_model(predictions, shuffled), stake_weighted_meta_model(predictions, stakes)
    )


def test_array_input_gives_array_and_naive_is_equal_weights() -> None:
    predictions = _frame(np.random.default_rng(3))
    array_result = stake_weighted_meta_model(predictions.to_numpy(), np.ones(5))
    assert isinstance(array_result, np.ndarray)
    np.testing.assert_allclose(array_result, naive_meta_model(predictions).to_numpy())
    np.testing.assert_allclose(naive_meta_model(predictions.to_numpy()), array_result)


def test_one_model_is_its_own_gaussianized_standardized_prediction() -> None:
    values = np.random.default_rng(4).random(40)
    gaussianized = gaussian(tie_kept_rank(pd.DataFrame({"p": values}))).to_numpy()[:, 0]
    expected = (gaussianized - gaussianized.mean()) / gaussianized.std()
    np.testing.assert_allclose(stake_weighted_meta_model(values, [7.0]), expected, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(scale=st.floats(1e-6, 1e6), seed=st.integers(0, 2**16))
def test_scaling_all_stakes_changes_nothing(scale: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    predictions = rng.random((30, 4))
    stakes = rng.random(4) + 0.1
    np.testing.assert_allclose(
        stake_weighted_meta_model(predictions, stakes * scale),
        stake_weighted_meta_model(predictions, stakes),
        atol=1e-9,
    )


@pytest.mark.parametrize(
    ("stakes", "code"),
    [
        ([1.0, -1.0, 2.0], "negative_stake"),
        ([0.0, 0.0, 0.0], "zero_stakes"),
        ([1.0, np.nan, 2.0], "invalid_stakes"),
        ([1.0, 2.0], "shape_mismatch"),
        ([[1.0, 2.0, 3.0]], "invalid_stakes"),
    ],
)
def test_bad_stakes_raise_clear_errors(stakes: list, code: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        stake_weighted_meta_model(np.random.default_rng(0).random((10, 3)), stakes)
    assert error.value.code == code


def test_bad_predictions_raise_clear_errors() -> None:
    predictions = np.random.default_rng(0).random((10, 3))
    predictions[4, 1] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        stake_weighted_meta_model(predictions, [1.0, 1.0, 1.0])
    with pytest.raises(InvalidInputError, match="shape"):
        stake_weighted_meta_model(np.zeros((2, 3, 4)), [1.0, 1.0, 1.0])
    frame = _frame(np.random.default_rng(5), n_models=2)
    with pytest.raises(AlignmentError, match="model_1"):
        stake_weighted_meta_model(frame, pd.Series({"model_0": 1.0}))
    with pytest.raises(InvalidInputError, match="constant"):
        stake_weighted_meta_model(np.ones((10, 2)), [1.0, 1.0])


def test_standardize_rejects_a_constant_vector() -> None:
    np.testing.assert_allclose(standardize(np.array([1.0, 3.0])), [-1.0, 1.0])
    with pytest.raises(InvalidInputError):
        standardize(np.full(5, 2.0))
