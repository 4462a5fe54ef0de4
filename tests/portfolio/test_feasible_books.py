"""Never fail on a feasible book: turnover caps down to 0.001 with up to 300 neutrality rows.

Random books: sector one-hots plus dense style rows, a factor risk model, and a previous
portfolio that is itself feasible (neutral to every row, within the position bounds, gross ≤ 1).
Whatever the turnover cap, the problem is then feasible, and ``optimize`` must return a point
that passes the independent KKT certificate of :mod:`tests.portfolio.certify`.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kardashev.errors import InfeasibleError
from kardashev.portfolio import OptimizerConfig, RiskModel, optimize
from tests.portfolio.certify import assert_kkt


def feasible_book(n: int, rows: int, seed: int, *, gross: float = 1.0):
    """Signal, exposures (rows − 1 columns; the ones column is added by the optimizer), risk model
    and a neutral previous portfolio within the bounds with the given gross."""
    rng = np.random.default_rng(seed)
    n_sectors = max(1, min(11, rows // 3))
    labels = rng.integers(0, n_sectors, n)
    labels[:n_sectors] = np.arange(n_sectors)
    exposures = np.hstack([np.eye(n_sectors)[labels], rng.standard_normal((n, max(rows - 1 - n_sectors, 0)))])
    full = np.column_stack([np.ones(n), exposures])
    loadings = rng.standard_normal((n, 4))
    risk_model = RiskModel(
        factor_loadings=loadings,
        factor_covariance=np.diag(rng.uniform(0.5, 2.0, 4)) * 4e-4,
        specific_variance=rng.uniform(0.5, 2.0, n) * 9e-4,
    )
    raw = rng.standard_normal(n)
    raw -= full @ np.linalg.lstsq(full, raw, rcond=None)[0]
    previous = gross * raw / np.abs(raw).sum()
    cap = 2.5 / n
    if np.abs(previous).max() > cap:
        previous *= cap / np.abs(previous).max()
    return rng.standard_normal(n), exposures, risk_model, previous


@st.composite
def books(draw):
    n = draw(st.integers(30, 400))
    rows = draw(st.integers(2, min(300, n - 10)))
    seed = draw(st.integers(0, 2**31 - 1))
    cap = draw(st.floats(np.log(0.001), np.log(0.3))) if draw(st.booleans()) else None
    spread = draw(st.sampled_from([0.0, 1e-5]))
    config = OptimizerConfig(max_turnover=None if cap is None else float(np.exp(cap)), spread=spread)
    return n, rows, seed, config


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_feasible_books_give_a_certified_optimum(book):
    n, rows, seed, config = book
    signal, exposures, risk_model, previous = feasible_book(n, rows, seed)
    inputs = {"exposures": exposures, "risk_model": risk_model, "previous_weights": previous, "adv": None}
    result = optimize(signal, config=config, **inputs)
    assert result.status in ("optimal", "optimal_zero")
    assert_kkt(
        result,
        signal,
        previous=previous,
        config=config,
        **{k: inputs[k] for k in ("exposures", "risk_model", "adv")},
    )


@pytest.mark.parametrize("method", ["fast", "generic"])
@pytest.mark.parametrize("cap", np.geomspace(0.001, 0.3, 7).tolist())
def test_turnover_sweep_with_many_rows(method, cap):
    """The issue's failing grid: n = 300, 41 rows, caps in [0.001, 0.3], both paths."""
    for seed in range(2):
        signal, exposures, risk_model, previous = feasible_book(300, 41, seed)
        config = OptimizerConfig(max_turnover=cap)
        result = optimize(
            signal,
            exposures=exposures,
            risk_model=risk_model,
            previous_weights=previous,
            config=config,
            method=method,
        )
        assert_kkt(
            result,
            signal,
            exposures=exposures,
            risk_model=risk_model,
            previous=previous,
            adv=None,
            config=config,
        )


def test_infeasible_turnover_raises_with_a_certificate():
    """A previous book that is not neutral, with a cap too small to reach neutrality: the error
    states the smallest turnover that reaches a feasible portfolio (an LP certificate)."""
    signal, exposures, risk_model, _ = feasible_book(60, 6, 0)
    previous = np.full(60, 1.0 / 60)  # net long 100%: reaching Σw = 0 needs turnover ≥ 1
    config = OptimizerConfig(max_turnover=0.5)
    with pytest.raises(InfeasibleError) as error:
        optimize(signal, exposures=exposures, risk_model=risk_model, previous_weights=previous, config=config)
    assert error.value.code == "infeasible_turnover"
    assert "minimum turnover" in str(error.value)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(30, 150),
    rows=st.integers(2, 100),
    seed=st.integers(0, 2**31 - 1),
    log_cap=st.floats(np.log(0.001), np.log(0.3)),
)
def test_feasible_books_in_the_generic_path(n, rows, seed, log_cap):
    rows = min(rows, n - 10)
    signal, exposures, risk_model, previous = feasible_book(n, rows, seed)
    config = OptimizerConfig(max_turnover=float(np.exp(log_cap)))
    inputs = {"exposures": exposures, "risk_model": risk_model, "adv": None}
    result = optimize(signal, config=config, previous_weights=previous, method="generic", **inputs)
    assert_kkt(result, signal, previous=previous, config=config, **inputs)
