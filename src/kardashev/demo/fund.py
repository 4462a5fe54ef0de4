"""The fund, in memory: one era's inputs, the fund's portfolio for given stakes, and its realized return.

This is the fast path the demo uses to compare payout rules and to validate TC against leave-one-out
re-runs. It calls the same pure functions the tournament engine calls (meta model, optimizer, TC), so
its numbers are the engine's numbers; it only skips the database.
"""

from __future__ import annotations

import numpy as np

from kardashev.contribution.scores import risk_model_of
from kardashev.data.era import Era, EraRisk
from kardashev.data.synthetic import EraData
from kardashev.metamodel import meta_model_from_gaussianized
from kardashev.portfolio import OptimizerConfig, optimize
from kardashev.scoring.registry import with_gaussianized

__all__ = ["align_weights", "era_inputs", "fund_portfolio"]


def era_inputs(era_data: EraData, predictions: np.ndarray) -> Era:
    """One synthetic era's published and realized arrays with the crowd's predictions, as the
    :class:`~kardashev.data.era.Era` every layer takes (gaussianized once, here)."""
    return with_gaussianized(
        Era.build(
            era_data.era,
            era_data.ids,
            predictions=np.asarray(predictions, dtype=np.float64),
            target=np.asarray(era_data.targets, dtype=np.float64)[:, 0],
            realized_returns=era_data.residual_returns,
            exposures=era_data.exposures,
            exposure_names=era_data.exposure_names,
            risk=EraRisk(era_data.factor_loadings, era_data.factor_covariance, era_data.specific_variance),
            adv=era_data.adv,
            features=np.asarray(era_data.features),
            feature_names=era_data.feature_names,
        )
    )


def align_weights(previous: dict[str, float] | None, ids: np.ndarray) -> np.ndarray | None:
    """Last era's holdings on this era's universe (0 for newly listed stocks; delisted ones are sold)."""
    if previous is None:
        return None
    return np.array([previous.get(str(stock), 0.0) for stock in ids], dtype=np.float64)


def fund_portfolio(
    inputs: Era,
    stakes: np.ndarray,
    *,
    config: OptimizerConfig,
    previous_weights: np.ndarray | None,
) -> tuple[np.ndarray, float]:
    """The fund's optimized portfolio for ``stakes`` and its realized return ``rᵀw``.

    ``meta = standardize(G s / Σs)`` → :func:`kardashev.portfolio.optimize` → ``w``. This is the forward
    pass of :func:`kardashev.contribution.true_contribution`, without its backward.
    """
    assert inputs.gaussianized is not None and inputs.realized_returns is not None  # built by era_inputs
    meta_model = meta_model_from_gaussianized(inputs.gaussianized, np.asarray(stakes, dtype=np.float64))
    result = optimize(
        meta_model,
        exposures=inputs.exposures,
        risk_model=risk_model_of(inputs),
        previous_weights=previous_weights,
        adv=inputs.adv,
        config=config,
    )
    weights = np.asarray(result.weights, dtype=np.float64)
    return weights, float(inputs.realized_returns @ weights)
