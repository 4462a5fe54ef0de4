"""Planted contribution: TC with *expected* returns, net of trading costs — the yardstick TC estimates.

On a market whose expected returns ``μ`` are known (a synthetic one), each model's planted value is
the derivative of the fund's **expected, after-cost** return with respect to its stake, at the stakes
the fund holds, in TC's units::

    E(s) = μᵀw*(s) − cost(w*(s))            cost(w) = κ·Σλ_i (w_i − w0_i)² + c·Σ|w_i − w0_i|
    planted_k = (Σs) · ∂E/∂s_k

It is computed exactly by the TC machinery (:mod:`kardashev.contribution.true_contribution`): the same
blend, standardization and optimizer solve, the optimizer's implicit-differentiation ``vjp`` applied to
the cotangent ``∂E/∂w = μ − ∇cost(w*)`` instead of the realized returns, then the same pull-back through
the standardization and the blend. With ``cost = 0`` and ``μ`` in place of ``r`` it *is* TC. Realized
TC, MMC, CORR … are noisy estimates of something; this is what a stake is worth to the fund in
expectation, including what the optimizer, the constraints and the costs do to a signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kardashev.contribution.inputs import gaussianized_matrix, prepare_era
from kardashev.contribution.solve import EraSolver
from kardashev.contribution.true_contribution import standardization_vjp
from kardashev.contribution.true_return import trading_cost
from kardashev.metamodel import standardize
from kardashev.portfolio import OptimizerConfig
from kardashev.portfolio.costs import trade_cost_gradient

__all__ = ["PlantedContribution", "expected_fund_return", "planted_contribution", "trading_cost_gradient"]


@dataclass(frozen=True, eq=False)
class PlantedContribution:
    """Every model's planted value in one era.

    Attributes
    ----------
    value
        ``(n_models,)`` ``(Σs)·∂E/∂s_k``, the planted (expected, after-cost) contribution.
    expected_return
        ``E = μᵀw* − cost(w*)`` of the fund's portfolio at the stakes.
    gross_expected_return, trading_cost
        ``μᵀw*`` and ``cost(w*)``.
    weights
        ``(n_stocks,)`` the fund's portfolio ``w*``.
    """

    value: np.ndarray
    expected_return: float
    gross_expected_return: float
    trading_cost: float
    weights: np.ndarray


def trading_cost_gradient(
    weights: np.ndarray,
    previous_weights: np.ndarray | None,
    adv: np.ndarray | None,
    config: Any,
    *,
    risk_model: Any = None,
) -> np.ndarray:
    """``∇cost(w) = 2κ λ ⊙ t + c·sign(t) + (3/2) κ' ⊙ sign(t)·√|t|`` (t = w − w0) of
    :func:`kardashev.contribution.trading_cost` (:func:`kardashev.portfolio.costs.trade_cost_gradient`).

    ``sign(0) = 0``: where the optimizer left a position untouched the linear cost is at its kink,
    and the solution does not move there under a small change of the alpha, so that entry does not
    enter the derivative.
    """
    return trade_cost_gradient(weights, previous_weights, config=config, adv=adv, risk_model=risk_model)


def expected_fund_return(
    weights: np.ndarray,
    expected_returns: np.ndarray,
    *,
    previous_weights: np.ndarray | None,
    adv: np.ndarray | None,
    config: Any,
    risk_model: Any = None,
) -> float:
    """``μᵀw − cost(w)``: the expected after-cost return of a portfolio (``risk_model``: the one it
    was optimized with, for the 3/2-power impact's σ_i)."""
    weights = np.asarray(weights, dtype=np.float64)
    cost = float(trading_cost(weights, previous_weights, adv, config, risk_model=risk_model))
    return float(np.asarray(expected_returns, dtype=np.float64) @ weights) - cost


def planted_contribution(
    gaussianized: np.ndarray,
    stakes: np.ndarray,
    expected_returns: np.ndarray,
    exposures: np.ndarray | None,
    config: OptimizerConfig,
    *,
    risk_model: Any = None,
    previous_weights: np.ndarray | None = None,
    adv: np.ndarray | None = None,
    portfolio: Any = None,
    method: str = "auto",
) -> PlantedContribution:
    """The planted (expected, after-cost) contribution of every model in one era.

    Parameters
    ----------
    gaussianized
        ``(n_stocks, n_models)`` gaussianized predictions ``G`` (as TC takes them with
        ``gaussianized=True``).
    stakes
        ``(n_models,)`` the fund's stakes, ≥ 0 with a positive sum.
    expected_returns
        ``(n_stocks,)`` ``μ``: the expected returns over the holding period (the planted truth).
    exposures, config, risk_model, previous_weights, adv, method
        The fund's optimizer inputs, as for :func:`kardashev.contribution.true_contribution`.
    portfolio
        The optimizer's result at these stakes when already solved (e.g. ``TCResult.portfolio`` of the
        same era and stakes): then no solve is repeated and the whole computation is one ``vjp``.

    Returns
    -------
    PlantedContribution

    Raises
    ------
    InvalidInputError, AlignmentError
        As :func:`kardashev.contribution.true_contribution` for bad inputs (NaN, shapes, stakes).
    """
    era, _ = prepare_era(
        gaussianized, stakes, expected_returns, exposures, previous_weights=previous_weights, adv=adv
    )
    matrix = gaussianized_matrix(era, already_gaussianized=True)
    stakes_array, mu = era.required("stakes"), era.required("realized_returns")
    blend = matrix @ (stakes_array / stakes_array.sum())
    alpha = standardize(blend)
    result = portfolio if portfolio is not None else EraSolver(era, config, risk_model, method).solve(alpha)
    weights = np.asarray(result.weights, dtype=np.float64)
    held, liquidity = era.previous_weights, era.adv
    cotangent = mu - trading_cost_gradient(weights, held, liquidity, config, risk_model=risk_model)
    gradient = np.asarray(result.vjp(cotangent), dtype=np.float64)
    sensitivity = standardization_vjp(alpha, float(np.std(blend)), gradient)
    value = matrix.T @ sensitivity - float(blend @ sensitivity)
    cost = float(trading_cost(weights, held, liquidity, config, risk_model=risk_model))
    gross = float(mu @ weights)
    return PlantedContribution(
        value=np.asarray(value, dtype=np.float64),
        expected_return=gross - cost,
        gross_expected_return=gross,
        trading_cost=cost,
        weights=weights,
    )
