"""The fund, in memory: one era's inputs, the fund's portfolio for given stakes, and its realized return.

This is the fast path the demo uses to compare payout rules and to validate TC against leave-one-out
re-runs. It calls the same pure functions the tournament engine calls (meta model, optimizer, TC), so
its numbers are the engine's numbers; it only skips the database.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kardashev.data.synthetic import EraData
from kardashev.metamodel import meta_model_from_gaussianized
from kardashev.portfolio import OptimizerConfig, RiskModel, optimize
from kardashev.scoring import gaussianize

__all__ = ["EraInputs", "align_weights", "era_inputs", "fund_portfolio"]


@dataclass(frozen=True)
class EraInputs:
    """Everything the fund needs for one era, with predictions gaussianized once.

    Attributes
    ----------
    era
        Era label.
    ids
        ``(n_stocks,)`` stock ids.
    predictions
        ``(n_stocks, n_models)`` raw predictions in [0, 1].
    gaussianized
        ``(n_stocks, n_models)`` Φ⁻¹ of each column's tie-kept rank.
    target
        ``(n_stocks,)`` main target (binned).
    residual_returns
        ``(n_stocks,)`` realized residual return over the target horizon: the portfolio P&L.
    exposures
        ``(n_stocks, k)`` neutrality matrix.
    risk_model
        Factor risk model of the era, or ``None``.
    adv
        ``(n_stocks,)`` average daily dollar volume, or ``None``.
    features
        ``(n_stocks, n_features)`` int8 features.
    feature_names
        Names of the feature columns.
    """

    era: str
    ids: np.ndarray
    predictions: np.ndarray
    gaussianized: np.ndarray
    target: np.ndarray
    residual_returns: np.ndarray
    exposures: np.ndarray
    risk_model: RiskModel | None
    adv: np.ndarray | None
    features: np.ndarray
    feature_names: tuple[str, ...]

    @property
    def n_models(self) -> int:
        return int(self.predictions.shape[1])


def era_inputs(era_data: EraData, predictions: np.ndarray) -> EraInputs:
    """Collect one synthetic era's arrays and the crowd's predictions for it."""
    predictions = np.asarray(predictions, dtype=np.float64)
    risk_model = RiskModel(
        factor_loadings=np.asarray(era_data.factor_loadings, dtype=np.float64),
        factor_covariance=np.asarray(era_data.factor_covariance, dtype=np.float64),
        specific_variance=np.asarray(era_data.specific_variance, dtype=np.float64),
    )
    return EraInputs(
        era=str(era_data.era),
        ids=np.asarray(era_data.ids),
        predictions=predictions,
        gaussianized=gaussianize(predictions),
        target=np.asarray(era_data.targets, dtype=np.float64)[:, 0],
        residual_returns=np.asarray(era_data.residual_returns, dtype=np.float64),
        exposures=np.asarray(era_data.exposures, dtype=np.float64),
        risk_model=risk_model,
        adv=np.asarray(era_data.adv, dtype=np.float64),
        features=np.asarray(era_data.features),
        feature_names=tuple(era_data.feature_names),
    )


def align_weights(previous: dict[str, float] | None, ids: np.ndarray) -> np.ndarray | None:
    """Last era's holdings on this era's universe (0 for newly listed stocks; delisted ones are sold)."""
    if previous is None:
        return None
    return np.array([previous.get(str(stock), 0.0) for stock in ids], dtype=np.float64)


def fund_portfolio(
    inputs: EraInputs,
    stakes: np.ndarray,
    *,
    config: OptimizerConfig,
    previous_weights: np.ndarray | None,
) -> tuple[np.ndarray, float]:
    """The fund's optimized portfolio for ``stakes`` and its realized return ``rᵀw``.

    ``meta = standardize(G s / Σs)`` → :func:`kardashev.portfolio.optimize` → ``w``. This is the forward
    pass of :func:`kardashev.contribution.true_contribution`, without its backward.
    """
    meta_model = meta_model_from_gaussianized(inputs.gaussianized, np.asarray(stakes, dtype=np.float64))
    result = optimize(
        meta_model,
        exposures=inputs.exposures,
        risk_model=inputs.risk_model,
        previous_weights=previous_weights,
        adv=inputs.adv,
        config=config,
    )
    weights = np.asarray(result.weights, dtype=np.float64)
    return weights, float(inputs.residual_returns @ weights)
