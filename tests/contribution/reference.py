"""An independent cvxpy model of Kardashev's TC pipeline, for tests only.

It writes the optimizer's published objective (see ``OptimizerConfig``) directly in cvxpy::

    maximize   (α_scale·a)ᵀw − γ·wᵀΣw − κ·Σ λ_i (w_i − w0_i)² − c·Σ|w_i − w0_i|
    subject to [1, E]ᵀw = 0,  |w_i| ≤ u,  Σ|w_i| ≤ L,  [Σ|w_i − w0_i| ≤ T]

and differentiates through it with cvxpy's own ``requires_grad``/``backward`` (diffcp + SCS).
The alpha is written so that the whole map stakes → realized return is differentiated by cvxpy:
``a(s) = κ(s)·G_c s`` with ``G_c`` the column-centred gaussianized predictions and
``κ(s) = 1/std(G_c s)``. cvxpy's problem must be DPP, so ``κ`` is frozen at the point and its own
derivative is supplied through a second scalar parameter ``t`` that scales the fixed alpha
``a₀ = a(s₀)``::

    dR/ds = ∂R/∂s|κ fixed  +  (∂R/∂t)·∇κ/κ,   ∇κ/κ = −κ² G_cᵀ G_c s / n = −κ G_cᵀ a₀ / n
"""

from __future__ import annotations

import math

import cvxpy as cp
import numpy as np


def alpha_scale(config, n_stocks: int, specific_variance: np.ndarray | None) -> float:
    """The default alpha scale as documented in ``OptimizerConfig.alpha_scale``."""
    if config.alpha_scale is not None:
        return float(config.alpha_scale)
    median = float(np.median(specific_variance)) if specific_variance is not None else config.ridge_variance
    return (
        config.signal_strength
        * 2.0
        * config.risk_aversion
        * median
        * config.gross_leverage
        / (n_stocks * math.sqrt(2.0 / math.pi))
    )


def reference_tc(
    gaussianized: np.ndarray,
    stakes: np.ndarray,
    returns: np.ndarray,
    exposures: np.ndarray | None,
    config,
    *,
    risk_model=None,
    previous_weights: np.ndarray | None = None,
    eps: float = 1e-9,
) -> tuple[np.ndarray, np.ndarray]:
    """cvxpy's TC (Σs · dR/ds) and its optimal weights, for the pipeline on ``gaussianized``."""
    n_stocks, n_models = gaussianized.shape
    centered = gaussianized - gaussianized.mean(axis=0)
    kappa = 1.0 / float(np.std(centered @ stakes))
    alpha0 = kappa * centered @ stakes
    scale = alpha_scale(config, n_stocks, None if risk_model is None else risk_model.specific_variance)

    stake_parameter = cp.Parameter(n_models, value=stakes)
    shift = cp.Parameter(value=0.0)
    w = cp.Variable(n_stocks)
    signal = stake_parameter @ ((scale * kappa * centered).T @ w) + shift * ((scale * alpha0) @ w)
    if risk_model is None:
        risk = config.ridge_variance * cp.sum_squares(w)
    else:
        root = risk_model.factor_root()
        risk = cp.sum_squares(root.T @ w) + cp.sum(cp.multiply(risk_model.specific_variance, cp.square(w)))
    previous = np.zeros(n_stocks) if previous_weights is None else previous_weights
    trade = w - previous
    costs = 0.0
    if config.impact:
        costs = costs + config.impact * cp.sum_squares(trade)
    if config.spread:
        costs = costs + config.spread * cp.norm1(trade)
    bound = config.max_position * config.gross_leverage / n_stocks
    constraints = [cp.abs(w) <= bound, cp.norm1(w) <= config.gross_leverage]
    neutral = np.ones((n_stocks, 1)) if exposures is None else np.column_stack([np.ones(n_stocks), exposures])
    constraints.append(neutral.T @ w == 0)
    if config.max_turnover is not None:
        constraints.append(cp.norm1(trade) <= config.max_turnover)
    problem = cp.Problem(cp.Maximize(signal - config.risk_aversion * risk - costs), constraints)
    problem.solve(requires_grad=True, solver=cp.SCS, eps_abs=eps, eps_rel=eps, max_iters=200_000)
    w.gradient = returns
    problem.backward()
    gradient = stake_parameter.gradient - shift.gradient * kappa * (centered.T @ alpha0) / n_stocks
    return stakes.sum() * gradient, np.asarray(w.value)
