"""Property test: on random small problems the returned point satisfies the KKT conditions."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kardashev.portfolio import OptimizerConfig, RiskModel, optimize


@st.composite
def problems(draw):
    n = draw(st.integers(4, 24))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    blocks = []
    n_sectors = draw(st.integers(0, 3))
    if n_sectors:
        blocks.append(np.eye(n_sectors)[rng.integers(0, n_sectors, n)])
    n_dense = draw(st.integers(0, 2))
    if n_dense:
        blocks.append(rng.standard_normal((n, n_dense)))
    exposures = np.hstack(blocks) if blocks else None
    n_factors = draw(st.integers(0, 2))
    risk_model = None
    if n_factors:
        root = rng.standard_normal((n_factors, n_factors)) * 0.02
        risk_model = RiskModel(
            factor_loadings=rng.standard_normal((n, n_factors)),
            factor_covariance=root @ root.T,
            specific_variance=rng.uniform(0.2, 2.0, n) * 1e-3,
        )
    config = OptimizerConfig(
        dollar_neutral=draw(st.booleans()),
        signal_strength=draw(st.floats(0.2, 8.0)),
        max_position=draw(st.floats(1.2, 6.0)),
        impact=draw(st.sampled_from([0.0, 1e-4, 1e-3])),
        spread=draw(st.sampled_from([0.0, 1e-6, 1e-5])),
        max_turnover=draw(st.sampled_from([None, 0.3, 1.0])),
    )
    previous = None
    if draw(st.booleans()) or config.max_turnover is not None:
        # a feasible previous portfolio: neutral, within half the caps
        raw = rng.standard_normal(n)
        full = np.hstack([np.ones((n, 1))] if config.dollar_neutral else [np.zeros((n, 0))])
        if exposures is not None:
            full = np.hstack([full, exposures])
        if full.shape[1]:
            raw -= full @ np.linalg.lstsq(full, raw, rcond=None)[0]
        cap = config.max_position * config.gross_leverage / n
        raw *= min(0.5 * cap / max(np.abs(raw).max(), 1e-12), 0.5 / max(np.abs(raw).sum(), 1e-12))
        previous = raw
    adv = rng.lognormal(15, 1, n) if draw(st.booleans()) else None
    return rng.standard_normal(n), exposures, risk_model, previous, adv, config


def _interval(value, at, width):
    """width·∂|·| at a point: [−width, width] at the kink, else width·sign."""
    return np.where(at, -width, width * np.sign(value)), np.where(at, width, width * np.sign(value))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_kkt_conditions_hold(problem):
    signal, exposures, risk_model, previous, adv, config = problem
    n = signal.size
    full = np.hstack([np.ones((n, 1))] if config.dollar_neutral else [np.zeros((n, 0))])
    if exposures is not None:
        full = np.hstack([full, exposures])
    if full.shape[1] and np.linalg.matrix_rank(full) >= n:
        return  # only the zero portfolio is neutral (tested elsewhere)
    result = optimize(
        signal, exposures=exposures, risk_model=risk_model, previous_weights=previous, adv=adv, config=config
    )
    w = result.weights
    w0 = np.zeros(n) if previous is None else previous
    cap = config.max_position * config.gross_leverage / n
    # primal feasibility
    scale_w = max(np.abs(w).max(), cap * 1e-3)
    if full.shape[1]:
        assert np.abs(full.T @ w).max() <= 1e-9 * scale_w * np.abs(full).sum(axis=0).max()
    assert np.all(np.abs(w) <= cap * (1 + 1e-12))
    assert np.abs(w).sum() <= config.gross_leverage * (1 + 1e-9)
    if config.max_turnover is not None:
        assert np.abs(w - w0).sum() <= config.max_turnover * (1 + 1e-9)
    # stationarity: r = α − ∇(risk + impact) − Aν ∈ λ∂|w| + (c + τ)∂|w − w0| + N_box(w)
    if risk_model is None:
        sigma_w = config.ridge_variance * w
        specific = np.full(n, config.ridge_variance)
    else:
        loadings, specific = risk_model.factor_loadings, risk_model.specific_variance
        sigma_w = loadings @ (risk_model.factor_covariance @ (loadings.T @ w)) + specific * w
    impact = np.median(adv) / adv if adv is not None else np.ones(n)
    residual = result.alpha_scale * signal - 2 * config.risk_aversion * sigma_w
    residual -= 2 * config.impact * impact * (w - w0)
    if full.shape[1]:
        residual -= full @ result.duals.equality
    lam, tau = result.duals.gross, result.duals.turnover
    assert lam >= 0 and tau >= 0
    tol_w = 1e-9 * scale_w
    lo1, hi1 = _interval(w, np.abs(w) <= tol_w, lam)
    lo2, hi2 = _interval(w - w0, np.abs(w - w0) <= tol_w, config.spread + tau)
    lo, hi = lo1 + lo2, hi1 + hi2
    hi = np.where(w >= cap - tol_w, np.inf, hi)
    lo = np.where(w <= -cap + tol_w, -np.inf, lo)
    tol = 1e-8 * max(np.abs(result.alpha_scale * signal).max(), 1e-300)
    assert np.all(residual >= lo - tol) and np.all(residual <= hi + tol)
    # complementary slackness of the caps
    if lam > tol:
        assert abs(np.abs(w).sum() - config.gross_leverage) <= 1e-8 * config.gross_leverage
    if tau > tol:
        assert abs(np.abs(w - w0).sum() - config.max_turnover) <= 1e-8 * config.max_turnover
    # the Jacobian is symmetric positive semidefinite (a projected inverse Hessian), of size at
    # most the unconstrained one alpha_scale/(2γ·min d)
    jacobian = result.jacobian()
    size = result.alpha_scale / (2 * config.risk_aversion * specific.min())
    np.testing.assert_allclose(jacobian, jacobian.T, atol=1e-10 * size)
    eigenvalues = np.linalg.eigvalsh((jacobian + jacobian.T) / 2)
    assert eigenvalues.min() >= -1e-9 * size and eigenvalues.max() <= size * (1 + 1e-9)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_fast_and_generic_paths_agree(problem):
    signal, exposures, risk_model, previous, adv, config = problem
    n = signal.size
    full = np.hstack([np.ones((n, 1))] if config.dollar_neutral else [np.zeros((n, 0))])
    if exposures is not None:
        full = np.hstack([full, exposures])
    if full.shape[1] and np.linalg.matrix_rank(full) >= n:
        return
    inputs = {"exposures": exposures, "risk_model": risk_model, "previous_weights": previous, "adv": adv}
    fast = optimize(signal, method="fast", config=config, **inputs)
    generic = optimize(signal, method="generic", config=config, **inputs)
    cap = config.max_position * config.gross_leverage / n
    scale = max(np.abs(fast.weights).max(), 1e-6 * cap)  # a zero optimum is compared absolutely
    np.testing.assert_allclose(fast.weights, generic.weights, atol=1e-8 * scale)
    if fast.active.n_weakly_active == 0:
        cotangent = np.random.default_rng(0).standard_normal(n)
        grad = fast.vjp(cotangent)
        specific = config.ridge_variance if risk_model is None else risk_model.specific_variance.min()
        size = fast.alpha_scale / (2 * config.risk_aversion * specific)  # bound on the Jacobian's norm
        # floor: rounding of a (near-)zero gradient, relative to the Jacobian's bound (the
        # incrementally updated Newton matrix carries ~1e-9 of it)
        tolerance = 1e-6 * max(np.abs(grad).max(), 1e-8 * size)
        np.testing.assert_allclose(generic.vjp(cotangent), grad, atol=tolerance)
