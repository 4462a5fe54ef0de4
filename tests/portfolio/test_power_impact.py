"""3/2-power market impact ``Σ κ_i |w_i − w0_i|^{3/2}``: the closed-form 1-D solution against a
bracketing root finder, a hand-checkable one-name case (weights and derivative), the kinks (a name
meeting its bound, a name held at its previous weight), Almgren's κ_i = η·σ_i·√(capital/adv_i),
and a combined case (impact + spreads + quadratic impact + turnover cap) in both paths against the
KKT certificate and central differences. cvxpy + Clarabel (power cones): ``test_limits.py``."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.optimize

from kardashev.errors import ConfigError, InvalidInputError
from kardashev.portfolio import OptimizerConfig, optimize
from kardashev.portfolio.pieces import inverse_slope, separable_minimizer, separable_x

from .cases import make_case
from .certify import assert_kkt


def _root(b, h, upper, lower, x0, lam, cost, kappa):
    """The minimizer of ½hx² − bx + λ|x| + c|x − x0| + κ|x − x0|^{3/2} on [lower, upper]: the
    sign change of its (monotone) subgradient, found by bisection-safeguarded Brent."""

    def subgradient(x):
        t = x - x0
        return h * x + lam * np.sign(x) + cost * np.sign(t) + 1.5 * kappa * np.sign(t) * np.sqrt(abs(t)) - b

    if subgradient(upper) <= 0:
        return upper
    if subgradient(lower) >= 0:
        return lower
    return scipy.optimize.brentq(subgradient, lower, upper, xtol=1e-16, rtol=1e-15, maxiter=500)


@pytest.mark.parametrize("cost", [0.0, 0.3])
def test_closed_form_matches_a_root_finder(cost):
    rng = np.random.default_rng(5)
    n = 200
    b = rng.normal(0, 2, n)
    h = rng.uniform(0.5, 2, n)
    upper = rng.uniform(0.5, 2, n)
    lower = -rng.uniform(0.5, 2, n)
    x0 = rng.uniform(-0.5, 0.5, n)
    kappa = rng.uniform(0, 2, n) * (rng.random(n) < 0.9)  # some names without impact
    lam = 0.4
    kinks = x0 if cost else np.zeros(n)
    pieces = separable_minimizer(b, h, upper, kinks, lam, cost, lower, None, kappa, x0)
    expected = np.array([_root(b[i], h[i], upper[i], lower[i], x0[i], lam, cost, kappa[i]) for i in range(n)])
    np.testing.assert_allclose(pieces.x, expected, rtol=0, atol=1e-14)
    np.testing.assert_allclose(
        separable_x(b, h, upper, kinks, lam, cost, lower, None, kappa, x0), pieces.x, rtol=0, atol=1e-15
    )
    # the slope ∂x/∂b on the free regions, against central differences of the closed form
    free = pieces.free & (pieces.margin > 1e-3)
    step = 1e-7
    up = separable_x(b + step, h, upper, kinks, lam, cost, lower, None, kappa, x0)
    down = separable_x(b - step, h, upper, kinks, lam, cost, lower, None, kappa, x0)
    slope = inverse_slope(pieces.x, h, kappa, x0)
    np.testing.assert_allclose(((up - down) / (2 * step))[free], slope[free], rtol=1e-6)
    assert free.sum() > n // 4


def _one_name(alpha_scale: float, **bounds) -> tuple:
    """maximize a·w − ½w² − 0.2|w − 0.1|^{3/2} (γ = 1, Σ = 0.5, w0 = 0.1; caps far away)."""
    config = OptimizerConfig(
        alpha_scale=alpha_scale, dollar_neutral=False, ridge_variance=0.5, tolerance=1e-13
    )
    kwargs = {"config": config, "previous_weights": np.array([0.1]), "power_impact_coefficients": 0.2}

    def solve(signal: float):
        return optimize(np.array([signal]), **kwargs, **bounds)

    return solve, config


def test_one_name_by_hand():
    """Stationarity a − w − 0.3·√(w − 0.1) = 0: with √(w − 0.1) = 0.3, w = 0.19 and a = 0.28;
    dw/da = 1/(1 + 0.75·0.2/√0.09) = 2/3."""
    solve, _ = _one_name(0.28)
    result = solve(1.0)
    assert result.status == "optimal"
    np.testing.assert_allclose(result.weights, [0.19], rtol=0, atol=1e-15)
    np.testing.assert_allclose(result.vjp(np.ones(1)), [0.28 * 2 / 3], rtol=1e-13)
    np.testing.assert_allclose(result.objective, 0.28 * 0.19 - 0.5 * 0.19**2 - 0.2 * 0.09**1.5, rtol=1e-13)


def test_kink_where_the_name_meets_its_bound():
    """At w = u exactly the derivative is one-sided: the name is weakly active and the gradient
    treats it as free (the left derivative 2/3·a); right of the kink it is 0."""
    solve, _ = _one_name(0.28, upper_bounds=np.array([0.19]))
    result = solve(1.0)
    assert result.active.n_weakly_active == 1
    gradient = float(result.vjp(np.ones(1))[0])
    np.testing.assert_allclose(gradient, 0.28 * 2 / 3, rtol=1e-12)
    step = 1e-7
    left = (solve(1.0).weights[0] - solve(1.0 - step).weights[0]) / step
    right = (solve(1.0 + step).weights[0] - solve(1.0).weights[0]) / step
    assert abs(left - gradient) <= 1e-6 * gradient and right == 0.0


def test_kink_at_the_previous_weight():
    """a = w0 (= 2γΣ·w0): the name stays at w0, where the 3/2 power's curvature is infinite:
    derivative 0. Off w0 by a tiny step, t = ±(a·step)²/(2.25κ²) to first order, so the central
    difference is ≈ 0.1²/(2.25·0.2²)·step = 0.111·step: it vanishes with the step."""
    solve, _ = _one_name(0.1)
    result = solve(1.0)
    np.testing.assert_allclose(result.weights, [0.1], rtol=0, atol=1e-16)
    assert result.vjp(np.ones(1))[0] == 0.0
    for step in (1e-5, 1e-6):
        central = (solve(1.0 + step).weights[0] - solve(1.0 - step).weights[0]) / (2 * step)
        assert 0.10 * step <= central <= 0.12 * step


def test_almgren_coefficients_from_volatility_and_adv():
    case = make_case(n=50, seed=4, previous=True, adv=True)
    config = dataclasses.replace(case.config, power_impact=0.5, capital=1e7, max_adv_participation=100.0)
    model = optimize(case.signal, **case.kwargs() | {"config": config})
    risk = case.risk_model
    variance = np.diag(risk.factor_loadings @ risk.factor_covariance @ risk.factor_loadings.T)
    kappa = 0.5 * np.sqrt(variance + risk.specific_variance) * np.sqrt(1e7 / case.adv)
    given = optimize(
        case.signal,
        **case.kwargs() | {"config": dataclasses.replace(config, power_impact=0.0)},
        power_impact_coefficients=kappa,
    )
    np.testing.assert_allclose(model.weights, given.weights, rtol=0, atol=1e-13 * np.abs(given.weights).max())
    without = optimize(
        case.signal, **case.kwargs() | {"config": dataclasses.replace(config, power_impact=0.0)}
    )
    assert np.abs(model.weights - without.weights).max() > 1e-2 * np.abs(without.weights).max()


def test_bad_impact_inputs():
    signal = np.random.default_rng(0).standard_normal(10)
    with pytest.raises(InvalidInputError, match="power_impact"):
        optimize(signal, config=OptimizerConfig(power_impact=0.1))  # needs adv and capital
    with pytest.raises(InvalidInputError, match="power_impact_coefficients"):
        optimize(signal, power_impact_coefficients=-np.ones(10))
    with pytest.raises(InvalidInputError, match="power_impact_coefficients"):
        optimize(signal, power_impact_coefficients=np.full(10, np.nan))
    with pytest.raises(ConfigError, match="power_impact"):
        OptimizerConfig(power_impact=-1.0)


@pytest.mark.parametrize("method", ["fast", "generic"])
def test_with_every_trading_cost_certified_and_differentiated(method):
    """3/2-power impact with per-name spreads (names held at w0), quadratic impact and a binding
    turnover cap: certified optimum, both paths equal, vjp against central differences."""
    n = 40
    case = make_case(n=n, seed=21, previous=True, adv=True, impact=2e-4, max_turnover=0.5, tolerance=1e-13)
    rng = np.random.default_rng(8)
    extra = {"power_impact_coefficients": rng.uniform(1e-4, 6e-4, n), "spreads": rng.uniform(0, 3e-5, n)}
    result = optimize(case.signal, method=method, **case.kwargs(), **extra)
    counts = result.active.counts()
    assert counts["turnover"] == 1 and counts["at_previous"] > 0 and counts["free"] >= 8
    assert result.active.n_weakly_active == 0
    assert_kkt(
        result,
        case.signal,
        exposures=case.exposures,
        risk_model=case.risk_model,
        previous=case.previous_weights,
        adv=case.adv,
        config=case.config,
        **extra,
    )
    other = optimize(case.signal, method="generic" if method == "fast" else "fast", **case.kwargs(), **extra)
    np.testing.assert_allclose(result.weights, other.weights, atol=1e-10 * np.abs(result.weights).max())
    cotangent = rng.standard_normal(n)
    gradient = result.vjp(cotangent)
    step = 1e-6
    directions = [rng.standard_normal(n) for _ in range(3)] + list(np.eye(n))
    finite, exact = [], []
    for direction in directions:
        plus = optimize(case.signal + step * direction, method="fast", **case.kwargs(), **extra)
        minus = optimize(case.signal - step * direction, method="fast", **case.kwargs(), **extra)
        np.testing.assert_array_equal(plus.active.free, minus.active.free)  # no kink crossed
        finite.append(cotangent @ (plus.weights - minus.weights) / (2 * step))
        exact.append(direction @ gradient)
    assert np.linalg.norm(np.array(finite) - np.array(exact)) <= 1e-6 * np.linalg.norm(exact)


@pytest.mark.parametrize("name", ["group_gross", "long_short_gross", "exposure_bands", "volatility_limit"])
def test_with_the_proximal_paths_limits(name):
    """With the limits solved by the proximal path (and the volatility search): certified in both
    paths, and the vjp against central differences."""
    from .test_limits import _case

    case, extra = _case(name, 40, 12)
    case.config = dataclasses.replace(case.config, tolerance=1e-13)
    extra["power_impact_coefficients"] = np.random.default_rng(1).uniform(1e-4, 1e-3, 40)
    results = [
        optimize(case.signal, method=method, **case.kwargs(), **extra) for method in ("fast", "generic")
    ]
    for result in results:
        assert_kkt(
            result,
            case.signal,
            exposures=case.exposures,
            risk_model=case.risk_model,
            previous=case.previous_weights,
            adv=case.adv,
            config=case.config,
            **extra,
        )
    scale = np.abs(results[0].weights).max()
    np.testing.assert_allclose(results[0].weights, results[1].weights, atol=1e-9 * scale)
    rng = np.random.default_rng(2)
    cotangent = rng.standard_normal(40)
    gradient = results[0].vjp(cotangent)
    step = 1e-6
    for direction in rng.standard_normal((3, 40)):
        plus = optimize(case.signal + step * direction, **case.kwargs(), **extra)
        minus = optimize(case.signal - step * direction, **case.kwargs(), **extra)
        finite = cotangent @ (plus.weights - minus.weights) / (2 * step)
        assert abs(finite - direction @ gradient) <= 1e-6 * np.linalg.norm(gradient) * np.linalg.norm(
            direction
        )


def test_the_cost_model_prices_what_the_optimizer_charges() -> None:
    """``portfolio.costs.trade_cost`` is the optimizer's objective's cost (3/2-power impact included):
    natural objective = αᵀw − γ·risk − cost at the optimum; its gradient matches central differences."""
    from kardashev.portfolio import RiskModel
    from kardashev.portfolio.costs import trade_cost, trade_cost_gradient
    from kardashev.portfolio.problem import build_problem

    rng = np.random.default_rng(11)
    n = 60
    config = OptimizerConfig(impact=0.01, spread=1e-4, power_impact=0.2, capital=1e6, risk_aversion=1.0)
    loadings = rng.standard_normal((n, 2))
    risk = RiskModel(
        factor_loadings=loadings, factor_covariance=np.eye(2) * 0.01, specific_variance=np.full(n, 0.02)
    )
    adv = rng.uniform(1e5, 1e6, n)
    previous = rng.normal(0, 0.005, n)
    weights = previous + rng.normal(0, 0.003, n)
    cost = float(trade_cost(weights, previous, config=config, adv=adv, risk_model=risk))
    problem = build_problem(
        rng.standard_normal(n),
        exposures=None,
        risk_model=risk,
        previous_weights=previous,
        adv=adv,
        config=config,
    )
    specific, root = risk.specific_variance, risk.factor_root()
    risk_term = float(np.dot(specific * weights, weights) + np.sum((root.T @ weights) ** 2))
    objective = problem.natural_objective(weights)
    alpha_term = float(problem.alpha @ weights)
    assert objective == pytest.approx(
        alpha_term - config.risk_aversion * risk_term - cost, rel=1e-12, abs=1e-15
    )
    gradient = trade_cost_gradient(weights, previous, config=config, adv=adv, risk_model=risk)
    step = 1e-7
    for i in range(0, n, 7):
        up, down = weights.copy(), weights.copy()
        up[i] += step
        down[i] -= step
        difference = (
            float(trade_cost(up, previous, config=config, adv=adv, risk_model=risk))
            - float(trade_cost(down, previous, config=config, adv=adv, risk_model=risk))
        ) / (2 * step)
        assert gradient[i] == pytest.approx(difference, rel=1e-5, abs=1e-9), i
