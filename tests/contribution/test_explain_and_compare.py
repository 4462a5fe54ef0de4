"""TC explained (per-stock decomposition, shadow prices) and TC next to the MPC proxy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numerai_tools.scoring import meta_portfolio_contribution as numerai_mpc

from kardashev.contribution import compare_contributions, explain_contribution, true_contribution
from kardashev.errors import NotFoundError
from kardashev.portfolio import OptimizerConfig
from kardashev.scoring import orthonormal_neutralizers

from .conftest import make_era


def _frames(seed: int = 31):
    era = make_era(seed=seed, n_stocks=80, n_models=5, n_exposures=3)
    ids = pd.Index([f"stock{i:02d}" for i in range(80)])
    models = ["m0", "m1", "m2", "m3", "m4"]
    return (
        pd.DataFrame(era.predictions, index=ids, columns=models),
        pd.Series(era.stakes, index=models),
        pd.Series(era.returns, index=ids),
        pd.DataFrame(era.exposures, index=ids, columns=["beta", "size", "value"]),
    )


def test_stock_contributions_sum_to_the_models_tc() -> None:
    predictions, stakes, returns, exposures = _frames()
    config = OptimizerConfig()
    tc = true_contribution(predictions, stakes, returns, exposures, config)
    for model in ("m0", "m3"):
        explained = explain_contribution(predictions, stakes, returns, exposures, config, model=model)
        assert explained.tc == pytest.approx(tc.tc[model], rel=1e-10, abs=1e-14)
        frame = explained.to_frame()
        assert frame["contribution"].sum() == pytest.approx(tc.tc[model], rel=1e-10, abs=1e-14)
        assert set(frame.index) == set(predictions.index)
        assert np.all(np.diff(np.abs(frame["contribution"].to_numpy())) <= 0)  # largest first
        np.testing.assert_allclose(frame["contribution"], frame["difference"] * frame["sensitivity"])
        assert explained.top(7).shape[0] == 7
    # stocks held at a bound or at zero pass nothing through: their sensitivity is only the
    # standardization's shift, identical for all of them
    fixed = frame["position"].isin(["at_upper", "at_lower", "at_zero"])
    assert fixed.any() and (frame.loc[fixed, "return_gradient"] == 0).all()
    assert (frame.loc[frame["position"].isin(["at_upper", "at_lower"]), "bound_shadow_price"] > 0).all()
    constraints = explained.constraint_frame()
    assert "neutral:beta" in constraints.index and "gross_leverage" in constraints.index
    assert (
        constraints.loc["gross_leverage", "active"] and constraints.loc["gross_leverage", "shadow_price"] > 0
    )
    figure = explained.figure(count=10)
    assert len(figure.data[0].x) == 10


def test_explain_by_position_and_unknown_model() -> None:
    predictions, stakes, returns, exposures = _frames(32)
    config = OptimizerConfig()
    by_name = explain_contribution(predictions, stakes, returns, exposures, config, model="m2")
    by_position = explain_contribution(
        predictions.to_numpy(), stakes.to_numpy(), returns.to_numpy(), exposures.to_numpy(), config, model=2
    )
    np.testing.assert_allclose(by_name.stock_contributions, by_position.stock_contributions)
    with pytest.raises(NotFoundError):
        explain_contribution(predictions, stakes, returns, exposures, config, model="nobody")
    with pytest.raises(NotFoundError):
        explain_contribution(predictions.to_numpy(), stakes, returns, exposures, config, model=9)


def test_orthonormal_neutralizers() -> None:
    rng = np.random.default_rng(0)
    exposures = np.column_stack([np.ones(40), rng.standard_normal((40, 3))])
    exposures = np.column_stack([exposures, exposures[:, 1] + exposures[:, 2]])  # a dependent column
    weights = rng.uniform(0.5, 2.0, 40)
    neutralizers = orthonormal_neutralizers(exposures, weights)
    assert neutralizers.shape == (40, 4)
    np.testing.assert_allclose(neutralizers.T @ (weights[:, None] * neutralizers), np.eye(4), atol=1e-12)
    projected = neutralizers @ (neutralizers.T @ (weights[:, None] * exposures))
    np.testing.assert_allclose(projected, exposures, atol=1e-10)


def test_compare_puts_tc_next_to_numerai_tools_mpc() -> None:
    predictions, stakes, returns, exposures = _frames(33)
    config = OptimizerConfig()
    comparison = compare_contributions(predictions, stakes, returns, exposures, config)
    tc = true_contribution(predictions, stakes, returns, exposures, config)
    pd.testing.assert_series_equal(comparison.tc, tc.tc)
    columns = np.column_stack([np.ones(80), exposures.to_numpy()])
    neutralizers = pd.DataFrame(orthonormal_neutralizers(columns, np.ones(80)), index=predictions.index)
    expected = numerai_mpc(
        predictions, stakes, neutralizers, pd.Series(1.0, index=predictions.index), returns
    )
    np.testing.assert_allclose(comparison.mpc.to_numpy(), expected.to_numpy(), rtol=1e-10, atol=1e-15)
    frame = comparison.to_frame()
    assert list(frame.columns) == ["tc", "mpc", "tc_rank", "mpc_rank"]
    assert -1.0 <= comparison.rank_correlation <= 1.0
    assert len(comparison.figure().data[0].x) == 5
