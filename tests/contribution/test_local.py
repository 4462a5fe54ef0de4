"""TC at home (kardashev.contribution.local) against the engine's TC with the true blend and stakes."""

from __future__ import annotations

import numpy as np
import pytest

from kardashev.contribution import true_contribution
from kardashev.contribution.fund_config import FundConfig, ReleaseSpec
from kardashev.contribution.local import estimate_era_tc, local_tc, others_blend
from kardashev.contribution.solve import risk_model_of
from kardashev.data.synthetic import CrowdConfig, MarketConfig, generate_crowd, generate_market
from kardashev.demo.fund import era_inputs
from kardashev.errors import InvalidInputError
from kardashev.portfolio import OptimizerConfig
from kardashev.scoring import tie_kept_rank


@pytest.fixture(scope="module")
def market_era():
    market = generate_market(MarketConfig(n_stocks=150, n_eras=6, seed=3))
    crowd = generate_crowd(market, CrowdConfig(n_models=12, seed=3, n_unstaked_original=0))
    data = market.era(2)
    return era_inputs(data, crowd.predictions(data)), crowd.stakes


def _engine_tc(era, stakes, config):
    result = true_contribution(
        era.gaussianized,
        stakes,
        era.realized_returns,
        era.exposures,
        config,
        risk_model=risk_model_of(era),
        adv=era.adv,
        gaussianized=True,
    )
    return np.asarray(result.exact_tc)


def test_exact_when_the_release_is_the_true_blend_of_the_others(market_era):
    era, stakes = market_era
    config = OptimizerConfig()
    engine = _engine_tc(era, stakes, config)
    g = era.gaussianized
    for k in (0, 4, 9):
        others = np.delete(np.arange(era.n_models), k)
        blend = g[:, others] @ (stakes[others] / stakes[others].sum())
        share = stakes[k] / stakes.sum()
        estimate = local_tc(era.models([k]), blend, share=float(share), config=config)
        assert estimate[0] == pytest.approx(engine[k], rel=1e-7, abs=1e-12)


def test_zero_share_is_the_engines_tc_at_zero_stake(market_era):
    era, stakes = market_era
    config = OptimizerConfig()
    k = 5
    zeroed = stakes.copy()
    zeroed[k] = 0.0
    engine = _engine_tc(era, zeroed, config)
    blend = era.gaussianized @ (zeroed / zeroed.sum())
    together = local_tc(era, blend, share=0.0, config=config)  # every column in one solve
    assert together[k] == pytest.approx(engine[k], rel=1e-7, abs=1e-12)
    alone = local_tc(era.models([k]), blend, share=0.0, config=config)
    assert alone[0] == pytest.approx(together[k], rel=1e-9, abs=1e-13)


def test_unlagged_rank_release_tracks_the_engine(market_era):
    era, stakes = market_era
    config = OptimizerConfig()
    engine = _engine_tc(era, stakes, config)
    blend = era.gaussianized @ (stakes / stakes.sum())
    released = np.round(tie_kept_rank(blend), 4)  # what tournament.release publishes
    fund = FundConfig(
        optimizer=config, release=ReleaseSpec(kind="stake_weighted", lag=0, scale=float(blend.std()))
    )
    estimates = np.array(
        [
            estimate_era_tc(
                era.models([k]).with_(meta_model=released), fund, share=float(stakes[k] / stakes.sum())
            )[0]
            for k in range(era.n_models)
        ]
    )
    # the release holds each participant too (shares up to 39 % here) and only its ranks: close, not exact
    assert np.corrcoef(estimates, engine)[0, 1] > 0.9
    small = stakes / stakes.sum() < 0.1
    assert np.corrcoef(estimates[small], engine[small])[0, 1] > 0.95


def test_others_blend_forms():
    released = np.array([0.1, np.nan, 0.9, 0.5])
    as_rank = others_blend(released, release=ReleaseSpec(form="rank", scale=2.0))
    assert as_rank[1] == 0.0 and as_rank[0] < 0 < as_rank[2] and as_rank[3] == pytest.approx(0.0)
    assert as_rank[2] == pytest.approx(-as_rank[0])
    as_blend = others_blend(released, release=ReleaseSpec(form="blend"))
    np.testing.assert_array_equal(as_blend, [0.1, 0.0, 0.9, 0.5])
    with pytest.raises(InvalidInputError):
        others_blend(np.array([np.nan, 0.3]), release=ReleaseSpec())


def test_bad_inputs_are_refused(market_era):
    era, _ = market_era
    blend = era.gaussianized[:, 0]
    with pytest.raises(InvalidInputError, match="stake share"):
        local_tc(era, blend, share=1.0, config=OptimizerConfig())
    with pytest.raises(InvalidInputError, match="finite values"):
        local_tc(era, blend[:-1], share=0.1, config=OptimizerConfig())
    with pytest.raises(InvalidInputError, match="constant"):
        local_tc(era, np.zeros(era.n_stocks), share=0.1, config=OptimizerConfig())
    with pytest.raises(InvalidInputError, match="realized_returns"):
        local_tc(era.with_(realized_returns=None), blend, share=0.1, config=OptimizerConfig())
