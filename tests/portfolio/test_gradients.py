"""The exact backward against central finite differences, cvxpy/diffcp and closed forms."""

from __future__ import annotations

import dataclasses

import cvxpy as cp
import numpy as np
import pytest

from kardashev.portfolio import OptimizerConfig, optimize

from .cases import make_case

FD_CASES = {
    "bounds_and_gross": {},
    "ridge_risk": {"n_factors": 0},
    "many_neutralities_dependent_one_hots": {"n_sectors": 5, "n_countries": 3, "n_dense": 4},
    "quadratic_costs": {"previous": True, "adv": True, "impact": 5e-4},
    "linear_costs": {"previous": True, "spread": 2e-5},
    "turnover_cap": {"previous": True, "max_turnover": 0.6},
    "gross_slack": {"signal_strength": 0.3},
}


def tight(config: OptimizerConfig) -> OptimizerConfig:
    return dataclasses.replace(config, tolerance=1e-13)


@pytest.mark.parametrize("name", sorted(FD_CASES))
@pytest.mark.parametrize("method", ["fast", "generic"])
def test_vjp_matches_central_differences(name, method):
    case = make_case(n=40, seed=10 + sorted(FD_CASES).index(name), **FD_CASES[name])
    kwargs = case.kwargs() | {"config": tight(case.config)}
    result = optimize(case.signal, method=method, **kwargs)
    assert result.active.n_weakly_active == 0
    rng = np.random.default_rng(7)
    cotangent = rng.standard_normal(case.signal.size)
    gradient = result.vjp(cotangent)
    assert np.any(gradient != 0)
    step = 1e-6
    directions = [rng.standard_normal(case.signal.size) for _ in range(3)]
    if method == "fast":  # every coordinate too (the full gradient)
        directions += list(np.eye(case.signal.size))
    finite = []
    for direction in directions:
        plus = optimize(case.signal + step * direction, method="fast", **kwargs)
        minus = optimize(case.signal - step * direction, method="fast", **kwargs)
        # away from kinks: the active set is the same on both sides
        np.testing.assert_array_equal(plus.active.free, minus.active.free)
        finite.append(cotangent @ (plus.weights - minus.weights) / (2 * step))
    exact = np.array([direction @ gradient for direction in directions])
    finite = np.array(finite)
    assert np.linalg.norm(finite - exact) <= 1e-6 * np.linalg.norm(exact)


def _cvxpy_gradient(case, cotangent, alpha_scale):
    """∂(gᵀw*)/∂expected_returns from cvxpy's own derivative (diffcp), positions scaled by n."""
    n = case.signal.size
    cfg = case.config
    signal = cp.Parameter(n)
    x = cp.Variable(n)  # x = n·w; objective = n·J(w)/alpha_scale
    risk = cp.sum_squares(cp.multiply(np.sqrt(case.risk_model.specific_variance), x))
    values, vectors = np.linalg.eigh(case.risk_model.factor_covariance)
    root = case.risk_model.factor_loadings @ (vectors * np.sqrt(np.clip(values, 0, None)))
    risk = risk + cp.sum_squares(root.T @ x)
    objective = cfg.risk_aversion / (n * alpha_scale) * risk - signal @ x
    w0 = np.zeros(n) if case.previous_weights is None else case.previous_weights
    if cfg.impact:
        weights = np.median(case.adv) / case.adv if case.adv is not None else np.ones(n)
        impact = cp.sum_squares(cp.multiply(np.sqrt(weights), x - n * w0))
        objective = objective + cfg.impact / (n * alpha_scale) * impact
    exposures = np.hstack([np.ones((n, 1)), case.exposures])
    constraints = [
        exposures.T @ x == 0,
        cp.abs(x) <= cfg.max_position * cfg.gross_leverage,
        cp.norm1(x) <= n * cfg.gross_leverage,
    ]
    problem = cp.Problem(cp.Minimize(objective), constraints)
    assert problem.is_dpp()
    signal.value = case.signal
    problem.solve(requires_grad=True, solver=cp.DIFFCP)
    assert problem.status == cp.OPTIMAL
    x.gradient = cotangent / n
    problem.backward()
    return x.value / n, signal.gradient


@pytest.mark.parametrize(
    "options",
    [{}, {"n_sectors": 4, "n_countries": 2, "n_dense": 3}, {"previous": True, "adv": True, "impact": 5e-4}],
    ids=["bounds_and_gross", "dependent_one_hots", "quadratic_costs"],
)
def test_vjp_matches_cvxpy_derivative(options):
    case = make_case(n=24, seed=5, **options)
    result = optimize(case.signal, **case.kwargs())
    cotangent = np.random.default_rng(0).standard_normal(case.signal.size)
    weights, reference = _cvxpy_gradient(case, cotangent, result.alpha_scale)
    np.testing.assert_allclose(weights, result.weights, atol=1e-4 * np.abs(result.weights).max())
    ours = result.vjp(cotangent)
    # diffcp differentiates an interior-point/ADMM point: a few percent at most
    assert np.linalg.norm(reference - ours) <= 0.05 * np.linalg.norm(ours)


# -- hand-checkable tiny cases --------------------------------------------------------------

RIDGE = {"ridge_variance": 1.0, "risk_aversion": 0.5, "alpha_scale": 1.0}


def test_two_stocks_dollar_neutral_closed_form():
    # max α·w − ½(w1² + w2²), w1 + w2 = 0  ⇒  w1 = (α1 − α2)/2, ∂w1/∂α = (½, −½)
    config = OptimizerConfig(max_position=1e3, gross_leverage=1e3, **RIDGE)
    alpha = np.array([0.3, -0.1])
    result = optimize(alpha, config=config)
    np.testing.assert_allclose(result.weights, [0.2, -0.2], rtol=1e-10)
    np.testing.assert_allclose(result.jacobian(), [[0.5, -0.5], [-0.5, 0.5]], rtol=1e-12)
    assert result.objective == pytest.approx(0.3 * 0.2 + 0.1 * 0.2 - 0.5 * 0.08)
    assert result.duals.equality[0] == pytest.approx(0.1)  # α_i − w_i = ν for both names


def test_gross_cap_binds_and_freezes_the_gradient():
    # two names, neutral, |w1| + |w2| ≤ 0.2: w = (0.1, −0.1), two active rows on two free names
    config = OptimizerConfig(max_position=1e3, gross_leverage=0.2, **RIDGE)
    result = optimize(np.array([0.3, -0.1]), config=config)
    np.testing.assert_allclose(result.weights, [0.1, -0.1], rtol=1e-10)
    assert result.active.gross
    # λ: α1 − w1 − ν = λ and α2 − w2 − ν = −λ ⇒ λ = (0.4 − 0.2)/2 = 0.1
    assert result.duals.gross == pytest.approx(0.1, rel=1e-10)
    np.testing.assert_allclose(result.jacobian(), 0.0, atol=1e-14)


def test_soft_threshold_under_gross_cap():
    # no neutrality: w_i = sign(α_i)·max(|α_i| − λ, 0) with λ such that Σ|w| = L
    config = OptimizerConfig(dollar_neutral=False, max_position=1e3, gross_leverage=1.0, **RIDGE)
    alpha = np.array([1.0, 0.7, -0.6, 0.1])
    result = optimize(alpha, config=config)
    lam = (1.0 + 0.7 + 0.6 - 1.0) / 3  # three names above the threshold
    np.testing.assert_allclose(result.weights, [1.0 - lam, 0.7 - lam, -(0.6 - lam), 0.0], atol=1e-13)
    assert result.active.at_zero[3] and result.duals.gross == pytest.approx(lam)
    s = np.array([1.0, 1.0, -1.0])
    expected = np.zeros((4, 4))
    expected[:3, :3] = np.eye(3) - np.outer(s, s) / 3
    np.testing.assert_allclose(result.jacobian(), expected, atol=1e-13)


def test_bound_binds():
    config = OptimizerConfig(max_position=0.5, gross_leverage=1.0, **RIDGE)  # u = 0.25 for n = 2
    result = optimize(np.array([2.0, -2.0]), config=config)
    np.testing.assert_allclose(result.weights, [0.25, -0.25])
    assert result.active.at_upper[0] and result.active.at_lower[1]
    assert result.duals.bounds[0] > 0
    np.testing.assert_allclose(result.jacobian(), 0.0)


def test_linear_cost_holds_previous_position():
    # one name, no neutrality: max αw − ½w² − c|w − w0| holds w0 when |α − w0| ≤ c
    config = OptimizerConfig(dollar_neutral=False, max_position=1e3, gross_leverage=1e3, spread=0.2, **RIDGE)
    result = optimize(np.array([0.45, 0.9]), previous_weights=np.array([0.3, 0.1]), config=config)
    np.testing.assert_allclose(result.weights, [0.3, 0.9 - 0.2], atol=1e-13)
    assert result.active.at_previous[0] and result.active.free[1]
    np.testing.assert_allclose(result.jacobian(), np.diag([0.0, 1.0]), atol=1e-13)


def test_weakly_active_bound_is_treated_as_inactive():
    # w = α clipped at u = 0.5: α1 = 0.5 sits exactly on the bound with a zero multiplier
    config = OptimizerConfig(dollar_neutral=False, max_position=1.0, gross_leverage=1.0, **RIDGE)
    result = optimize(np.array([0.5, -0.2]), config=config)
    np.testing.assert_allclose(result.weights, [0.5, -0.2], atol=1e-15)
    assert result.active.n_weakly_active == 1 and result.active.weakly_active[0]
    np.testing.assert_allclose(result.jacobian(), np.eye(2), atol=1e-12)  # as if the bound were slack


def test_block_vjp_matches_columns():
    case = make_case(n=50, seed=4)
    result = optimize(case.signal, **case.kwargs())
    block = np.random.default_rng(2).standard_normal((50, 3))
    columns = np.column_stack([result.vjp(block[:, j]) for j in range(3)])
    np.testing.assert_allclose(result.vjp(block), columns, rtol=1e-12, atol=1e-18)


@pytest.mark.parametrize("trial", range(6))
def test_random_mid_size_problems(trial):
    """Fast vs generic and central differences on random mid-size problems and options."""
    rng = np.random.default_rng(100 + trial)
    options = {
        "n_sectors": int(rng.integers(0, 12)),
        "n_countries": int(rng.integers(0, 4)),
        "n_dense": int(rng.integers(0, 10)),
        "n_factors": int(rng.integers(0, 8)),
        "previous": trial % 2 == 1,
        "adv": trial % 3 == 0,
        "signal_strength": float(rng.uniform(0.5, 8)),
        "max_position": float(rng.uniform(1.2, 5)),
    }
    if options["previous"]:
        options |= {"impact": 1e-5, "spread": 1e-7, "max_turnover": float(rng.uniform(0.6, 1.5))}
    case = make_case(n=int(rng.integers(150, 500)), seed=200 + trial, **options)
    fast = optimize(case.signal, method="fast", **case.kwargs())
    generic = optimize(case.signal, method="generic", **case.kwargs())
    scale = np.abs(fast.weights).max()
    np.testing.assert_allclose(fast.weights, generic.weights, atol=1e-8 * scale)
    cotangent, direction = rng.standard_normal((2, case.signal.size))
    exact = direction @ fast.vjp(cotangent)
    kwargs = case.kwargs() | {"config": tight(case.config)}
    step = 1e-6
    plus = optimize(case.signal + step * direction, **kwargs).weights
    minus = optimize(case.signal - step * direction, **kwargs).weights
    assert abs(cotangent @ (plus - minus) / (2 * step) - exact) <= 1e-6 * abs(exact)
