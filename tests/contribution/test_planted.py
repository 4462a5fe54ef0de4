"""Planted contribution: the exact derivative of the fund's expected after-cost return w.r.t. stakes.

References not written here: central finite differences of ``μᵀw*(s) − cost(w*(s))`` through tight
re-solves of the real optimizer, and TC itself (planted = TC when the costs are 0 and μ = r).
"""

from __future__ import annotations

import numpy as np
import pytest

from kardashev.contribution import true_contribution
from kardashev.contribution.planted import expected_fund_return, planted_contribution
from kardashev.contribution.scores import risk_model_of
from kardashev.data.synthetic import CrowdConfig, MarketConfig, generate_crowd, generate_market
from kardashev.demo.fund import era_inputs
from kardashev.errors import InvalidInputError
from kardashev.metamodel import meta_model_from_gaussianized
from kardashev.portfolio import OptimizerConfig, optimize

CONFIG = OptimizerConfig(risk_aversion=1.0, gross_leverage=1.0, max_position=2.5, impact=0.002, spread=0.0002)
# every cost the optimizer charges, 3/2-power impact included (σ_i from the risk model)
POWER = OptimizerConfig(
    risk_aversion=1.0,
    gross_leverage=1.0,
    max_position=2.5,
    impact=0.002,
    spread=0.0002,
    power_impact=0.05,
    capital=1e7,
)


@pytest.fixture(scope="module")
def era():
    market = generate_market(MarketConfig(n_stocks=120, n_eras=3, seed=5))
    crowd = generate_crowd(market, CrowdConfig(n_models=10, seed=5))
    data = market.era(1)
    inputs = era_inputs(data, crowd.predictions(data))
    rng = np.random.default_rng(0)
    previous = rng.normal(0, 0.004, inputs.n_stocks)
    return inputs, data.expected_residual_returns, np.asarray(crowd.stakes, dtype=float), previous


def _expected(inputs, stakes, mu, previous, config=CONFIG) -> float:
    meta = meta_model_from_gaussianized(inputs.gaussianized, stakes)
    risk = risk_model_of(inputs)
    result = optimize(
        meta,
        exposures=inputs.exposures,
        risk_model=risk,
        previous_weights=previous,
        adv=inputs.adv,
        config=config,
    )
    return expected_fund_return(
        result.weights, mu, previous_weights=previous, adv=inputs.adv, config=config, risk_model=risk
    )


@pytest.mark.parametrize("config", [CONFIG, POWER], ids=["impact_and_spread", "with_power_impact"])
def test_planted_value_matches_central_finite_differences(era, config) -> None:
    inputs, mu, stakes, previous = era
    planted = planted_contribution(
        inputs.gaussianized,
        stakes,
        mu,
        inputs.exposures,
        config,
        risk_model=risk_model_of(inputs),
        previous_weights=previous,
        adv=inputs.adv,
    )
    total = stakes.sum()
    delta = 1e-5 * total
    assert planted.expected_return == pytest.approx(_expected(inputs, stakes, mu, previous, config), rel=1e-9)
    assert planted.trading_cost > 0
    for k in range(stakes.size):
        up, down = stakes.copy(), stakes.copy()
        up[k] += delta
        down[k] -= delta if stakes[k] >= delta else 0.0
        step = up[k] - down[k]
        difference = (
            (_expected(inputs, up, mu, previous, config) - _expected(inputs, down, mu, previous, config))
            * total
            / step
        )
        scale = np.abs(planted.value).max()
        assert planted.value[k] == pytest.approx(difference, abs=2e-4 * scale), k


def test_planted_value_is_tc_with_expected_returns_and_no_costs(era) -> None:
    inputs, mu, stakes, previous = era
    free = OptimizerConfig(risk_aversion=1.0, gross_leverage=1.0, max_position=2.5)
    tc = true_contribution(
        inputs.gaussianized, stakes, mu, inputs.exposures, free,
        risk_model=risk_model_of(inputs), previous_weights=previous, gaussianized=True,
    )  # fmt: skip
    planted = planted_contribution(
        inputs.gaussianized, stakes, mu, inputs.exposures, free,
        risk_model=risk_model_of(inputs), previous_weights=previous, portfolio=tc.portfolio,
    )  # fmt: skip
    np.testing.assert_allclose(planted.value, tc.tc, rtol=1e-10, atol=1e-14)
    # stakes-weighted planted values sum to zero (scale invariance), as TC's do
    assert float(stakes @ planted.value) == pytest.approx(0.0, abs=1e-9 * np.abs(planted.value).max())


def test_identical_predictions_get_identical_planted_value(era) -> None:
    inputs, mu, stakes, previous = era
    matrix = np.column_stack([inputs.gaussianized, inputs.gaussianized[:, 0]])
    planted = planted_contribution(
        matrix, np.r_[stakes, 3.0], mu, inputs.exposures, CONFIG,
        risk_model=risk_model_of(inputs), previous_weights=previous, adv=inputs.adv,
    )  # fmt: skip
    assert planted.value[-1] == pytest.approx(planted.value[0], rel=1e-12, abs=1e-15)


def test_bad_expected_returns_are_a_clear_error(era) -> None:
    inputs, mu, stakes, _ = era
    with pytest.raises(InvalidInputError):
        planted_contribution(inputs.gaussianized, stakes, np.r_[mu[:-1], np.nan], inputs.exposures, CONFIG)
