"""The TC chain rule (gaussianize → blend → standardize → optimizer → rᵀw) on a smooth optimizer.

The optimizer is replaced by a closed-form equality-constrained QP (see conftest), so these tests
check the contribution layer's own calculus independently of the portfolio optimizer.
"""

from __future__ import annotations

import numpy as np
import pytest

from kardashev.contribution import true_contribution
from kardashev.contribution.true_contribution import standardization_vjp
from kardashev.metamodel import standardize
from kardashev.scoring import gaussianize

from .conftest import linear_optimize, make_era


def _realized_return(era, stakes: np.ndarray) -> float:
    alpha = standardize(gaussianize(era.predictions) @ (stakes / stakes.sum()))
    return float(era.returns @ linear_optimize(alpha, exposures=era.exposures).weights)


def test_tc_equals_central_differences_on_the_stakes(smooth_optimizer) -> None:
    era = make_era(seed=1)
    stakes = era.stakes.copy()
    stakes[2] = 0.0  # a zero-stake model: one-sided in reality, but the formula is smooth here
    result = true_contribution(era.predictions, stakes, era.returns, era.exposures, config=None)
    step = 1e-5
    expected = np.empty_like(stakes)
    for k in range(stakes.size):
        up, down = stakes.copy(), stakes.copy()
        up[k] += step
        down[k] -= step
        expected[k] = stakes.sum() * (_realized_return(era, up) - _realized_return(era, down)) / (2 * step)
    np.testing.assert_allclose(result.tc, expected, rtol=1e-6, atol=1e-9 * np.abs(expected).max())


def test_standardization_vjp_matches_the_jacobian() -> None:
    rng = np.random.default_rng(0)
    blend = rng.standard_normal(7) * 3 + 1
    cotangent = rng.standard_normal(7)
    step = 1e-6
    jacobian = np.column_stack(
        [(standardize(blend + step * e) - standardize(blend - step * e)) / (2 * step) for e in np.eye(7)]
    )
    pulled = standardization_vjp(standardize(blend), float(np.std(blend)), cotangent)
    np.testing.assert_allclose(pulled, jacobian.T @ cotangent, rtol=1e-7, atol=1e-9)


def test_stake_weighted_sum_is_zero_and_scaling_changes_nothing(smooth_optimizer) -> None:
    era = make_era(seed=2)
    base = true_contribution(era.predictions, era.stakes, era.returns, era.exposures, config=None)
    scaled = true_contribution(era.predictions, era.stakes * 1e4, era.returns, era.exposures, config=None)
    assert abs(era.stakes @ base.tc) <= 1e-12 * np.abs(base.tc).sum() * era.stakes.sum()
    np.testing.assert_allclose(scaled.tc, base.tc, rtol=1e-10, atol=1e-14)
    assert base.tc.std() > 0


def test_one_model_and_identical_models(smooth_optimizer) -> None:
    era = make_era(seed=3)
    single = true_contribution(era.predictions[:, :1], [2.0], era.returns, era.exposures, config=None)
    assert single.tc.shape == (1,)
    assert abs(single.tc[0]) < 1e-12
    twins = np.column_stack([era.predictions[:, :3], era.predictions[:, 1]])
    result = true_contribution(twins, [1.0, 2.0, 0.5, 0.0], era.returns, era.exposures, config=None)
    assert result.tc[1] == pytest.approx(result.tc[3], rel=1e-12)
