"""Per-name limits and costs and exposure targets: asymmetric bounds / no-short lists, per-name
spreads, borrow fees, non-zero exposure targets, trade-size ADV limits. Each is checked in both
paths against an independent KKT certificate, central differences of tight re-solves, and cvxpy
(Clarabel for the weights, central differences of Clarabel re-solves for the derivative)."""

from __future__ import annotations

import dataclasses

import cvxpy as cp
import numpy as np
import pytest

from kardashev.errors import InfeasibleError, InvalidInputError
from kardashev.portfolio import OptimizerConfig, optimize

from .cases import make_case
from .certify import assert_kkt


def _limits(name: str, n: int, rng: np.random.Generator, previous: np.ndarray | None) -> tuple[dict, dict]:
    """(extra optimize arguments, config overrides) for each limit."""
    if name == "no_short_list":
        lower = np.where(rng.random(n) < 0.3, 0.0, -np.inf)  # 30% of names cannot be shorted
        return {"lower_bounds": lower}, {}
    if name == "asymmetric_bounds":
        cap = 2.5 / n
        lower = -cap * rng.uniform(0.2, 1.0, n)
        upper = cap * rng.uniform(0.2, 1.0, n)
        return {"lower_bounds": lower, "upper_bounds": upper}, {}
    if name == "per_name_spreads":
        return {"spreads": rng.uniform(0.0, 4e-5, n) * (rng.random(n) < 0.8)}, {}
    if name == "borrow_fees":  # hard-to-borrow names pay up to ~the alpha of a typical name
        return {"borrow_fees": rng.uniform(0.0, 4e-4, n) * (rng.random(n) < 0.5)}, {}
    if name == "exposure_targets":  # a tilt on the two dense styles (sectors stay neutral)
        return {"exposure_targets": np.array([0.0, 0.0, 0.0, 0.0, 0.03, -0.02])}, {}
    if name == "volatility_limit":  # set in _case from the unconstrained optimum's volatility
        return {}, {}
    if name == "long_short_gross":  # not dollar neutral: a net long book with both sides capped
        return {}, {"max_long": 0.3, "max_short": 0.25}
    if name == "group_gross":  # set in _case from the sector one-hots
        return {}, {}
    if name == "exposure_bands":  # two style exposures kept in bands instead of neutralized
        rows = rng.standard_normal((n, 2))
        return {
            "band_exposures": rows,
            "band_lower": np.array([-0.005, -0.05]),
            "band_upper": np.array([0.005, np.inf]),
        }, {}
    if name == "trade_adv_limits":
        return {}, {"max_trade_adv_participation": 0.06, "capital": 1e7, "max_adv_participation": 100.0}
    if name == "power_impact":  # κ_i |w_i − w0_i|^{3/2}, κ_i spread over a decade
        return {"power_impact_coefficients": rng.uniform(1e-4, 1e-3, n)}, {}
    raise AssertionError(name)


LIMITS = [
    "no_short_list",
    "asymmetric_bounds",
    "per_name_spreads",
    "borrow_fees",
    "exposure_targets",
    "volatility_limit",
    "long_short_gross",
    "group_gross",
    "exposure_bands",
    "trade_adv_limits",
    "power_impact",
]


def _case(name: str, n: int, seed: int):
    previous = name in ("per_name_spreads", "trade_adv_limits", "power_impact")
    if name == "long_short_gross":  # no sector one-hots: they would imply Σw = 0 (long = short)
        case = make_case(n=n, seed=seed, adv=True, n_sectors=0, n_dense=3, dollar_neutral=False)
        extra, overrides = _limits(name, n, np.random.default_rng(seed + 1), None)
        case.config = dataclasses.replace(case.config, **overrides)
        return case, extra
    case = make_case(n=n, seed=seed, previous=previous, adv=True)
    if previous:  # a feasible (neutral) previous book, so that trade limits keep a neutral point
        full = np.column_stack([np.ones(n), case.exposures])
        raw = case.previous_weights - full @ np.linalg.lstsq(full, case.previous_weights, rcond=None)[0]
        case.previous_weights = raw / np.abs(raw).sum() * 0.8
        case.previous_weights *= min(1.0, 2.0 / n / np.abs(case.previous_weights).max())
    extra, overrides = _limits(name, n, np.random.default_rng(seed + 1), case.previous_weights)
    case.config = dataclasses.replace(case.config, **overrides)
    if name == "group_gross":  # sector gross caps: two binding, one without a cap
        extra = {
            "group_labels": case.exposures[:, :4].argmax(axis=1),
            "group_gross": np.array([0.2, 0.22, np.inf, 0.15]),
        }
    if name == "volatility_limit":  # 70% of the volatility the optimum would otherwise take
        w = optimize(case.signal, **case.kwargs()).weights
        loadings = case.risk_model.factor_root()
        volatility = np.sqrt(w @ (case.risk_model.specific_variance * w) + np.sum((loadings.T @ w) ** 2))
        case.config = dataclasses.replace(case.config, max_volatility=0.7 * float(volatility))
    return case, extra


@pytest.mark.parametrize("name", LIMITS)
@pytest.mark.parametrize("method", ["fast", "generic"])
def test_limit_gives_a_certified_optimum_in_both_paths(name, method):
    case, extra = _case(name, 80, 31)
    result = optimize(case.signal, method=method, **case.kwargs(), **extra)
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
    scale = np.abs(result.weights).max()
    np.testing.assert_allclose(result.weights, other.weights, atol=1e-8 * scale)


@pytest.mark.parametrize("name", LIMITS)
def test_limit_is_binding(name):
    """The limit changes the optimum (else the other tests would not test it)."""
    case, extra = _case(name, 80, 31)
    with_limit = optimize(case.signal, **case.kwargs(), **extra).weights
    without = optimize(
        case.signal,
        **case.kwargs()
        | {
            "config": dataclasses.replace(
                case.config,
                max_trade_adv_participation=None,
                max_volatility=None,
                max_long=None,
                max_short=None,
            )
        },
    ).weights
    assert np.abs(with_limit - without).max() > 1e-3 * np.abs(without).max()
    if name == "no_short_list":
        assert np.all(with_limit[extra["lower_bounds"] == 0] >= 0)
        assert np.any((with_limit == 0) & (extra["lower_bounds"] == 0) & (without < 0))


@pytest.mark.parametrize("name", LIMITS)
@pytest.mark.parametrize("method", ["fast", "generic"])
def test_limit_vjp_matches_central_differences(name, method):
    case, extra = _case(name, 40, 12)
    config = dataclasses.replace(case.config, tolerance=1e-13)
    kwargs = case.kwargs() | {"config": config} | extra
    result = optimize(case.signal, method=method, **kwargs)
    assert result.active.n_weakly_active == 0
    rng = np.random.default_rng(3)
    cotangent = rng.standard_normal(case.signal.size)
    gradient = result.vjp(cotangent)
    assert np.any(gradient != 0)
    step = 1e-6
    directions = [rng.standard_normal(case.signal.size) for _ in range(3)] + list(np.eye(case.signal.size))
    finite, exact = [], []
    for direction in directions:
        plus = optimize(case.signal + step * direction, method="fast", **kwargs)
        minus = optimize(case.signal - step * direction, method="fast", **kwargs)
        np.testing.assert_array_equal(plus.active.free, minus.active.free)  # no kink crossed
        finite.append(cotangent @ (plus.weights - minus.weights) / (2 * step))
        exact.append(direction @ gradient)
    assert np.linalg.norm(np.array(finite) - np.array(exact)) <= 1e-6 * np.linalg.norm(exact)


def _cvxpy_solver(case, extra, alpha_scale):
    """The limit written directly in cvxpy (scaled units x = n·w), solved by Clarabel at tight
    tolerances: returns signal ↦ w*(signal) (the parametrized problem is canonicalized once)."""
    n = case.signal.size
    cfg = case.config
    w0 = np.zeros(n) if case.previous_weights is None else case.previous_weights
    d = case.risk_model.specific_variance
    values, vectors = np.linalg.eigh(case.risk_model.factor_covariance)
    root = case.risk_model.factor_loadings @ (vectors * np.sqrt(np.clip(values, 0, None)))
    signal = cp.Parameter(n)
    x = cp.Variable(n)
    y = cp.Variable(root.shape[1])
    curvature = 2 * cfg.risk_aversion / (n * alpha_scale)
    trade = x - n * w0
    objective = 0.5 * curvature * (cp.sum(cp.multiply(d, cp.square(x))) + cp.sum_squares(y)) - signal @ x
    spreads = np.full(n, cfg.spread) if "spreads" not in extra else extra["spreads"]
    if np.any(spreads):
        objective = objective + cp.sum(cp.multiply(spreads / alpha_scale, cp.abs(trade)))
    if "borrow_fees" in extra:
        objective = objective + cp.sum(cp.multiply(extra["borrow_fees"] / alpha_scale, cp.pos(-x)))
    if "power_impact_coefficients" in extra:  # n·κ|w − w0|^{3/2}/α_s = κ/(√n·α_s)·|x − x0|^{3/2}
        kappa = extra["power_impact_coefficients"] / (np.sqrt(n) * alpha_scale)
        objective = objective + cp.sum(cp.multiply(kappa, cp.power(cp.abs(trade), 1.5)))
    cap = np.full(n, cfg.max_position * cfg.gross_leverage)
    low = -cap
    if cfg.max_trade_adv_participation is not None:
        limit = n * cfg.max_trade_adv_participation * case.adv / cfg.capital
        low, cap = np.maximum(low, n * w0 - limit), np.minimum(cap, n * w0 + limit)
    if "lower_bounds" in extra:
        low = np.maximum(low, n * extra["lower_bounds"])
    if "upper_bounds" in extra:
        cap = np.minimum(cap, n * extra["upper_bounds"])
    exposures = np.column_stack([np.ones(n), case.exposures]) if cfg.dollar_neutral else case.exposures
    target = np.zeros(exposures.shape[1])
    if "exposure_targets" in extra:
        target[1:] = n * extra["exposure_targets"]
    extra_constraints = []
    if cfg.max_volatility is not None:  # wᵀΣw = (Σ d x² + ‖y‖²)/n²
        risk = cp.sum(cp.multiply(d, cp.square(x))) + cp.sum_squares(y)
        extra_constraints.append(risk <= (n * cfg.max_volatility) ** 2)
    if cfg.max_long is not None:
        extra_constraints.append(cp.sum(cp.pos(x)) <= n * cfg.max_long)
    if cfg.max_short is not None:
        extra_constraints.append(cp.sum(cp.neg(x)) <= n * cfg.max_short)
    if "band_exposures" in extra:
        rows, lo, hi = extra["band_exposures"], extra["band_lower"], extra["band_upper"]
        extra_constraints.append(rows[:, np.isfinite(hi)].T @ x <= n * hi[np.isfinite(hi)])
        extra_constraints.append(rows[:, np.isfinite(lo)].T @ x >= n * lo[np.isfinite(lo)])
    if "group_labels" in extra:
        for g, limit in enumerate(extra["group_gross"]):
            if np.isfinite(limit):
                extra_constraints.append(cp.norm1(x[extra["group_labels"] == g]) <= n * limit)
    constraints = [
        *extra_constraints,
        exposures.T @ x == target,
        root.T @ x == y,
        x <= cap,
        x >= low,
        cp.norm1(x) <= n * cfg.gross_leverage,
    ]
    problem = cp.Problem(cp.Minimize(objective), constraints)

    def solve(value: np.ndarray) -> np.ndarray:
        signal.value = value
        # (the volatility limit's and the 3/2 power's cones: inaccurate below 1e-10)
        tol = 1e-10 if cfg.max_volatility is not None or "power_impact_coefficients" in extra else 1e-12
        problem.solve(solver=cp.CLARABEL, tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol, warm_start=False)
        assert problem.status == cp.OPTIMAL
        return x.value / n

    return solve


@pytest.mark.parametrize("name", LIMITS)
def test_limit_matches_cvxpy(name):
    """Weights against cvxpy + Clarabel, and the derivative against central differences of
    cvxpy + Clarabel re-solves (an independent model and solver). diffcp's own derivative is not
    used here: at these degenerate optima (names held at 0 by both the no-short bound and the
    gross kink) it was 20–50% off while both central-difference references agreed with ours."""
    case, extra = _case(name, 40, 12)
    result = optimize(case.signal, **case.kwargs(), **extra)
    assert result.active.free.sum() >= 8  # a non-trivial derivative (more free names than rows)
    solve = _cvxpy_solver(case, extra, result.alpha_scale)
    scale = np.abs(result.weights).max()
    # Clarabel reaches 1e-12 on the QP, only 1e-10 with the volatility limit's second-order cone
    # (with the 3/2 power's cones, tolerance 1e-10: weights 7e-9 apart, derivative 2.5e-8 at step 1e-4)
    loose = case.config.max_volatility is not None
    np.testing.assert_allclose(solve(case.signal), result.weights, atol=(1e-5 if loose else 1e-7) * scale)
    rng = np.random.default_rng(0)
    cotangent = rng.standard_normal(case.signal.size)
    ours = result.vjp(cotangent)
    step, tolerance = (1e-3, 1e-2) if loose else (1e-5, 1e-4)
    if "power_impact_coefficients" in extra:
        step, tolerance = 1e-4, 1e-6
    for direction in rng.standard_normal((3, case.signal.size)):
        finite = cotangent @ (solve(case.signal + step * direction) - solve(case.signal - step * direction))
        finite /= 2 * step
        assert abs(finite - direction @ ours) <= tolerance * np.linalg.norm(ours) * np.linalg.norm(direction)


def test_bounds_that_admit_no_neutral_portfolio_raise_with_a_certificate():
    n = 20
    with pytest.raises(InfeasibleError) as error:
        optimize(np.random.default_rng(0).standard_normal(n), lower_bounds=np.full(n, 0.01))  # all long
    assert error.value.code == "infeasible_bounds"


def test_empty_and_bad_bounds():
    signal = np.random.default_rng(0).standard_normal(10)
    with pytest.raises(InfeasibleError) as error:
        optimize(signal, lower_bounds=np.full(10, 0.2), upper_bounds=np.full(10, 0.1))
    assert error.value.code == "empty_bounds"
    with pytest.raises(InvalidInputError, match="lower_bounds"):
        optimize(signal, lower_bounds=np.full(10, np.nan))
    with pytest.raises(InvalidInputError, match="spreads"):
        optimize(signal, spreads=-np.ones(10))
    with pytest.raises(InvalidInputError, match="max_trade_adv_participation"):
        optimize(signal, config=OptimizerConfig(max_trade_adv_participation=0.1))


def test_inconsistent_targets_of_dependent_columns_raise():
    case = make_case(n=40, seed=2)  # 4 sector one-hots: their sum is the dollar-neutral column
    with pytest.raises(InfeasibleError) as error:
        optimize(case.signal, exposure_targets=np.array([0.01, 0.0, 0.0, 0.0, 0.0, 0.0]), **case.kwargs())
    assert error.value.code == "inconsistent_targets"


def test_unreachable_volatility_limit_raises():
    """A turnover cap keeps the book near a risky previous portfolio: the limit cannot be met."""
    case, _ = _case("per_name_spreads", 40, 12)  # a neutral previous book
    config = dataclasses.replace(case.config, max_turnover=0.01, max_volatility=1e-6)
    with pytest.raises(InfeasibleError) as error:
        optimize(case.signal, **case.kwargs() | {"config": config})
    assert error.value.code == "infeasible_volatility"
