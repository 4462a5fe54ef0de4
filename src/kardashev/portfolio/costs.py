"""The optimizer's trading-cost model, in natural units, for callers that price a portfolio after
the solve (True Return, the planted expected value, the demo's weekly book).

With ``t = w − w0`` (the trade; the whole portfolio when there are no holdings)::

    cost(w) = κ·Σ λ_i t_i² + c·Σ|t_i| + Σ κ'_i |t_i|^{3/2}

``κ`` = ``config.impact`` with ``λ_i = median(adv)/adv_i`` when ``config.impact_adv_scaled`` and
``adv`` are given (else 1), ``c`` = ``config.spread``, and ``κ'_i`` the 3/2-power impact's
coefficients: Almgren's ``η·σ_i·√(capital/adv_i)`` with ``η`` = ``config.power_impact`` and
``σ_i = √Σ_ii`` of the risk model (``config.ridge_variance`` without one) — the same terms
:func:`~kardashev.portfolio.optimize` charges in its objective (per-name spreads, borrow fees and
per-name impact coefficients passed to ``optimize`` directly are not part of the config and are
not priced here).
"""

from __future__ import annotations

import numpy as np

from kardashev.errors import ConfigError
from kardashev.portfolio.config import OptimizerConfig, RiskModel

__all__ = ["impact_weights", "power_impact_coefficients", "trade_cost", "trade_cost_gradient"]


def impact_weights(adv: np.ndarray | None, config: OptimizerConfig, n_stocks: int) -> np.ndarray:
    """``(n_stocks,)`` λ_i of the quadratic impact: ``median(adv)/adv_i`` or ones."""
    if adv is not None and config.impact_adv_scaled:
        liquidity = np.asarray(adv, dtype=np.float64)
        return np.median(liquidity) / liquidity
    return np.ones(n_stocks)


def power_impact_coefficients(
    config: OptimizerConfig, *, adv: np.ndarray | None, risk_model: RiskModel | None, n_stocks: int
) -> np.ndarray | None:
    """``(n_stocks,)`` κ'_i = η·σ_i·√(capital/adv_i) of the 3/2-power impact, or None when η = 0."""
    if config.power_impact <= 0:
        return None
    if adv is None or config.capital is None:
        raise ConfigError("config.power_impact needs adv and config.capital (κ_i = η·σ_i·√(capital/adv_i))")
    if risk_model is None:
        variance = np.full(n_stocks, config.ridge_variance)
    else:
        root = risk_model.factor_root()
        variance = risk_model.specific_variance + np.einsum("ij,ij->i", root, root)
    liquidity = np.asarray(adv, dtype=np.float64)
    return config.power_impact * np.sqrt(variance) * np.sqrt(config.capital / liquidity)


def _column(vector: np.ndarray, ndim: int) -> np.ndarray:
    return np.reshape(vector, (-1,) + (1,) * (ndim - 1))


def _trades(weights: np.ndarray, previous_weights: np.ndarray | None) -> np.ndarray:
    if previous_weights is None:
        return weights
    previous = np.asarray(previous_weights, dtype=np.float64)
    if previous.shape == weights.shape:
        return weights - previous
    return weights - _column(previous, weights.ndim)


def trade_cost(
    weights: np.ndarray,
    previous_weights: np.ndarray | None,
    *,
    config: OptimizerConfig | None,
    adv: np.ndarray | None = None,
    risk_model: RiskModel | None = None,
) -> np.ndarray:
    """The cost above for ``weights`` ``(n,)`` or ``(n, m)`` (holdings ``(n,)`` shared or per
    portfolio); returns a float array of shape ``weights.shape[1:]``."""
    config = OptimizerConfig() if config is None else config
    weights = np.asarray(weights, dtype=np.float64)
    trade = _trades(weights, previous_weights)
    n = weights.shape[0]
    cost = np.zeros(weights.shape[1:])
    if config.impact:
        lam = _column(impact_weights(adv, config, n), weights.ndim)
        cost = cost + config.impact * (lam * trade * trade).sum(axis=0)
    if config.spread:
        cost = cost + config.spread * np.abs(trade).sum(axis=0)
    kappa = power_impact_coefficients(config, adv=adv, risk_model=risk_model, n_stocks=n)
    if kappa is not None:
        cost = cost + (_column(kappa, weights.ndim) * np.abs(trade) ** 1.5).sum(axis=0)
    return np.asarray(cost, dtype=np.float64)


def trade_cost_gradient(
    weights: np.ndarray,
    previous_weights: np.ndarray | None,
    *,
    config: OptimizerConfig | None,
    adv: np.ndarray | None = None,
    risk_model: RiskModel | None = None,
) -> np.ndarray:
    """``∇cost(w) = 2κ λ ⊙ t + c·sign(t) + (3/2) κ' ⊙ sign(t)·√|t|`` for one portfolio ``(n,)``
    (the spread's subgradient taken as 0 where t = 0)."""
    config = OptimizerConfig() if config is None else config
    weights = np.asarray(weights, dtype=np.float64)
    trade = _trades(weights, previous_weights)
    n = weights.shape[0]
    gradient = 2.0 * config.impact * impact_weights(adv, config, n) * trade + config.spread * np.sign(trade)
    kappa = power_impact_coefficients(config, adv=adv, risk_model=risk_model, n_stocks=n)
    if kappa is not None:
        gradient = gradient + 1.5 * kappa * np.sign(trade) * np.sqrt(np.abs(trade))
    return np.asarray(gradient, dtype=np.float64)
