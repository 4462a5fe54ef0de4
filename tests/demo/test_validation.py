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


def test_spearman_rows_is_scipys_spearman_per_row() -> None:
    from kardashev.demo.validation import spearman_rows

    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(5, 20)), rng.normal(size=(5, 20))
    expected = [spearmanr(a[i], b[i]).statistic for i in range(5)]
    np.testing.assert_allclose(spearman_rows(a, b), expected, atol=1e-12)
    b[:, 3] = np.nan  # a column missing anywhere is left out everywhere
    expected = [spearmanr(np.delete(a[i], 3), np.delete(b[i], 3)).statistic for i in range(5)]
    np.testing.assert_allclose(spearman_rows(a, b), expected, atol=1e-12)


def test_spearman_rows_gives_ties_their_average_rank() -> None:
    from kardashev.demo.validation import spearman_rows

    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(4, 15)), rng.normal(size=(4, 15))
    a[:, :5] = 0.0  # never-scored models, tied at 0
    b[1, 7:10] = 1.5
    expected = [spearmanr(a[i], b[i]).statistic for i in range(4)]
    np.testing.assert_allclose(spearman_rows(a, b), expected, atol=1e-12)
    assert np.isnan(spearman_rows(np.zeros((1, 6)), b[:1, :6])[0])  # all tied: constant ranks


def test_planted_comparison_point_and_interval() -> None:
    from kardashev.demo.validation import planted_comparison

    rng = np.random.default_rng(4)
    planted = rng.normal(size=(24, 12)) + np.linspace(-1, 1, 12)
    noisy = planted + rng.normal(scale=3.0, size=planted.shape)
    result = planted_comparison({"same": planted, "noisy": noisy}, planted, block=4, n_boot=300)
    same, noisy_result = result["same"], result["noisy"]
    assert same.spearman == pytest.approx(1.0) and same.low == pytest.approx(1.0) and same.high == 1.0
    point = spearmanr(noisy.sum(axis=0), planted.sum(axis=0)).statistic
    assert noisy_result.spearman == pytest.approx(point)
    assert -1 <= noisy_result.low < noisy_result.spearman < noisy_result.high <= 1
    assert (noisy_result.block, noisy_result.n_boot, noisy_result.level) == (4, 300, 0.9)


def test_summarize_validation_headline_is_the_planted_comparison() -> None:
    rng = np.random.default_rng(5)
    n_eras, n_models = 12, 8
    planted = rng.normal(size=(n_eras, n_models)) + np.arange(n_models)
    per_era = {"tc": planted + rng.normal(size=planted.shape), "mmc": rng.normal(size=planted.shape)}
    totals = {name: per_era["tc"].sum(axis=0) for name in ("tc", "mmc", "corr", "mpc", "loo", "bump")}
    result = summarize_validation(
        model_names=tuple(f"m{k}" for k in range(n_models)),
        archetypes=("original",) * n_models,
        stakes=np.ones(n_models),
        true_value=np.arange(n_models, dtype=float),
        totals=totals,
        n_eras=n_eras,
        per_era=per_era,
        planted=planted,
        horizon=4,
        n_boot=200,
    )
    assert result.headline is result.planted["tc"]
    assert result.headline.spearman == pytest.approx(
        spearmanr(per_era["tc"].sum(axis=0), planted.sum(axis=0)).statistic
    )
    np.testing.assert_allclose(result.totals["planted"], planted.sum(axis=0))
    np.testing.assert_allclose(result.tc_era_std, per_era["tc"].std(axis=0, ddof=1))
    assert result.tc_bag_std is None


def test_the_demo_reports_the_planted_comparison_and_tcs_spread(tiny_demo) -> None:
    validation = tiny_demo.simulation.validation
    headline = validation.headline
    assert headline is validation.planted["tc"] and headline.score == "tc"
    assert -1 <= headline.low <= headline.high <= 1 and np.isfinite(headline.spearman)
    assert {"tc", "mmc", "corr", "mpc", "true_return", "bmc", "fnc", "bagged_tc"} <= set(validation.planted)
    scores = tiny_demo.simulation.scores
    np.testing.assert_allclose(validation.totals["planted"], scores.planted.sum(axis=0))
    assert validation.tc_era_std.shape == validation.tc_bag_std.shape == (validation.n_models,)
    assert (validation.tc_bag_std > 0).any() and np.isfinite(validation.tc_era_std).all()
