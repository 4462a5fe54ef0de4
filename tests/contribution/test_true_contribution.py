"""TC through the real optimizer: finite differences, cvxpy's own derivative, properties, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kardashev.contribution import true_contribution
from kardashev.errors import InfeasibleError
from kardashev.metamodel import standardize
from kardashev.portfolio import OptimizerConfig, RiskModel, optimize
from kardashev.scoring import gaussianize

from .conftest import make_era
from .reference import reference_tc


def _risk_model(n_stocks: int, n_factors: int, seed: int) -> RiskModel:
    rng = np.random.default_rng(seed)
    return RiskModel(
        factor_loadings=rng.standard_normal((n_stocks, n_factors)),
        factor_covariance=np.diag(rng.uniform(0.5, 2.0, n_factors)) * 4e-4,
        specific_variance=rng.uniform(0.5, 2.0, n_stocks) * 9e-4,
    )


def _case(name: str):
    """(era, config, keyword options) for each named situation of the optimizer."""
    if name == "bounds_and_gross":  # default config: many names at the bound, gross cap active
        era = make_era(seed=10, n_stocks=80, n_models=6, n_exposures=3)
        return era, OptimizerConfig(), {}
    if name == "gross_only":  # loose bounds: only the leverage cap binds
        era = make_era(seed=11, n_stocks=80, n_models=5, n_exposures=2)
        return era, OptimizerConfig(max_position=80.0, signal_strength=3.0), {}
    if name == "many_neutralities":  # 30 neutral directions on 90 names, factor risk
        era = make_era(seed=12, n_stocks=90, n_models=5, n_exposures=30)
        return era, OptimizerConfig(), {"risk_model": _risk_model(90, 4, 12)}
    if name == "costs_vs_previous":  # quadratic impact + spread against previous holdings
        era = make_era(seed=13, n_stocks=70, n_models=5, n_exposures=2)
        previous = np.random.default_rng(13).normal(0, 0.01, 70)
        previous -= previous.mean()
        config = OptimizerConfig(impact=0.5, spread=2e-4, signal_strength=6.0)
        return era, config, {"previous_weights": previous}
    if name == "turnover_cap":  # both the gross and the turnover cap bind; many names not traded
        era = make_era(seed=15, n_stocks=70, n_models=5, n_exposures=2)
        previous = np.random.default_rng(15).normal(0, 0.01, 70)
        previous -= previous.mean()
        config = OptimizerConfig(max_turnover=0.8, spread=1e-4)
        return era, config, {"previous_weights": previous}
    if name == "medium":  # 400 names, 25 neutralities, 8-factor risk model
        era = make_era(seed=16, n_stocks=400, n_models=20, n_exposures=25)
        return era, OptimizerConfig(), {"risk_model": _risk_model(400, 8, 16)}
    raise ValueError(name)


CASES = ["bounds_and_gross", "gross_only", "many_neutralities", "costs_vs_previous", "turnover_cap"]


def _realized_return(gaussianized, stakes, era, config, options, method="auto") -> float:
    """R(s) = rᵀ w*(standardize(G s/Σs)), written out without validation (negative s allowed)."""
    alpha = standardize(gaussianized @ (stakes / stakes.sum()))
    weights = optimize(alpha, exposures=era.exposures, config=config, method=method, **options).weights
    return float(era.returns @ weights)


def _central_differences(gaussianized, stakes, era, config, options, step=1e-5) -> np.ndarray:
    """Σs·(R(s + h e_k) − R(s − h e_k))/2h with h = step·Σs, through re-solves at tolerance 1e-13."""
    config = dataclasses.replace(config, tolerance=1e-13)
    total = stakes.sum()
    result = np.empty(stakes.size)
    for k in range(stakes.size):
        up, down = stakes.copy(), stakes.copy()
        up[k] += step * total
        down[k] -= step * total
        difference = _realized_return(gaussianized, up, era, config, options) - _realized_return(
            gaussianized, down, era, config, options
        )
        result[k] = total * difference / (2 * step * total)
    return result


@pytest.mark.parametrize("name", [*CASES, "medium"])
def test_tc_matches_central_differences_and_sums_to_zero(name: str) -> None:
    era, config, options = _case(name)
    stakes = era.stakes.copy()
    stakes[1] = 0.0  # an unstaked model gets the derivative at zero stake
    result = true_contribution(era.predictions, stakes, era.returns, era.exposures, config, **options)
    active = result.active
    assert active.n_weakly_active == 0, "the test point must be away from kinks"
    if name == "bounds_and_gross":
        assert (active.at_upper | active.at_lower).any() and active.gross
    if name == "gross_only":
        assert active.gross and not (active.at_upper | active.at_lower).any()
    if name == "turnover_cap":
        assert active.turnover and active.gross and active.at_previous.any()
    expected = _central_differences(gaussianize(era.predictions), stakes, era, config, options)
    np.testing.assert_allclose(result.tc, expected, rtol=1e-6, atol=1e-9 * np.abs(expected).max())
    assert abs(stakes @ result.tc) <= 1e-10 * (stakes @ np.abs(result.tc))
    assert result.realized_return == pytest.approx(era.returns @ result.weights)


@pytest.mark.parametrize(
    ("name", "tolerance"),
    [*((name, 0.05) for name in CASES), pytest.param("medium", 0.1, marks=pytest.mark.slow)],
)
def test_tc_agrees_with_cvxpy_requires_grad(name: str, tolerance: float) -> None:
    """cvxpy/diffcp (SCS) is accurate to a few percent; at 400 names it is ~6% off the exact TC."""
    era, config, options = _case(name)
    stakes = era.stakes.copy()
    stakes[1] = 0.0
    result = true_contribution(era.predictions, stakes, era.returns, era.exposures, config, **options)
    reference, weights = reference_tc(
        gaussianize(era.predictions),
        stakes,
        era.returns,
        era.exposures,
        config,
        risk_model=options.get("risk_model"),
        previous_weights=options.get("previous_weights"),
    )
    scale = np.abs(result.weights).sum()
    assert np.abs(weights - result.weights).sum() <= 1e-3 * scale
    error = np.linalg.norm(result.tc - reference) / np.linalg.norm(result.tc)
    assert error <= tolerance, f"cvxpy/diffcp TC differs by {error:.1%}"


@pytest.mark.parametrize("name", ["bounds_and_gross", "costs_vs_previous"])
def test_fast_and_generic_paths_agree(name: str) -> None:
    era, config, options = _case(name)
    call = (era.predictions, era.stakes, era.returns, era.exposures, config)
    fast = true_contribution(*call, method="fast", **options)
    generic = true_contribution(*call, method="generic", **options)
    assert fast.portfolio.method == "fast" and generic.portfolio.method == "generic"
    np.testing.assert_allclose(fast.weights, generic.weights, atol=1e-9 * np.abs(fast.weights).max())
    np.testing.assert_allclose(fast.tc, generic.tc, rtol=1e-6, atol=1e-7 * np.abs(fast.tc).max())


def test_scaling_stakes_one_model_and_identical_models() -> None:
    era, config, _ = _case("bounds_and_gross")
    base = true_contribution(era.predictions, era.stakes, era.returns, era.exposures, config)
    scaled = true_contribution(era.predictions, 1e3 * era.stakes, era.returns, era.exposures, config)
    np.testing.assert_allclose(scaled.tc, base.tc, rtol=1e-8, atol=1e-12)
    single = true_contribution(era.predictions[:, :1], [5.0], era.returns, era.exposures, config)
    assert abs(single.tc[0]) <= 1e-12 * np.abs(base.tc).max()
    twins = np.column_stack([era.predictions, era.predictions[:, 2]])
    stakes = np.append(era.stakes, 0.0)
    doubled = true_contribution(twins, stakes, era.returns, era.exposures, config)
    assert doubled.tc[2] == pytest.approx(doubled.tc[-1], rel=1e-10)
    np.testing.assert_allclose(doubled.tc[:-1], base.tc, rtol=1e-8, atol=1e-12)


def test_exposures_that_leave_no_portfolio_raise_infeasible() -> None:
    era = make_era(seed=14, n_stocks=12, n_models=3, n_exposures=2)
    exposures = np.random.default_rng(0).standard_normal((12, 12))
    with pytest.raises(InfeasibleError):
        true_contribution(era.predictions, era.stakes, era.returns, exposures, OptimizerConfig())


def test_bagged_tc_with_warm_starts_equals_exact_tc_per_draw() -> None:
    era, config, options = _case("many_neutralities")
    bagged = true_contribution(
        era.predictions,
        era.stakes,
        era.returns,
        era.exposures,
        config,
        bags=4,
        dropout=0.4,
        seed=5,
        **options,
    )
    assert bagged.bag_tc.shape == (4, era.stakes.size)
    for b, drawn in enumerate(bagged.bag_stakes):
        cold = true_contribution(era.predictions, drawn, era.returns, era.exposures, config, **options)
        np.testing.assert_allclose(bagged.bag_tc[b], cold.tc, rtol=1e-8, atol=1e-10 * np.abs(cold.tc).max())
        assert bagged.bag_realized_returns[b] == pytest.approx(cold.realized_return, rel=1e-9)
        assert abs(drawn @ bagged.bag_tc[b]) <= 1e-10 * (drawn @ np.abs(bagged.bag_tc[b]))
    np.testing.assert_allclose(bagged.tc, bagged.bag_tc.mean(axis=0))
    assert not np.allclose(bagged.tc, bagged.exact_tc)
