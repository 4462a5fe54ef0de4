"""True Return: each signal's own portfolio, before and after trading costs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kardashev.contribution import trading_cost, true_contribution, true_return
from kardashev.errors import InvalidInputError
from kardashev.metamodel import standardize
from kardashev.portfolio import OptimizerConfig, optimize
from kardashev.scoring import gaussianize

from .conftest import make_era
from .reference import reference_tc


def _costly_era():
    era = make_era(seed=21, n_stocks=60, n_models=4, n_exposures=2)
    previous = np.random.default_rng(21).normal(0, 0.01, 60)
    previous -= previous.mean()
    adv = np.random.default_rng(22).lognormal(15, 1, 60)
    config = OptimizerConfig(impact=0.5, spread=2e-4, signal_strength=6.0)
    return era, previous, adv, config


def test_each_model_is_optimized_alone_and_costs_match_the_objective() -> None:
    era, previous, adv, config = _costly_era()
    result = true_return(
        era.predictions, era.returns, era.exposures, config, previous_weights=previous, adv=adv
    )
    gaussianized = gaussianize(era.predictions)
    for k in range(4):
        alone = optimize(
            standardize(gaussianized[:, k]),
            exposures=era.exposures,
            previous_weights=previous,
            adv=adv,
            config=config,
        )
        np.testing.assert_allclose(result.weights[:, k], alone.weights, atol=1e-12)
        assert result.gross_return[k] == pytest.approx(era.returns @ alone.weights, rel=1e-12)
        # the optimizer's objective is αᵀw − γ wᵀΣw − cost: recover its cost independently
        risk = config.ridge_variance * alone.weights @ alone.weights
        alpha = alone.alpha_scale * standardize(gaussianized[:, k])
        objective_cost = alpha @ alone.weights - config.risk_aversion * risk - alone.objective
        assert result.trading_cost[k] == pytest.approx(objective_cost, rel=1e-8)
        assert result.turnover[k] == pytest.approx(np.abs(alone.weights - previous).sum())
    np.testing.assert_allclose(result.net_return, result.gross_return - result.trading_cost)
    assert (result.trading_cost > 0).all()
    assert (result.gross_leverage <= config.gross_leverage * (1 + 1e-9)).all()


def test_true_return_matches_cvxpy_and_a_one_model_meta_model() -> None:
    era = make_era(seed=23, n_stocks=70, n_models=3, n_exposures=3)
    config = OptimizerConfig()
    result = true_return(era.predictions, era.returns, era.exposures, config)
    gaussianized = gaussianize(era.predictions)
    for k in range(3):
        _, weights = reference_tc(gaussianized[:, [k]], np.ones(1), era.returns, era.exposures, config)
        assert np.abs(weights - result.weights[:, k]).sum() <= 1e-3 * np.abs(weights).sum()
        single = true_contribution(era.predictions[:, [k]], [1.0], era.returns, era.exposures, config)
        # same problem, solved cold here and warm-started in true_return: equal to solver tolerance
        assert single.realized_return == pytest.approx(result.gross_return[k], rel=1e-8)
    assert result.trading_cost.tolist() == [0.0, 0.0, 0.0]


def test_trading_cost_by_hand() -> None:
    config = OptimizerConfig(impact=2.0, spread=0.1)
    weights = np.array([[0.1, 0.0], [-0.1, 0.2], [0.0, -0.2]])
    previous = np.array([0.05, 0.0, -0.05])
    adv = np.array([1.0, 2.0, 4.0])  # median 2: impact weights 2, 1, 0.5
    trade = weights - previous[:, None]
    expected = 2.0 * (np.array([2.0, 1.0, 0.5])[:, None] * trade**2).sum(axis=0) + 0.1 * np.abs(trade).sum(
        axis=0
    )
    np.testing.assert_allclose(trading_cost(weights, previous, adv, config), expected)
    np.testing.assert_allclose(trading_cost(weights[:, 0], None, None, config), 2.0 * 0.02 + 0.1 * 0.2)


def test_frames_and_errors() -> None:
    era = make_era(seed=24, n_stocks=50, n_models=3, n_exposures=2)
    ids = [f"s{i}" for i in range(50)]
    predictions = pd.DataFrame(era.predictions, index=ids, columns=["a", "b", "c"])
    result = true_return(
        predictions, pd.Series(era.returns, index=ids), pd.DataFrame(era.exposures, index=ids), None
    )
    assert list(result.gross_return.index) == ["a", "b", "c"]
    assert list(result.weights.columns) == ["a", "b", "c"]
    assert result.to_frame().shape == (3, 5)
    constant = era.predictions.copy()
    constant[:, 1] = 0.5
    with pytest.raises(InvalidInputError, match="model 1"):
        true_return(constant, era.returns, era.exposures, None)
    kept = true_return(era.predictions, era.returns, era.exposures, None, keep_weights=False)
    assert kept.weights is None


def test_previous_weights_missing_for_a_stock_mean_not_held() -> None:
    era, previous, adv, config = _costly_era()
    ids = pd.Index([f"s{i}" for i in range(60)])
    predictions = pd.DataFrame(era.predictions, index=ids)
    held = pd.Series(previous, index=ids).iloc[10:]  # the first 10 stocks are not held
    as_frame = true_return(
        predictions,
        pd.Series(era.returns, index=ids),
        pd.DataFrame(era.exposures, index=ids),
        config,
        previous_weights=held,
        adv=pd.Series(adv, index=ids),
        progress=True,
    )
    zeros = previous.copy()
    zeros[:10] = 0.0
    as_array = true_return(
        era.predictions, era.returns, era.exposures, config, previous_weights=zeros, adv=adv
    )
    np.testing.assert_allclose(as_frame.net_return.to_numpy(), as_array.net_return, rtol=1e-8)


def test_each_model_can_trade_from_its_own_previous_portfolio() -> None:
    era, _, adv, config = _costly_era()
    rng = np.random.default_rng(25)
    own = rng.normal(0, 0.01, (60, 4))
    own -= own.mean(axis=0)
    result = true_return(era.predictions, era.returns, era.exposures, config, previous_weights=own, adv=adv)
    for k in range(4):
        alone = true_return(
            era.predictions[:, [k]], era.returns, era.exposures, config, previous_weights=own[:, k], adv=adv
        )
        np.testing.assert_allclose(result.weights[:, k], alone.weights[:, 0], atol=1e-10)
        assert result.net_return[k] == pytest.approx(alone.net_return[0], rel=1e-8)
        assert result.turnover[k] == pytest.approx(np.abs(result.weights[:, k] - own[:, k]).sum())
    ids = pd.Index([f"s{i}" for i in range(60)])
    frame = true_return(
        pd.DataFrame(era.predictions, index=ids, columns=list("abcd")),
        pd.Series(era.returns, index=ids),
        pd.DataFrame(era.exposures, index=ids),
        config,
        previous_weights=pd.DataFrame(own[:, :3], index=ids, columns=list("abc")),  # d held nothing
        adv=pd.Series(adv, index=ids),
    )
    np.testing.assert_allclose(frame.net_return.to_numpy()[:3], result.net_return[:3], rtol=1e-8)
    fresh = true_return(era.predictions[:, [3]], era.returns, era.exposures, config, adv=adv)
    assert frame.net_return["d"] == pytest.approx(fresh.net_return[0], rel=1e-8)
    with pytest.raises(InvalidInputError, match="shape"):
        true_return(era.predictions, era.returns, era.exposures, config, previous_weights=own[:, :2])
