r"""Ex-ante volatility limit ``wᵀΣw ≤ σ²``: an outer search on its multiplier, exact derivative.

With the limit's multiplier η ≥ 0 the stationarity conditions are those of the problem without the
limit and risk aversion ``γ + η`` (α fixed: the alpha scale is pinned at its γ value). The
portfolio variance is non-increasing in η, so the optimum is the unconstrained one when its
variance is within the limit, and otherwise the one at the η where ``wᵀΣw = σ²`` exactly —
found by bracketing and the Illinois secant method on warm-started re-solves (each a few Newton
steps). Infeasible when even a very large η cannot bring the variance down (a turnover cap or
bounds that keep the book away from low-risk portfolios): :class:`InfeasibleError`.

Derivative. On the final pieces, ``∂w/∂a = K`` (the re-solve's own exact backward) and a change
dη acts like a change ``−(2/s)Σw·dη`` of the signal (s = alpha scale). Keeping the limit active,
``(Σw)ᵀdw = 0``, eliminates dη::

    dw = K da − K v (vᵀ K da) / (vᵀ K v),   v = Σw,

a symmetric rank-one correction of K, so ``vjp(g) = K g − K v (vᵀ K g)/(vᵀ K v)``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

import numpy as np

from kardashev.errors import InfeasibleError
from kardashev.portfolio.config import OptimizerConfig
from kardashev.portfolio.result import PortfolioResult

__all__ = ["solve_with_volatility_limit"]

logger = logging.getLogger(__name__)

_RELATIVE_TOLERANCE = 1e-11
_MAX_SOLVES = 200
_ETA_LIMIT = 1e12


def _variance(result: PortfolioResult) -> tuple[float, np.ndarray]:
    problem = result._problem
    w = result.weights
    loadings = problem.factor_root  # type: ignore[attr-defined]
    sigma_w = problem.specific * w + loadings @ (loadings.T @ w)  # type: ignore[attr-defined]
    return float(w @ sigma_w), sigma_w


def solve_with_volatility_limit(
    solve: Callable[[OptimizerConfig, PortfolioResult | None], PortfolioResult], config: OptimizerConfig
) -> PortfolioResult:
    """``solve(config, warm_start)`` solves the problem without the limit; returns the limited optimum."""
    limit = float(config.max_volatility) ** 2  # type: ignore[arg-type]
    base = dataclasses.replace(config, max_volatility=None)
    first = solve(base, None)
    variance, _ = _variance(first)
    if variance <= limit * (1 + _RELATIVE_TOLERANCE):
        return first
    gamma = config.risk_aversion
    pinned = dataclasses.replace(base, alpha_scale=first.alpha_scale)

    def at(eta: float, warm: PortfolioResult | None) -> tuple[PortfolioResult, float]:
        result = solve(dataclasses.replace(pinned, risk_aversion=gamma + eta), warm)
        return result, _variance(result)[0] - limit

    lo, f_lo, warm = 0.0, variance - limit, first
    hi = gamma
    result, f_hi = at(hi, warm)
    solves = 1
    while f_hi > 0:  # bracket: grow η until the variance is within the limit
        lo, f_lo, warm = hi, f_hi, result
        hi *= 8.0
        if hi > _ETA_LIMIT * gamma:
            raise InfeasibleError(
                f"the volatility limit {config.max_volatility:.6g} cannot be met: the least risky portfolio "
                f"the other constraints allow has volatility {np.sqrt(f_hi + limit):.6g}",
                code="infeasible_volatility",
            )
        result, f_hi = at(hi, warm)
        solves += 1
    best = result
    side = 0
    while abs(f_hi) > _RELATIVE_TOLERANCE * limit and solves < _MAX_SOLVES:
        eta = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        if not lo < eta < hi:
            eta = 0.5 * (lo + hi)
        candidate, f = at(eta, best)
        solves += 1
        if f > 0:
            lo, f_lo = eta, f
            if side == -1:
                f_hi *= 0.5
            side = -1
        else:
            hi, f_hi, best = eta, f, candidate
            if side == 1:
                f_lo *= 0.5
            side = 1
        if abs(f) <= _RELATIVE_TOLERANCE * limit:
            hi, f_hi, best = eta, f, candidate
            break
        if hi - lo <= 1e-15 * hi:
            break
    logger.debug("volatility limit: multiplier %.3e after %d solves", hi, solves)
    return _limited_result(best, hi, gamma)


def _limited_result(result: PortfolioResult, eta: float, gamma: float) -> PortfolioResult:
    """The re-solve's result with the rank-one corrected backward and the limit's multiplier."""
    _, sigma_w = _variance(result)
    inner = result._gradient
    k_v = inner(sigma_w)
    curvature = float(sigma_w @ k_v)

    def gradient(cotangent: np.ndarray) -> np.ndarray:
        k_g = inner(cotangent)
        if curvature <= 0:
            return k_g
        if cotangent.ndim == 1:
            return k_g - k_v * (float(sigma_w @ k_g) / curvature)
        return k_g - np.outer(k_v, sigma_w @ k_g) / curvature

    variance = float(result.weights @ sigma_w)
    duals = dataclasses.replace(result.duals, volatility=eta)
    return dataclasses.replace(
        result,
        objective=result.objective + eta * variance,  # reported with the fund's own γ
        duals=duals,
        _gradient=gradient,
    )
