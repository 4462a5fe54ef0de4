"""Fast and generic paths agree, and the returned portfolio satisfies the constraints."""

from __future__ import annotations

import numpy as np
import pytest

from kardashev.portfolio import optimize

from .cases import make_case

CASES = {
    "bounds_and_gross": {},
    "ridge_risk": {"n_factors": 0},
    "many_neutralities": {"n_sectors": 6, "n_countries": 3, "n_dense": 5},
    "no_exposures": {"n_sectors": 0, "n_dense": 0},
    "quadratic_costs": {"previous": True, "adv": True, "impact": 5e-4},
    "linear_costs": {"previous": True, "spread": 2e-5},
    "turnover_cap": {"previous": True, "max_turnover": 0.6},
    "costs_and_turnover": {
        "previous": True,
        "adv": True,
        "impact": 2e-4,
        "spread": 1e-5,
        "max_turnover": 0.8,
    },
    "gross_slack": {"signal_strength": 0.3},
}


def check_feasible(case, result, *, tol=1e-9):
    w = result.weights
    n = w.size
    cfg = case.config
    if cfg.dollar_neutral:
        assert abs(w.sum()) <= tol * np.abs(w).sum() + 1e-15
    if case.exposures is not None:
        scale = np.abs(case.exposures).sum(axis=0) * np.abs(w).max() + 1e-15
        assert np.all(np.abs(case.exposures.T @ w) <= tol * scale)
    cap = cfg.max_position * cfg.gross_leverage / n
    assert np.all(np.abs(w) <= cap * (1 + 1e-12))
    assert np.abs(w).sum() <= cfg.gross_leverage * (1 + 1e-9)
    if cfg.max_turnover is not None:
        w0 = case.previous_weights if case.previous_weights is not None else 0.0
        assert np.abs(w - w0).sum() <= cfg.max_turnover * (1 + 1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_and_generic_agree(name):
    case = make_case(seed=sorted(CASES).index(name), **CASES[name])
    fast = optimize(case.signal, method="fast", **case.kwargs())
    generic = optimize(case.signal, method="generic", **case.kwargs())
    assert fast.status == generic.status == "optimal"
    check_feasible(case, fast)
    check_feasible(case, generic)
    scale = np.abs(fast.weights).max()
    np.testing.assert_allclose(fast.weights, generic.weights, rtol=0, atol=1e-8 * scale)
    np.testing.assert_array_equal(fast.active.free, generic.active.free)
    assert fast.active.gross == generic.active.gross
    g = np.random.default_rng(1).standard_normal(case.signal.size)
    grad_fast, grad_generic = fast.vjp(g), generic.vjp(g)
    np.testing.assert_allclose(grad_fast, grad_generic, rtol=0, atol=1e-6 * np.abs(grad_fast).max())
    assert fast.objective == pytest.approx(generic.objective, rel=1e-8)
