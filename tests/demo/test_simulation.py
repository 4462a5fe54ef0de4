"""The in-memory season: funds per payout rule on one market, stake dynamics, per-era scores."""

from __future__ import annotations

import numpy as np
import pytest

from kardashev.data.synthetic import CrowdConfig, MarketConfig, generate_crowd, generate_market
from kardashev.demo.dynamics import StakeDynamics
from kardashev.demo.fund import era_inputs
from kardashev.demo.runner import default_optimizer_config
from kardashev.demo.simulation import PAYOUT_RULES, SeasonSimulator, SimulationConfig
from kardashev.errors import ConfigError
from kardashev.scoring import orthonormal_neutralizers


@pytest.fixture(scope="module")
def season():
    market = generate_market(MarketConfig(n_stocks=200, n_eras=12, seed=2))
    crowd = generate_crowd(market, CrowdConfig(n_models=14, seed=2))
    simulator = SeasonSimulator(
        model_names=tuple(crowd.model_names),
        archetypes=tuple(crowd.archetypes),
        initial_stakes=crowd.stakes,
        true_value=crowd.true_value,
        optimizer_config=default_optimizer_config(),
        config=SimulationConfig(
            dynamics=StakeDynamics(fraction=0.3), resolution_lag=market.config.horizon, validate=False
        ),
    )
    for era in market.iter_eras():
        simulator.step(era_inputs(era, crowd.predictions(era)))
    return simulator.result(), crowd, market


def test_every_rule_trades_every_era(season) -> None:
    result, crowd, market = season
    assert set(result.tracks) == {"static", "tc", "corr", "mmc"}
    for track in result.tracks.values():
        assert track.returns.shape == (market.n_eras,)
        assert np.isfinite(track.returns).all()
        assert track.stakes.shape == (market.n_eras, crowd.n_models)
    assert result.scores.tc.shape == (market.n_eras, crowd.n_models)
    assert result.scores.true_return.shape == (market.n_eras, crowd.n_models)
    assert result.validation is None


def test_static_fund_keeps_its_stakes_and_others_move_only_after_resolution(season) -> None:
    result, crowd, market = season
    static = result.tracks["static"].stakes
    np.testing.assert_array_equal(static, np.tile(crowd.stakes, (market.n_eras, 1)))
    lag = market.config.horizon
    for rule in ("tc", "corr", "mmc"):
        stakes = result.tracks[rule].stakes
        # no round has resolved before `lag` eras passed: stakes unchanged until then
        np.testing.assert_array_equal(stakes[: lag + 1], static[: lag + 1])
        assert not np.allclose(stakes[-1], static[-1])
        assert (stakes >= 0).all()


def test_paying_on_tc_moves_stake_toward_the_unstaked_original(season) -> None:
    result, crowd, _ = season
    unstaked = np.asarray(crowd.archetypes) == "unstaked_original"
    final_tc = result.tracks["tc"].stakes[-1]
    assert final_tc[unstaked].sum() > 0  # found and staked although it started at 0
    # the planted value of the crowd's stakes is 0 at the start (it is measured against the stake-weighted
    # meta model, like TC) and rises as stake follows TC
    planted = result.planted_value("tc")
    assert planted[0] == pytest.approx(0, abs=1e-9)
    assert planted[-1] > 0


def test_rolling_and_half_sharpes(season) -> None:
    track = season[0].tracks["static"]
    rolling = track.rolling_sharpe(4)
    assert np.isnan(rolling[:3]).all() and np.isfinite(rolling[3:]).all()
    chunk = track.returns[-4:]
    assert rolling[-1] == pytest.approx(chunk.mean() / chunk.std())
    first, second = track.half_sharpes()
    half = len(track.returns) // 2
    assert second == pytest.approx(track.returns[half:].mean() / track.returns[half:].std())
    assert np.isfinite(first)


def test_orthonormal_neutralizers_span_exposures_and_ones() -> None:
    rng = np.random.default_rng(0)
    sector = np.eye(3)[rng.integers(0, 3, 50)]  # one-hots sum to the ones column: collinear
    exposures = np.column_stack([sector, rng.normal(size=50)])
    basis = orthonormal_neutralizers(exposures, add_intercept=True)
    assert basis.shape == (50, 4)
    np.testing.assert_allclose(basis.T @ basis, np.eye(4), atol=1e-12)
    residual = exposures - basis @ (basis.T @ exposures)
    np.testing.assert_allclose(residual, 0, atol=1e-10)


def test_bad_simulation_config() -> None:
    with pytest.raises(ConfigError, match="payout rules"):
        SimulationConfig(rules=("static", "sharpe"))
    with pytest.raises(ConfigError, match="bump"):
        SimulationConfig(bump=0)


@pytest.fixture(scope="module")
def study_season():
    """A season with every rule, bagged TC and the planted truth, and a duplicated model."""
    market = generate_market(MarketConfig(n_stocks=150, n_eras=8, seed=4))
    crowd = generate_crowd(market, CrowdConfig(n_models=12, seed=4))
    stakes = np.r_[crowd.stakes, 50.0]  # the last model is a copy of the first one, with its own stake
    simulator = SeasonSimulator(
        model_names=(*crowd.model_names, "twin"),
        archetypes=(*crowd.archetypes, crowd.archetypes[0]),
        initial_stakes=stakes,
        true_value=np.r_[crowd.true_value, crowd.true_value[0]],
        optimizer_config=default_optimizer_config(),
        config=SimulationConfig(rules=PAYOUT_RULES, resolution_lag=2, validate=False, tc_bags=6, seed=1),
    )
    for era in market.iter_eras():
        predictions = crowd.predictions(era)
        inputs = era_inputs(era, np.column_stack([predictions, predictions[:, 0]]))
        simulator.step(inputs, expected_returns=era.expected_residual_returns)
    return simulator.result(), market


def test_identical_predictions_get_identical_tc_bagged_or_not(study_season) -> None:
    result, _ = study_season
    scores = result.scores
    np.testing.assert_allclose(scores.tc[:, -1], scores.tc[:, 0], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(scores.bagged_tc[:, -1], scores.bagged_tc[:, 0], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(scores.bag_tc[..., -1], scores.bag_tc[..., 0], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(scores.planted[:, -1], scores.planted[:, 0], rtol=1e-9, atol=1e-15)


def test_study_fields_have_their_shapes_and_meanings(study_season) -> None:
    result, market = study_season
    n_eras, n_models = market.n_eras, 13
    scores = result.scores
    assert set(result.tracks) == set(PAYOUT_RULES)
    for name in ("bmc", "fnc", "bagged_tc", "tc_bag_std", "planted"):
        assert getattr(scores, name).shape == (n_eras, n_models), name
        assert np.isfinite(getattr(scores, name)).all(), name
    assert scores.bag_tc.shape == (n_eras, 6, n_models)
    np.testing.assert_allclose(scores.bagged_tc, scores.bag_tc.mean(axis=1), atol=1e-15)
    np.testing.assert_allclose(scores.tc_bag_std, scores.bag_tc.std(axis=1), atol=1e-15)
    assert (scores.tc_bag_std > 0).any()
    # planted values are TC's units: the stake-weighted sum is 0 (scale invariance), as for TC
    stakes = result.tracks["static"].stakes
    np.testing.assert_allclose(np.einsum("em,em->e", stakes, scores.planted), 0.0, atol=1e-10)
    for rule in PAYOUT_RULES:
        assert result.turnover[rule].shape == (n_eras,) and (result.turnover[rule] > 0).all()
        assert result.expected_returns[rule].shape == (n_eras,)
    # the first era trades from cash: turnover is the gross leverage
    assert result.turnover["static"][0] == pytest.approx(1.0, rel=1e-6)
    # the 0.5·CORR + 2·MMC fund moves its stakes once rounds resolve
    assert not np.allclose(result.tracks["corr_mmc"].stakes[-1], stakes[-1])


def test_bagging_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="tc_bags"):
        SimulationConfig(tc_bags=-1)
    with pytest.raises(ConfigError, match="tc_dropout"):
        SimulationConfig(tc_dropout=1.0)
