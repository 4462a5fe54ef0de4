r"""``optimize``: the fund's long/short portfolio, and its exact derivative.

Problem (weights ``w`` are fractions of capital; ``w0`` the previous weights, zeros if none)::

    maximize   αᵀw − γ·wᵀΣw − κ·Σ_i λ_i (w_i − w0_i)² − Σ_i c_i |w_i − w0_i| − Σ_i φ_i max(−w_i, 0)
               − Σ_i κ'_i |w_i − w0_i|^{3/2}   (3/2-power market impact)
    subject to Aᵀw = t                  (dollar neutral + every exposure column; t = 0 unless
                                         ``exposure_targets`` are given)
               l_i ≤ w_i ≤ u_i          (position cap, optionally liquidity-scaled; per-name
                                         bounds, no-short lists, trade-size limits: l_i = −u_i
                                         unless narrowed)
               Σ_i |w_i| ≤ L            (gross leverage)
               Σ_i |w_i − w0_i| ≤ T     (optional turnover cap)
               wᵀΣw ≤ σ²                (optional ex-ante volatility limit)

Units: α (= ``alpha_scale · expected_returns``) in return per era, Σ = B F Bᵀ + diag(d) in
return² per era (or ``ridge_variance·I``), γ dimensionless risk aversion, c in return per unit of
traded capital (a half-spread), κ in return per (fraction of capital traded)² (λ_i =
median(adv)/adv_i, dimensionless), u_i, L and T in fractions of capital. The problem is strictly
convex because d > 0, so w* is unique and piecewise linear in α. Internally positions are
scaled by n (x = n·w, :mod:`kardashev.portfolio.problem`): natural weights are ~1/n, and
tolerances are relative.

Solve paths (same result to ~1e-8, same gradient):

* ``"fast"`` — semi-smooth Newton on the small dual (:mod:`kardashev.portfolio.fast`);
  covers every configuration of :class:`OptimizerConfig`.
* ``"generic"`` — Clarabel (interior point) on the conic form, then an exact active-set polish
  (:mod:`kardashev.portfolio.generic`); the independent cross-check.
* ``"auto"`` — fast; if it fails to converge (:class:`SolverError`), the generic path.

Backward: ``result.vjp(g)`` = ∂(gᵀw*)/∂expected_returns by implicit differentiation of the KKT
conditions on the free set (:mod:`kardashev.portfolio.kkt`); names at a bound, at zero or at
their previous holding have derivative 0; weakly active constraints are treated as inactive
(:mod:`kardashev.portfolio.solution`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from kardashev.errors import ConfigError, InfeasibleError, SolverError
from kardashev.portfolio.config import OptimizerConfig, RiskModel
from kardashev.portfolio.fast import solve_fast
from kardashev.portfolio.generic import solve_generic
from kardashev.portfolio.kkt import single_threaded_blas
from kardashev.portfolio.problem import ScaledProblem, build_problem
from kardashev.portfolio.result import PortfolioDuals, PortfolioResult
from kardashev.portfolio.volatility import solve_with_volatility_limit

__all__ = ["optimize"]

_METHODS = ("auto", "fast", "generic")


def optimize(
    expected_returns: object,
    *,
    exposures: object | None = None,
    risk_model: RiskModel | None = None,
    previous_weights: object | None = None,
    adv: object | None = None,
    config: OptimizerConfig | None = None,
    method: Literal["auto", "fast", "generic"] = "auto",
    warm_start: PortfolioResult | PortfolioDuals | None = None,
    exposure_names: tuple[str, ...] | None = None,
    lower_bounds: object | None = None,
    upper_bounds: object | None = None,
    spreads: object | None = None,
    borrow_fees: object | None = None,
    exposure_targets: object | None = None,
    group_labels: object | None = None,
    group_gross: object | None = None,
    band_exposures: object | None = None,
    band_lower: object | None = None,
    band_upper: object | None = None,
    power_impact_coefficients: object | None = None,
) -> PortfolioResult:
    """Optimal portfolio for one era.

    Parameters
    ----------
    expected_returns
        (n,) signal; α = ``alpha_scale · expected_returns`` (see :class:`OptimizerConfig`).
    exposures
        (n, k) neutrality matrix (one-hots, beta, styles …); dependent columns are fine.
    risk_model
        :class:`RiskModel`, or None for ``Σ = ridge_variance · I``.
    previous_weights
        (n,) current holdings (fractions of capital) for trading costs and turnover.
    adv
        (n,) average daily dollar volume (> 0): scales impact and, with ``capital``, the caps.
    config
        :class:`OptimizerConfig` (defaults if None).
    method
        ``"auto"``, ``"fast"`` or ``"generic"``.
    warm_start
        multipliers of a previous solve (its result or ``result.duals``) to start Newton from,
        e.g. when re-solving with a slightly perturbed signal (bagging).
    exposure_names
        names of the exposure columns (for ``result.duals``).
    lower_bounds, upper_bounds
        (n,) per-name bounds on w_i (fractions of capital; a scalar applies to every name;
        ±inf = no bound), intersected with the config's caps: e.g. ``lower_bounds=0`` on a
        no-short / hard-to-borrow list, ``upper_bounds=0`` on a no-long list.
    spreads
        (n,) per-name linear costs c_i ≥ 0 (return per unit traded), replacing ``config.spread``.
    borrow_fees
        (n,) or scalar borrow fees φ_i ≥ 0 (return per unit of short position per era): the
        objective pays ``Σ φ_i·max(−w_i, 0)`` (hard-to-borrow names get high fees).
    exposure_targets
        (k,) non-zero targets t for the exposure columns: ``Eᵀw = t`` instead of 0 (e.g. a beta
        or a style tilt); the dollar-neutral column keeps its 0. Dependent columns must have
        consistent targets (else :class:`InfeasibleError`, code ``inconsistent_targets``).
    group_labels, group_gross
        (n,) integer group of each name (sector, country …) and (m,) gross caps per group
        (fractions of capital; inf = none): ``Σ_{i∈g} |w_i| ≤ group_gross[g]``.
    band_exposures, band_lower, band_upper
        (n, kb) exposures B kept within bands ``lo ≤ Bᵀw ≤ hi`` (kb,) (±inf = one-sided), e.g. a
        beta between −0.05 and 0.05 instead of exactly 0.
    power_impact_coefficients
        (n,) or scalar κ'_i ≥ 0 of the 3/2-power market impact ``Σ κ'_i |w_i − w0_i|^{3/2}``
        (return per (fraction of capital traded)^{3/2}), replacing the Almgren model of
        ``config.power_impact`` (κ'_i = η·σ_i·√(capital/adv_i)).

    Raises
    ------
    InvalidInputError
        NaN/inf or mis-shaped inputs (the message names the argument).
    ConfigError
        unknown ``method``.
    InfeasibleError
        the constraints admit no portfolio (or only the zero portfolio).
    SolverError
        no convergence.
    """
    if method not in _METHODS:
        raise ConfigError(f"method must be one of {_METHODS}, got {method!r}")
    with single_threaded_blas():
        return _optimize(
            expected_returns,
            exposures=exposures,
            risk_model=risk_model,
            previous_weights=previous_weights,
            adv=adv,
            config=config,
            method=method,
            warm_start=warm_start,
            exposure_names=exposure_names,
            limits={
                "lower_bounds": lower_bounds,
                "upper_bounds": upper_bounds,
                "spreads": spreads,
                "borrow_fees": borrow_fees,
                "exposure_targets": exposure_targets,
                "group_labels": group_labels,
                "group_gross": group_gross,
                "band_exposures": band_exposures,
                "band_lower": band_lower,
                "band_upper": band_upper,
                "power_impact_coefficients": power_impact_coefficients,
            },
        )


def _optimize(
    expected_returns: object,
    *,
    exposures: object | None,
    risk_model: RiskModel | None,
    previous_weights: object | None,
    adv: object | None,
    config: OptimizerConfig | None,
    method: str,
    warm_start: PortfolioResult | PortfolioDuals | None,
    exposure_names: tuple[str, ...] | None,
    limits: dict,
) -> PortfolioResult:
    config = config if config is not None else OptimizerConfig()

    def solve(cfg: OptimizerConfig, warm: PortfolioResult | PortfolioDuals | None) -> PortfolioResult:
        problem = build_problem(
            expected_returns,
            exposures=exposures,
            risk_model=risk_model,
            previous_weights=previous_weights,
            adv=adv,
            config=cfg,
            exposure_names=exposure_names,
            reuse=warm._problem if isinstance(warm, PortfolioResult) else None,  # type: ignore[arg-type]
            **limits,
        )
        if method == "generic":
            return _check_targets(problem, solve_generic(problem))
        duals = warm.duals if isinstance(warm, PortfolioResult) else warm
        try:
            return _check_targets(problem, solve_fast(problem, warm_start=duals))
        except SolverError:
            if method == "fast":
                raise
        return _check_targets(problem, solve_generic(problem))

    if config.max_volatility is not None:
        return solve_with_volatility_limit(solve, config)
    return solve(config, warm_start)


def _check_targets(problem: ScaledProblem, result: PortfolioResult) -> PortfolioResult:
    """Targets of dependent columns (dropped from the basis) must follow from the kept ones."""
    if not np.any(problem.target_full):
        return result
    achieved = problem.exposures.T @ result.weights
    scale = np.abs(problem.exposures).sum(axis=0) * max(float(np.abs(result.weights).max()), 1e-300)
    if np.any(np.abs(achieved - problem.target_full) > 1e-7 * np.maximum(scale, 1e-300)):
        raise InfeasibleError(
            "the exposure targets are inconsistent: dependent exposure columns (e.g. sector and country "
            "one-hots) have targets that no portfolio meets together",
            code="inconsistent_targets",
        )
    return result
