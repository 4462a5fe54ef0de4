import datetime as dt
import itertools

import numpy as np
import pytest
from scipy.stats import spearmanr

from kardashev.data.synthetic import EraData, MarketConfig, generate_market
from kardashev.errors import ConfigError, NotFoundError


@pytest.fixture(scope="module")
def market():
    return generate_market(MarketConfig(n_stocks=500, n_eras=40, seed=3))


@pytest.fixture(scope="module")
def eras(market):
    return list(market.iter_eras())


def test_era_has_the_contract_fields(market, eras):
    era = eras[1]
    assert isinstance(era, EraData)
    n = era.n_stocks
    assert era.era == "0002" and market.eras[:2] == ("0001", "0002")
    assert era.date == market.config.start_date + dt.timedelta(weeks=1)
    assert era.ids.shape == (n,) and len(set(era.ids)) == n
    assert era.features.dtype == np.int8 and era.features.shape == (n, len(era.feature_names))
    assert era.features.min() == 0 and era.features.max() == 4
    assert all(name.startswith("feature_") for name in era.feature_names)
    assert era.target_names[0] == "target"
    assert set(np.unique(era.targets)) == {0.0, 0.25, 0.5, 0.75, 1.0}
    assert era.residual_returns.shape == era.returns.shape == (n,)
    k = len(era.exposure_names)
    assert era.exposures.shape == (n, k) and era.factor_loadings.shape == (n, k)
    assert era.factor_covariance.shape == (k, k)
    assert np.all(np.linalg.eigvalsh(era.factor_covariance) > 0)
    assert np.all(era.specific_variance > 0) and np.all(era.adv > 0)
    countries = [j for j, name in enumerate(era.exposure_names) if name.startswith("country_")]
    sectors = [j for j, name in enumerate(era.exposure_names) if name.startswith("sector_")]
    assert np.all(era.exposures[:, countries].sum(axis=1) == 1)
    assert np.all(era.exposures[:, sectors].sum(axis=1) == 1)
    assert {"beta", "size", "momentum", "value", "volatility"} <= set(era.exposure_names)


def test_any_era_regenerates_alone_identically(market, eras):
    fresh = generate_market(market.config)
    alone = fresh.era(17)
    assert np.array_equal(alone.ids, eras[17].ids)
    assert np.array_equal(alone.features, eras[17].features)
    assert np.array_equal(alone.targets, eras[17].targets)
    assert np.allclose(alone.residual_returns, eras[17].residual_returns)
    assert np.array_equal(fresh.era("0018").features, alone.features)


def test_seeds_differ():
    a = generate_market(MarketConfig(n_stocks=100, n_eras=2, seed=1)).era(0)
    b = generate_market(MarketConfig(n_stocks=100, n_eras=2, seed=2)).era(0)
    assert not np.array_equal(a.features, b.features)


def test_feature_bins_are_quintiles_and_targets_numerai_shaped(eras):
    era = eras[5]
    counts = np.array([np.bincount(column, minlength=5) for column in era.features.T])
    assert np.all(counts == era.n_stocks // 5)
    shares = [np.mean(era.targets[:, 0] == v) for v in (0, 0.25, 0.5, 0.75, 1)]
    assert np.allclose(shares, [0.05, 0.2, 0.5, 0.2, 0.05], atol=0.01)


def test_universe_changes_slowly(eras):
    overlaps = [len(set(a.ids) & set(b.ids)) / len(a.ids) for a, b in itertools.pairwise(eras)]
    assert min(overlaps) > 0.97
    assert len(set(eras[0].ids) & set(eras[-1].ids)) < len(eras[0].ids)  # some listings changed


def test_residual_returns_are_neutral_to_exposures(eras):
    era = eras[3]
    assert np.abs(era.exposures.T @ era.residual_returns).max() < 1e-9
    assert np.std(era.returns) > np.std(era.residual_returns)


def test_returns_are_heavy_tailed(eras):
    residual = np.concatenate([e.residual_returns / np.sqrt(e.specific_variance) for e in eras])
    centered = (residual - residual.mean()) / residual.std()
    assert np.mean(centered**4) > 3.5  # normal kurtosis is 3


def _mean_corr(eras, column, target=0):
    return np.mean([spearmanr(e.features[:, column], e.targets[:, target])[0] for e in eras])


def test_informative_features_predict_the_target_and_noise_does_not(market, eras):
    roles = market.feature_roles
    informative = [j for j, r in enumerate(roles) if r.startswith("informative")]
    noise = [j for j, r in enumerate(roles) if r.startswith("noise")]
    informative_corr = np.array([_mean_corr(eras, j) for j in informative])
    noise_corr = np.array([_mean_corr(eras, j) for j in noise])
    assert np.all(informative_corr > 0)
    assert informative_corr.mean() > 0.025
    assert abs(noise_corr.mean()) < 0.01
    assert informative_corr.mean() > 3 * np.abs(noise_corr).mean()


def test_planted_alpha_sources_are_neutral_and_predictive(market, eras):
    truth = market.truth(10)
    era = eras[10]
    assert np.abs(era.exposures.T @ truth.alpha).max() < 1e-8
    strengths = []
    for k, _name in enumerate(truth.source_names):
        strengths.append(
            np.mean([spearmanr(market.truth(i).alpha[:, k], eras[i].residual_returns)[0] for i in range(40)])
        )
    assert min(strengths) > 0.02


def test_risk_model_is_consistent_with_return_dispersion(market, eras):
    era = eras[0]
    model_variance = np.einsum("ij,jk,ik->i", era.factor_loadings, era.factor_covariance, era.factor_loadings)
    model_variance += era.specific_variance
    weekly = np.concatenate([market._weekly_return(u) for u in range(1, 30)])
    implied = np.mean(model_variance)
    assert 0.6 < np.var(weekly) / implied < 1.6


def test_bad_config_and_unknown_era_raise():
    with pytest.raises(ConfigError, match="n_stocks"):
        MarketConfig(n_stocks=3)
    with pytest.raises(ConfigError, match="horizon"):
        MarketConfig(horizon=0)
    market = generate_market(MarketConfig(n_stocks=100, n_eras=3))
    with pytest.raises(NotFoundError):
        market.era(3)
    with pytest.raises(NotFoundError):
        market.era("abc")


def test_expected_weekly_return_is_the_return_without_the_shocks() -> None:
    """``weekly_return − expected_weekly_return`` is exactly the week's factor and specific shocks."""
    market = generate_market(n_stocks=60, n_eras=6, seed=4)
    world = market._world
    previous = world.state(2)
    factors, specific = world.shocks(3)
    shocks = previous.exposures @ (factors - world.factor_mean) + previous.sigma * specific
    expected = world.expected_weekly_return(previous, 3, known_at=2)
    np.testing.assert_allclose(world.weekly_return(previous, 3) - expected, shocks, atol=1e-15)
    # known a week earlier, the reversal of a shock not yet drawn is expected to be 0
    later = world.expected_weekly_return(previous, 3, known_at=1)
    technical = [k for k, s in enumerate(world.sources) if s.kind == "technical"]
    strengths = np.array([s.strength for s in world.sources])
    np.testing.assert_allclose(
        expected - later, previous.sigma * (previous.alpha[:, technical] @ strengths[technical]), atol=1e-15
    )


def test_era_publishes_the_expected_residual_return_behind_its_realized_one() -> None:
    market = generate_market(n_stocks=200, n_eras=30, seed=1, alpha_scale=3.0)
    correlations = []
    for era in market.iter_eras(0, 30):
        assert era.expected_residual_returns is not None
        assert era.expected_residual_returns.shape == era.residual_returns.shape
        # residualized like the realized residual returns: orthogonal to every exposure
        np.testing.assert_allclose(era.exposures.T @ era.expected_residual_returns, 0.0, atol=1e-10)
        correlations.append(np.corrcoef(era.expected_residual_returns, era.residual_returns)[0, 1])
    assert np.mean(correlations) > 0.1
