import numpy as np
import pytest
from scipy.stats import spearmanr

from kardashev.data.binning import percentile_rank
from kardashev.data.synthetic import ARCHETYPES, CrowdConfig, MarketConfig, generate_crowd, generate_market
from kardashev.errors import ConfigError


@pytest.fixture(scope="module")
def world():
    market = generate_market(MarketConfig(n_stocks=600, n_eras=30, seed=5))
    crowd = generate_crowd(market, CrowdConfig(n_models=40, seed=5))
    eras = list(market.iter_eras())
    predictions = [crowd.predictions(era) for era in eras]
    return market, crowd, eras, predictions


def _of(crowd, archetype):
    return np.flatnonzero(np.asarray(crowd.archetypes) == archetype)


def test_crowd_has_every_archetype_readable_names_and_stakes(world):
    _, crowd, _, predictions = world
    assert set(crowd.archetypes) == set(ARCHETYPES)
    assert len(crowd.model_names) == len(set(crowd.model_names)) == 40
    assert crowd.model_names[0] == "consensus_01"
    assert all(
        name.rsplit("_", 1)[0] == archetype
        for name, archetype in zip(crowd.model_names, crowd.archetypes, strict=True)
    )
    unstaked = _of(crowd, "unstaked_original")
    assert np.all(crowd.stakes[unstaked] == 0)
    staked = np.setdiff1d(np.arange(40), unstaked)
    assert np.all(crowd.stakes[staked] > 0)
    p = predictions[0]
    assert p.shape == (600, 40) and p.min() > 0 and p.max() < 1


def test_predictions_are_deterministic(world):
    market, crowd, eras, predictions = world
    again = generate_crowd(generate_market(market.config), crowd.config)
    assert np.array_equal(again.predictions(12), predictions[12])
    assert np.array_equal(again.predictions(eras[12]), predictions[12])


def _mean_corr(eras, predictions, model, target):
    return np.mean([spearmanr(p[:, model], target(e))[0] for e, p in zip(eras, predictions, strict=True)])


def test_originals_score_and_are_unlike_the_consensus(world):
    _, crowd, eras, predictions = world
    consensus = _of(crowd, "consensus")
    for model in [*_of(crowd, "original"), *_of(crowd, "unstaked_original")]:
        assert _mean_corr(eras, predictions, model, lambda e: e.targets[:, 0]) > 0.02
        corr_with_consensus = np.mean(
            [spearmanr(p[:, model], p[:, consensus].mean(axis=1))[0] for p in predictions]
        )
        assert abs(corr_with_consensus) < 0.15


def test_consensus_models_resemble_each_other(world):
    _, crowd, _, predictions = world
    consensus = _of(crowd, "consensus")
    corr = np.corrcoef(predictions[3][:, consensus].T)
    assert np.mean(corr[np.triu_indices(len(consensus), 1)]) > 0.25


def test_noise_models_have_no_edge(world):
    _, crowd, eras, predictions = world
    corr = [_mean_corr(eras, predictions, m, lambda e: e.residual_returns) for m in _of(crowd, "noise")]
    assert abs(np.mean(corr)) < 0.015


def test_factor_bets_load_on_a_neutralised_exposure(world):
    _, crowd, eras, predictions = world
    size = eras[0].exposure_names.index("size")
    for model in _of(crowd, "factor_bet"):
        assert spearmanr(predictions[0][:, model], eras[0].exposures[:, size])[0] < -0.7


def test_technical_models_churn(world):
    _, crowd, _, predictions = world
    technical, original = _of(crowd, "technical")[0], _of(crowd, "original")[0]
    same_ids = slice(None)  # slots are aligned era to era; a few listings change, negligible here
    churn_technical = spearmanr(predictions[4][same_ids, technical], predictions[5][same_ids, technical])[0]
    churn_original = spearmanr(predictions[4][same_ids, original], predictions[5][same_ids, original])[0]
    assert churn_technical < 0.3 < churn_original


def test_copycats_copy_last_eras_stake_weighted_crowd(world):
    _, crowd, eras, predictions = world
    others = np.asarray(crowd.archetypes) != "copycat"
    weights = crowd.stakes * others
    for t in range(1, 6):
        previous = percentile_rank(predictions[t - 1] @ (weights / weights.sum()))
        position = {stock: i for i, stock in enumerate(eras[t - 1].ids)}
        rows = [i for i, stock in enumerate(eras[t].ids) if stock in position]
        lagged = previous[[position[eras[t].ids[i]] for i in rows]]
        for model in _of(crowd, "copycat"):
            assert spearmanr(predictions[t][rows, model], lagged)[0] > 0.8


def test_planted_true_value_orders_the_archetypes(world):
    _, crowd, _, _ = world
    value = {a: crowd.true_value[_of(crowd, a)] for a in ARCHETYPES}
    assert value["unstaked_original"].min() > value["consensus"].max()
    assert value["original"].min() > value["consensus"].max()
    assert np.abs(value["factor_bet"]).max() < 0.01
    assert np.abs(value["noise"]).max() < 0.015
    assert np.abs(value["copycat"]).max() < value["original"].min()


def test_crowd_config_counts_and_errors():
    counts = CrowdConfig(n_models=1000).counts()
    assert sum(counts.values()) == 1000 and counts["consensus"] > counts["original"] > 0
    small = CrowdConfig(n_models=7).counts()
    assert all(v == 1 for v in small.values())
    assert sum(CrowdConfig(n_models=3).counts().values()) == 3
    with pytest.raises(ConfigError):
        CrowdConfig(n_models=0)
    with pytest.raises(ConfigError):
        CrowdConfig(consensus_share=-1)
