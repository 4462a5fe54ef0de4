"""Stake-dropout bagging, the pandas edge and input errors of true_contribution (smooth optimizer)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kardashev.contribution import dropout_stakes, true_contribution
from kardashev.errors import AlignmentError, InvalidInputError

from .conftest import make_era


def test_bagged_tc_is_the_mean_of_exact_tcs_at_the_drawn_stakes(smooth_optimizer) -> None:
    era = make_era(seed=4, n_models=8)
    stakes = era.stakes.copy()
    stakes[5] = 0.0
    bagged = true_contribution(era.predictions, stakes, era.returns, era.exposures, None, bags=6, seed=11)
    again = true_contribution(era.predictions, stakes, era.returns, era.exposures, None, bags=6, seed=11)
    np.testing.assert_array_equal(bagged.tc, again.tc)
    assert bagged.bag_tc.shape == (6, 8)
    assert bagged.bag_stakes.shape == (6, 8)
    per_draw = []
    for b, drawn in enumerate(bagged.bag_stakes):
        assert (drawn[stakes > 0] == 0).sum() == 4  # half of the 7 staked models, rounded
        assert drawn[5] == 0.0
        exact = true_contribution(era.predictions, drawn, era.returns, era.exposures, None)
        np.testing.assert_allclose(bagged.bag_tc[b], exact.tc, rtol=1e-9, atol=1e-13)
        assert bagged.bag_realized_returns[b] == pytest.approx(exact.realized_return, rel=1e-12)
        per_draw.append(exact.tc)
    np.testing.assert_allclose(bagged.tc, np.mean(per_draw, axis=0), rtol=1e-9, atol=1e-13)
    unbagged = true_contribution(era.predictions, stakes, era.returns, era.exposures, None)
    np.testing.assert_allclose(bagged.exact_tc, unbagged.tc)


def test_dropout_keeps_at_least_one_staked_model() -> None:
    rng = np.random.default_rng(0)
    draws = dropout_stakes(np.array([0.0, 3.0, 0.0]), bags=5, dropout=0.9, rng=rng)
    np.testing.assert_array_equal(draws, np.tile([0.0, 3.0, 0.0], (5, 1)))
    draws = dropout_stakes(np.arange(1.0, 11.0), bags=50, dropout=0.3, rng=rng)
    assert ((draws == 0).sum(axis=1) == 3).all()
    assert len({tuple(d) for d in draws}) > 1


def test_frames_in_series_out(smooth_optimizer) -> None:
    era = make_era(seed=5, n_models=4)
    ids = pd.Index([f"stock{i:03d}" for i in range(era.returns.size)], name="id")
    models = ["alpha", "beta", "gamma", "delta"]
    predictions = pd.DataFrame(era.predictions, index=ids, columns=models)
    stakes = pd.Series(era.stakes, index=models).iloc[::-1]
    returns = pd.Series(era.returns, index=ids).sample(frac=1.0, random_state=0)
    exposures = pd.DataFrame(era.exposures, index=ids).iloc[::-1]
    result = true_contribution(predictions, stakes, returns, exposures, None)
    plain = true_contribution(era.predictions, era.stakes, era.returns, era.exposures, None)
    assert list(result.tc.index) == models
    np.testing.assert_allclose(result.tc.to_numpy(), plain.tc, rtol=1e-12)
    assert result.weights.index.equals(ids)
    assert result.to_frame().index.name == "model"
    assert result.realized_return == pytest.approx(plain.realized_return)


def test_bad_inputs_raise_clear_errors(smooth_optimizer) -> None:
    era = make_era(seed=6, n_models=3)
    args = (era.predictions, era.stakes, era.returns, era.exposures, None)
    nan_returns = era.returns.copy()
    nan_returns[3] = np.nan
    with pytest.raises(InvalidInputError, match="realized returns") as error:
        true_contribution(era.predictions, era.stakes, nan_returns, era.exposures, None)
    assert error.value.code == "invalid_realized_returns"
    with pytest.raises(InvalidInputError, match="negative"):
        true_contribution(era.predictions, [1.0, -1.0, 1.0], *args[2:])
    with pytest.raises(InvalidInputError, match="all stakes are 0"):
        true_contribution(era.predictions, [0.0, 0.0, 0.0], *args[2:])
    with pytest.raises(InvalidInputError, match="one value per stock"):
        true_contribution(era.predictions, era.stakes, era.returns[:-1], era.exposures, None)
    with pytest.raises(InvalidInputError, match="exposures"):
        true_contribution(era.predictions, era.stakes, era.returns, era.exposures[:-2], None)
    with pytest.raises(InvalidInputError, match="bags"):
        true_contribution(*args, bags=-1)
    with pytest.raises(InvalidInputError, match="dropout"):
        true_contribution(*args, bags=2, dropout=1.0)
    ids = [f"s{i}" for i in range(era.returns.size)]
    frame = pd.DataFrame(era.predictions, index=ids, columns=["a", "b", "c"])
    shifted = pd.Series(era.returns, index=[f"x{i}" for i in range(era.returns.size)])
    with pytest.raises(AlignmentError, match="realized returns are missing"):
        true_contribution(frame, era.stakes, shifted, pd.DataFrame(era.exposures, index=ids), None)


def test_bags_with_a_progress_bar_and_a_generator_seed(smooth_optimizer) -> None:
    era = make_era(seed=7, n_models=5)
    args = (era.predictions, era.stakes, era.returns, era.exposures, None)
    shown = true_contribution(*args, bags=3, seed=np.random.default_rng(3), progress=True)
    quiet = true_contribution(*args, bags=3, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(shown.tc, quiet.tc)
    assert shown.to_frame().columns.tolist() == ["tc", "exact_tc", "bag_tc_std"]
    figure = shown.figure(count=3)
    assert len(figure.data[0].y) == 3
    largest = np.argsort(-np.abs(shown.tc))[:3]
    np.testing.assert_allclose(figure.data[0].y, shown.tc[largest])
    np.testing.assert_allclose(figure.data[0].error_y.array, shown.bag_tc.std(axis=0)[largest])
