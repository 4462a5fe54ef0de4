"""Hypothesis properties of TC through the real optimizer on random small eras."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kardashev.contribution import true_contribution
from kardashev.portfolio import OptimizerConfig

from .conftest import make_era


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n_stocks=st.integers(20, 60),
    n_models=st.integers(1, 6),
    n_exposures=st.integers(0, 5),
    zero_stakes=st.integers(0, 5),
    scale=st.floats(1e-3, 1e6),
    max_position=st.sampled_from([1.5, 2.5, 50.0]),
)
def test_tc_sums_to_zero_is_scale_free_and_labels_follow_models(
    seed: int,
    n_stocks: int,
    n_models: int,
    n_exposures: int,
    zero_stakes: int,
    scale: float,
    max_position: float,
) -> None:
    era = make_era(seed=seed, n_stocks=n_stocks, n_models=n_models, n_exposures=max(n_exposures, 1))
    exposures = era.exposures[:, :n_exposures] if n_exposures else None
    stakes = era.stakes.copy()
    stakes[: min(zero_stakes, n_models - 1)] = 0.0
    config = OptimizerConfig(max_position=max_position)
    result = true_contribution(era.predictions, stakes, era.returns, exposures, config)
    assert np.all(np.isfinite(result.tc))
    size = np.abs(result.tc).max() * stakes.sum() + 1e-300
    assert abs(stakes @ result.tc) <= 1e-9 * size
    scaled = true_contribution(era.predictions, scale * stakes, era.returns, exposures, config)
    tolerance = {"rtol": 1e-6, "atol": 1e-9 * np.abs(result.tc).max() + 1e-15}
    np.testing.assert_allclose(scaled.tc, result.tc, **tolerance)
    order = np.random.default_rng(seed).permutation(n_models)
    permuted = true_contribution(era.predictions[:, order], stakes[order], era.returns, exposures, config)
    np.testing.assert_allclose(
        permuted.tc, result.tc[order], rtol=1e-6, atol=1e-9 * np.abs(result.tc).max() + 1e-15
    )
