"""Fast and generic paths agree, and the returned portfolio satisfies the constraints."""

from __future__ import annotations

import dataclasses

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


def test_warm_start_converges_faster_to_the_same_point():
    case = make_case(n=400, n_sectors=8, n_dense=4, n_factors=5, seed=3)
    base = optimize(case.signal, **case.kwargs())
    perturbed = case.signal + 0.05 * np.random.default_rng(4).standard_normal(case.signal.size)
    cold = optimize(perturbed, **case.kwargs())
    warm = optimize(perturbed, warm_start=base, **case.kwargs())
    assert warm.iterations < cold.iterations
    np.testing.assert_allclose(warm.weights, cold.weights, atol=1e-10 * np.abs(cold.weights).max())
    # (not the ones vector: Σw = 0 makes its gradient exactly 0, i.e. rounding noise)
    g = np.random.default_rng(5).standard_normal(case.signal.size)
    np.testing.assert_allclose(warm.vjp(g), cold.vjp(g), atol=1e-8 * np.abs(cold.vjp(g)).max())
    # the duals alone work as a warm start too
    assert optimize(perturbed, warm_start=base.duals, **case.kwargs()).iterations == warm.iterations


def test_dependent_one_hots_get_zero_duals_and_the_rest_are_shadow_prices():
    case = make_case(n=80, n_sectors=4, n_countries=3, n_dense=2, seed=6)
    result = optimize(case.signal, **case.kwargs())
    names = result.duals.exposure_names
    assert names[0] == "dollar_neutral" and len(names) == 1 + case.exposures.shape[1]
    # ones, 4 sectors and 3 countries span only 1 + 3 + 2 dimensions: two columns are dropped
    assert np.sum(result.duals.equality == 0) == 2
    # stationarity with the reported multipliers: α − 2γΣw − Aν ∈ λ∂|w| + bound normal cone
    full = np.hstack([np.ones((80, 1)), case.exposures])
    rm = case.risk_model
    sigma_w = rm.factor_loadings @ (rm.factor_covariance @ (rm.factor_loadings.T @ result.weights))
    sigma_w += rm.specific_variance * result.weights
    reduced = (
        result.alpha_scale * case.signal
        - 2 * case.config.risk_aversion * sigma_w
        - full @ result.duals.equality
    )
    free = result.active.free
    scale = np.abs(result.alpha_scale * case.signal).max()
    np.testing.assert_allclose(
        reduced[free], result.duals.gross * np.sign(result.weights[free]), atol=1e-9 * scale
    )
    bound = result.active.at_upper | result.active.at_lower
    np.testing.assert_allclose(
        reduced[bound],
        (result.duals.gross + result.duals.bounds[bound]) * np.sign(result.weights[bound]),
        atol=1e-9 * scale,
    )


def test_liquidity_caps_and_defaults_make_constraints_active():
    case = make_case(n=300, n_sectors=10, n_dense=5, n_factors=5, seed=8, adv=True)
    result = optimize(case.signal, **case.kwargs())
    counts = result.active.counts()
    assert result.active.gross and counts["at_bound"] > 0.05 * 300 and counts["at_zero"] > 0.05 * 300
    capped = dataclasses.replace(case.config, capital=1e9, max_adv_participation=0.01)
    liquid = optimize(case.signal, **case.kwargs() | {"config": capped})
    caps = np.minimum(capped.max_position / 300, 0.01 * case.adv / 1e9)
    assert np.all(np.abs(liquid.weights) <= caps * (1 + 1e-12))
    assert np.any(liquid.active.at_upper & (caps < capped.max_position / 300))


def test_pandas_inputs_keep_their_labels():
    import pandas as pd

    case = make_case(n=40, n_sectors=3, n_dense=1, seed=9)
    frame = pd.DataFrame(case.exposures, columns=["tech", "energy", "banks", "beta"])
    result = optimize(pd.Series(case.signal), exposures=frame, risk_model=case.risk_model)
    assert result.duals.exposure_names == ("dollar_neutral", "tech", "energy", "banks", "beta")
    np.testing.assert_allclose(result.weights, optimize(case.signal, **case.kwargs()).weights, rtol=1e-12)


@pytest.mark.parametrize("method", ["fast", "generic"])
def test_nearly_dependent_and_empty_exposure_columns(method):
    # a column 1e-5 away from another (the pivoted Householder QR decides its rank) and an
    # all-zero column (a sector without names)
    case = make_case(n=60, n_sectors=3, n_dense=2, seed=12)
    noise = np.random.default_rng(13).standard_normal(60)
    nearly = case.exposures[:, 3] + 1e-5 * noise
    exposures = np.column_stack([case.exposures, nearly, np.zeros(60)])
    result = optimize(case.signal, method=method, **case.kwargs() | {"exposures": exposures})
    assert result.status == "optimal"
    w = result.weights
    assert np.abs(exposures.T @ w).max() <= 1e-10 * np.abs(w).sum()
    assert result.duals.equality[-1] == 0.0  # the empty column carries no price
    reference = optimize(case.signal, method="fast", **case.kwargs() | {"exposures": exposures})
    np.testing.assert_allclose(w, reference.weights, atol=1e-8 * np.abs(w).max())


def test_the_equality_basis_is_reused_only_for_an_equal_exposure_matrix():
    """The rank decision is kept per exposure matrix (kardashev.portfolio.basis): an equal matrix
    reuses it (same weights, bit for bit, as a fresh decision), a matrix changed in place gets a
    new one (here a column made dependent: dropped, and the optimum still certified)."""
    from kardashev.portfolio import basis

    case = make_case(n=80, seed=5, n_sectors=4, n_dense=3)
    basis.clear_cache()
    first = optimize(case.signal, **case.kwargs())
    again = optimize(case.signal, **case.kwargs() | {"exposures": case.exposures.copy()})
    np.testing.assert_array_equal(first.weights, again.weights)
    basis.clear_cache()
    fresh = optimize(case.signal, **case.kwargs())
    np.testing.assert_array_equal(first.weights, fresh.weights)
    exposures = case.exposures
    exposures[:, -1] = exposures[:, -2] + exposures[:, -3]  # in place: now dependent
    changed = optimize(case.signal, **case.kwargs())
    assert changed.duals.equality[-1] == 0.0  # the dependent column was dropped
    full = np.column_stack([np.ones(80), exposures])
    assert np.abs(full.T @ changed.weights).max() <= 1e-12
    assert np.abs(changed.weights - first.weights).max() > 1e-6


def test_a_warm_start_whose_rows_left_the_cache_still_solves_exactly():
    """A warm start reuses its problem's rows; once the cache has dropped them there is no all-names
    seed, and the Newton matrix is formed over the free names from the first step."""
    from kardashev.portfolio import basis

    case = make_case(n=80, seed=6, previous=True, max_turnover=0.3)
    first = optimize(case.signal, **case.kwargs())
    basis.clear_cache()
    nudged = case.signal + 1e-3 * np.random.default_rng(0).standard_normal(80)
    warm = optimize(nudged, warm_start=first, **case.kwargs())
    basis.clear_cache()
    cold = optimize(nudged, **case.kwargs())
    np.testing.assert_allclose(warm.weights, cold.weights, rtol=0, atol=1e-12 * np.abs(cold.weights).max())
