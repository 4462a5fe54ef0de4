"""TC on a fund-like book: a tight turnover cap with many neutrality rows (issue 12: it used to
raise SolverError). TC must exist, sum to zero in the stake-weighted sense, and match central
differences of the realized return with respect to the stakes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kardashev.contribution import true_contribution
from kardashev.metamodel import standardize
from kardashev.portfolio import OptimizerConfig, optimize
from kardashev.scoring import gaussianize
from tests.portfolio.test_feasible_books import feasible_book


@pytest.mark.parametrize("cap", [0.002, 0.05])
def test_tc_with_a_tight_turnover_cap_and_41_rows(cap):
    signal, exposures, risk_model, previous = feasible_book(300, 41, 3)
    rng = np.random.default_rng(4)
    predictions = signal[:, None] * rng.uniform(0, 1, 5) + rng.standard_normal((300, 5))
    stakes = rng.uniform(0.5, 2.0, 5)
    returns = 0.02 * signal + 0.05 * rng.standard_normal(300)
    config = OptimizerConfig(max_turnover=cap, tolerance=1e-13)
    options = {"risk_model": risk_model, "previous_weights": previous}
    result = true_contribution(predictions, stakes, returns, exposures, config, **options)
    assert np.all(np.isfinite(result.tc)) and np.any(result.tc != 0)
    assert abs(stakes @ result.tc) <= 1e-10 * (stakes @ np.abs(result.tc))
    gaussianized = gaussianize(predictions)

    def realized(s: np.ndarray) -> float:
        alpha = standardize(gaussianized @ (s / s.sum()))
        return float(returns @ optimize(alpha, exposures=exposures, config=config, **options).weights)

    step = 1e-6 * stakes.sum()
    k = int(np.argmax(stakes))
    up, down = stakes.copy(), stakes.copy()
    up[k] += step
    down[k] -= step
    finite = stakes.sum() * (realized(up) - realized(down)) / (2 * step)
    # (at the tightest cap fewer names trade than there are rows: TC is 0 up to re-solve noise)
    assert finite == pytest.approx(result.tc[k], rel=1e-5, abs=1e-10)
    # bagging (warm starts through the robust path) works too
    bagged = true_contribution(
        predictions,
        stakes,
        returns,
        exposures,
        dataclasses.replace(config, tolerance=1e-10),
        bags=3,
        seed=0,
        **options,
    )
    assert np.all(np.isfinite(bagged.tc))
