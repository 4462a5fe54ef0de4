"""An independent KKT certificate of an optimizer result, written from the published problem.

It rebuilds the natural-unit problem of :class:`~kardashev.portfolio.OptimizerConfig` from the
raw inputs (not from the optimizer's internals) and checks, for the returned weights and
multipliers: primal feasibility, stationarity of the Lagrangian (the residual lies in the
subdifferential of the non-smooth terms plus the normal cone of the box), signs of the caps'
multipliers and complementary slackness.
"""

from __future__ import annotations

import numpy as np


def _interval(value, at, width):
    """width·∂|·| at a point: [−width, width] at the kink, else width·sign."""
    return np.where(at, -width, width * np.sign(value)), np.where(at, width, width * np.sign(value))


def assert_kkt(
    result,
    signal,
    *,
    exposures,
    risk_model,
    previous,
    adv,
    config,
    lower_bounds=None,
    upper_bounds=None,
    spreads=None,
    borrow_fees=None,
    exposure_targets=None,
    group_labels=None,
    group_gross=None,
    band_exposures=None,
    band_lower=None,
    band_upper=None,
    power_impact_coefficients=None,
    rtol: float = 1e-8,
) -> None:
    """Raise AssertionError unless ``result`` satisfies the KKT conditions to ``rtol``."""
    n = signal.size
    full = np.hstack([np.ones((n, 1))] if config.dollar_neutral else [np.zeros((n, 0))])
    if exposures is not None:
        full = np.hstack([full, exposures])
    w = result.weights
    w0 = np.zeros(n) if previous is None else previous
    cap = np.full(n, config.max_position * config.gross_leverage / n)
    if adv is not None and config.capital is not None:
        cap = np.minimum(cap, config.max_adv_participation * adv / config.capital)
    low = -cap
    if config.max_trade_adv_participation is not None:
        trade = config.max_trade_adv_participation * adv / config.capital
        low, cap = np.maximum(low, w0 - trade), np.minimum(cap, w0 + trade)
    if lower_bounds is not None:
        low = np.maximum(low, lower_bounds)
    if upper_bounds is not None:
        cap = np.minimum(cap, upper_bounds)
    spread = np.full(n, config.spread) if spreads is None else np.asarray(spreads, dtype=float)
    scale_w = max(np.abs(w).max(), np.abs(cap).max() * 1e-3)
    # primal feasibility
    if full.shape[1]:
        target = np.zeros(full.shape[1])
        if exposure_targets is not None:
            target[int(config.dollar_neutral) :] = exposure_targets
        assert np.abs(full.T @ w - target).max() <= 10 * rtol * scale_w * np.abs(full).sum(axis=0).max()
    assert np.all(w <= cap + 1e-12 * np.abs(cap)) and np.all(w >= low - 1e-12 * np.abs(low))
    assert np.abs(w).sum() <= config.gross_leverage * (1 + 10 * rtol)
    if config.max_turnover is not None:
        assert np.abs(w - w0).sum() <= config.max_turnover * (1 + 10 * rtol)
    # stationarity: r = α − ∇(risk + impact) − Aν ∈ λ∂|w| + (c + τ)∂|w − w0| + N_box(w)
    if risk_model is None:
        sigma_w = config.ridge_variance * w
    else:
        loadings, specific = risk_model.factor_loadings, risk_model.specific_variance
        sigma_w = loadings @ (risk_model.factor_covariance @ (loadings.T @ w)) + specific * w
    impact = np.median(adv) / adv if (adv is not None and config.impact_adv_scaled) else np.ones(n)
    eta = result.duals.volatility  # the volatility limit's multiplier adds to the risk aversion
    assert eta >= 0
    if config.max_volatility is not None:
        volatility = float(np.sqrt(w @ sigma_w))
        assert volatility <= config.max_volatility * (1 + 10 * rtol)
        if eta > 0:
            assert abs(volatility - config.max_volatility) <= 10 * rtol * config.max_volatility
    else:
        assert eta == 0
    residual = result.alpha_scale * signal - 2 * (config.risk_aversion + eta) * sigma_w
    residual -= 2 * config.impact * impact * (w - w0)
    kappa = None
    if power_impact_coefficients is not None:
        kappa = np.broadcast_to(np.asarray(power_impact_coefficients, dtype=float), (n,))
    elif config.power_impact > 0:  # Almgren: κ_i = η·σ_i·√(capital/adv_i), σ_i² = Σ_ii
        if risk_model is None:
            variance = np.full(n, config.ridge_variance)
        else:
            loadings = risk_model.factor_loadings
            variance = np.einsum("ij,jk,ik->i", loadings, risk_model.factor_covariance, loadings)
            variance = variance + risk_model.specific_variance
        kappa = config.power_impact * np.sqrt(variance) * np.sqrt(config.capital / adv)
    if kappa is not None:  # ∂ of κ|t|^{3/2} is (3/2)κ·sign(t)·√|t| (differentiable, 0 at t = 0)
        trade = w - w0
        residual -= 1.5 * kappa * np.sign(trade) * np.sqrt(np.abs(trade))
    if full.shape[1]:
        residual -= full @ result.duals.equality
    if band_exposures is not None:  # lo ≤ Bᵀw ≤ hi; the net multiplier β is > 0 at hi, < 0 at lo
        values = band_exposures.T @ w
        beta = result.duals.bands
        slack = 10 * rtol * scale_w * np.abs(band_exposures).sum(axis=0)
        assert np.all(values <= band_upper + slack) and np.all(values >= band_lower - slack)
        assert np.all(np.abs(values[beta > 0] - band_upper[beta > 0]) <= slack[beta > 0])
        assert np.all(np.abs(values[beta < 0] - band_lower[beta < 0]) <= slack[beta < 0])
        residual -= band_exposures @ beta
    lam, tau = result.duals.gross, result.duals.turnover
    assert lam >= 0 and tau >= 0
    tol_w = 1e-9 * scale_w
    lam_names = np.full(n, lam)
    if group_labels is not None:  # per-group gross limits: λ + λ_g(i) on each name
        groups = result.duals.groups
        assert groups is not None and np.all(groups >= 0)
        lam_names = lam + groups[group_labels]
        sums = np.bincount(group_labels, np.abs(w), minlength=len(group_gross))
        assert np.all(sums <= np.asarray(group_gross) * (1 + 10 * rtol))
        on = groups > 1e-8 * max(np.abs(result.alpha_scale * signal).max(), 1e-300)
        assert np.all(
            np.abs(sums[on] - np.asarray(group_gross)[on]) <= 10 * rtol * np.asarray(group_gross)[on]
        )
    lo1, hi1 = _interval(w, np.abs(w) <= tol_w, lam_names)
    # separate long / short gross limits: λ_L ∂max(w, 0) + λ_S ∂max(−w, 0)
    lam_long, lam_short = result.duals.long, result.duals.short
    assert lam_long >= 0 and lam_short >= 0
    zero = np.abs(w) <= tol_w
    lo1 = lo1 + np.where(zero | (w < 0), -lam_short, 0.0)
    hi1 = hi1 + np.where(zero | (w > 0), lam_long, 0.0)
    long, short = float(np.maximum(w, 0).sum()), float(np.maximum(-w, 0).sum())
    for limit, value, dual in ((config.max_long, long, lam_long), (config.max_short, short, lam_short)):
        if limit is None:
            assert dual == 0
            continue
        assert value <= limit * (1 + 10 * rtol)
        if dual > 0:
            assert abs(value - limit) <= 10 * rtol * limit
    lo2, hi2 = _interval(w - w0, np.abs(w - w0) <= tol_w, spread + tau)
    lo, hi = lo1 + lo2, hi1 + hi2
    if borrow_fees is not None:  # φ·∂max(−w, 0): −φ short, [−φ, 0] at 0, 0 long
        fee = np.broadcast_to(np.asarray(borrow_fees, dtype=float), (n,))
        at_zero = np.abs(w) <= tol_w
        lo = lo + np.where(at_zero | (w < 0), -fee, 0.0)
        hi = hi + np.where(~at_zero & (w < 0), -fee, 0.0)
    hi = np.where(w >= cap - tol_w, np.inf, hi)
    lo = np.where(w <= low + tol_w, -np.inf, lo)
    tol = rtol * max(np.abs(result.alpha_scale * signal).max(), 1e-300)
    assert np.all(residual >= lo - tol), float(np.max(lo - residual))
    assert np.all(residual <= hi + tol), float(np.max(residual - hi))
    # complementary slackness of the caps
    if lam > tol:
        assert abs(np.abs(w).sum() - config.gross_leverage) <= 10 * rtol * config.gross_leverage
    if tau > tol:
        assert abs(np.abs(w - w0).sum() - config.max_turnover) <= 10 * rtol * config.max_turnover
