"""Validation against re-optimization: stake-bump and leave-one-out marginal values vs TC.

The references here are independent of the TC code: each one re-runs the fund (meta model → optimizer →
realized return) with perturbed stakes; TC comes from :func:`kardashev.contribution.true_contribution`.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from kardashev.contribution import true_contribution
from kardashev.contribution.scores import risk_model_of
from kardashev.data.synthetic import CrowdConfig, MarketConfig, generate_crowd, generate_market
from kardashev.demo.fund import align_weights, era_inputs, fund_portfolio
from kardashev.demo.runner import default_optimizer_config
from kardashev.demo.validation import marginal_values, summarize_validation


@pytest.fixture(scope="module")
def era():
    market = generate_market(MarketConfig(n_stocks=240, n_eras=3, seed=5))
    crowd = generate_crowd(market, CrowdConfig(n_models=14, seed=5))
    data = market.era(1)
    return era_inputs(data, crowd.predictions(data)), np.asarray(crowd.stakes, float), tuple(crowd.archetypes)


def test_fund_portfolio_matches_the_tc_forward_pass(era) -> None:
    inputs, stakes, _ = era
    config = default_optimizer_config()
    weights, realized = fund_portfolio(inputs, stakes, config=config, previous_weights=None)
    tc = true_contribution(
        inputs.gaussianized, stakes, inputs.realized_returns, inputs.exposures, config,
        risk_model=risk_model_of(inputs), adv=inputs.adv, gaussianized=True,
    )  # fmt: skip
    np.testing.assert_allclose(weights, np.asarray(tc.weights), atol=1e-12)
    assert realized == pytest.approx(tc.realized_return, abs=1e-14)


def test_stake_bump_agrees_with_tc_and_loo_ranks_like_it(era) -> None:
    inputs, stakes, _ = era
    config = default_optimizer_config()
    previous = np.random.default_rng(0).normal(0, 1e-3, inputs.ids.shape[0])
    previous -= previous.mean()
    tc = true_contribution(
        inputs.gaussianized, stakes, inputs.realized_returns, inputs.exposures, config,
        risk_model=risk_model_of(inputs), adv=inputs.adv, previous_weights=previous, gaussianized=True,
    )  # fmt: skip
    values = marginal_values(
        inputs, stakes, config=config, previous_weights=previous, base_return=tc.realized_return, bump=1e-5
    )
    exact = np.asarray(tc.tc)
    # a small re-optimized bump is a finite difference of the same gradient
    np.testing.assert_allclose(values.bump, exact, rtol=2e-3, atol=2e-3 * np.abs(exact).max())
    # leave-one-out is a large, non-local change but ranks the models like TC
    assert spearmanr(values.loo, exact).statistic > 0.8
    zero = stakes == 0
    assert zero.any()
    np.testing.assert_array_equal(values.loo[zero], values.bump[zero])  # zero stake: LOO is the bump


def test_marginal_values_only_for_selected_models(era) -> None:
    inputs, stakes, _ = era
    config = default_optimizer_config()
    _, base = fund_portfolio(inputs, stakes, config=config, previous_weights=None)
    values = marginal_values(
        inputs, stakes, config=config, previous_weights=None, base_return=base, models=np.array([0, 3])
    )
    assert np.isfinite(values.loo[[0, 3]]).all()
    assert np.isnan(np.delete(values.loo, [0, 3])).all()


def test_summary_ranks_and_verdicts_by_hand() -> None:
    archetypes = ("consensus", "original", "noise", "unstaked_original")
    totals = {
        "tc": np.array([0.1, 0.3, -0.2, 0.4]),
        "loo": np.array([0.12, 0.25, -0.1, 0.5]),
        "bump": np.array([0.1, 0.3, -0.2, 0.4]),
        "corr": np.array([0.5, 0.1, 0.0, 0.05]),
        "mmc": np.array([0.0, 0.2, 0.1, 0.3]),
        "mpc": np.array([0.2, 0.1, 0.3, 0.4]),
    }
    result = summarize_validation(
        model_names=("a", "b", "c", "d"), archetypes=archetypes, stakes=np.array([1.0, 1, 1, 0]),
        true_value=np.array([0.0, 1.0, -1.0, 2.0]), totals=totals, n_eras=5,
    )  # fmt: skip
    assert result.spearman_loo["tc"] == pytest.approx(1.0)
    assert result.spearman_loo["corr"] == pytest.approx(spearmanr(totals["corr"], totals["loo"]).statistic)
    assert result.unstaked_original_tc_rank == (1,)
    assert result.unstaked_original_top_decile
    assert result.tc_beats_others


def test_previous_weights_follow_the_universe() -> None:
    ids = np.array(["a", "b", "c"])
    np.testing.assert_array_equal(align_weights({"a": 0.1, "z": 0.5}, ids), [0.1, 0.0, 0.0])
    assert align_weights(None, ids) is None
