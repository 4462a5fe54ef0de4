"""Configuration of the portfolio optimizer and the factor risk model.

Both are frozen, keyword-only dataclasses validated on construction: a bad value raises
:class:`kardashev.errors.ConfigError` (or :class:`~kardashev.errors.InvalidInputError` for
arrays) naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kardashev.errors import ConfigError, InvalidInputError

__all__ = ["OptimizerConfig", "RiskModel"]


def _positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"OptimizerConfig.{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"OptimizerConfig.{name} must be finite and {bound}, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class OptimizerConfig:
    """What the fund optimizes, published as data.

    The problem (weights ``w`` are fractions of capital, ``w0`` the previous weights)::

        maximize   αᵀw − γ·wᵀΣw − κ·Σ λ_i (w_i − w0_i)² − Σ c_i |w_i − w0_i| − Σ κ'_i |w_i − w0_i|^{3/2}
        subject to Aᵀw = 0,  l_i ≤ w_i ≤ u_i,  Σ|w_i| ≤ L,  [Σ|w_i − w0_i| ≤ T]

    (``c_i = spread`` unless per-name ``spreads`` are passed to ``optimize``; ``l_i = −u_i``
    unless ``lower_bounds`` / ``upper_bounds`` / trade limits narrow the box.)

    with ``α = alpha_scale · expected_returns``. See :mod:`kardashev.portfolio.optimize` for units.

    Attributes
    ----------
    risk_aversion
        γ > 0, multiplies the variance ``wᵀΣw`` (Σ in return² units, e.g. per-era variance).
    alpha_scale
        Multiplies ``expected_returns`` to give α (return units). ``None`` (default) treats
        ``expected_returns`` as a standardized signal (mean 0, std 1) and picks
        ``alpha_scale = signal_strength · 2γ·median(σ²_specific)·L / (n·√(2/π))``: the
        specific-risk-only unconstrained portfolio would then have a gross leverage of about
        ``signal_strength · L``. It depends on n and the risk model only, never on the signal, so
        the gradient with respect to ``expected_returns`` is exact.
    signal_strength
        Used only when ``alpha_scale`` is None (see above). With the default 4 the gross cap is
        active and a good share of names sit at their bounds or at zero.
    gross_leverage
        L > 0: Σ|w_i| ≤ L.
    max_position
        Cap on |w_i| in units of the average gross position L/n: ``u = max_position·L/n``
        (so 2.5 means a name can hold at most 2.5× the equal-weight gross position).
    max_adv_participation, capital
        Liquidity cap, used when ``adv`` is passed and ``capital`` (dollars) is set:
        ``u_i = min(u, max_adv_participation·adv_i/capital)``.
    dollar_neutral
        Always add the ones column (Σw_i = 0) to the exposures (default True).
    ridge_variance
        Σ = ridge_variance·I when no risk model is given.
    impact
        κ ≥ 0: quadratic market-impact cost ``κ·Σ λ_i (w_i − w0_i)²``; λ_i = median(adv)/adv_i
        when ``adv`` is given (and ``impact_adv_scaled``), else 1.
    spread
        c ≥ 0: linear (half-spread) cost ``c·Σ|w_i − w0_i|``.
    power_impact
        η ≥ 0: 3/2-power market impact ``Σ κ_i |w_i − w0_i|^{3/2}`` with Almgren's square-root
        law ``κ_i = η·σ_i·√(capital/adv_i)`` (σ_i = √Σ_ii, the name's volatility in the risk
        model's units; needs ``adv`` and ``capital``): trading a fraction q = capital·|Δw|/adv of
        the daily volume moves the price by η·σ·√q, paid on the traded amount. Per-name κ_i can be
        passed to ``optimize`` as ``power_impact_coefficients`` instead.
    max_turnover
        T > 0 or None: Σ|w_i − w0_i| ≤ T.
    max_trade_adv_participation
        θ > 0 or None: trade-size limit ``|w_i − w0_i| ≤ θ·adv_i/capital`` (needs ``adv`` and
        ``capital``); it narrows each name's box to ``[w0_i − θ·adv_i/capital, w0_i + θ·adv_i/capital]``.
    max_volatility
        σ > 0 or None: ex-ante volatility limit ``√(wᵀΣw) ≤ σ`` (return units per era, the risk
        model's units), see :mod:`kardashev.portfolio.volatility`.
    max_long, max_short
        G_L, G_S > 0 or None: separate long and short gross limits ``Σ max(w_i, 0) ≤ G_L`` and
        ``Σ max(−w_i, 0) ≤ G_S`` (dual multipliers of their own, solved by the proximal path of
        :mod:`kardashev.portfolio.proximal`).
    tolerance
        Relative accuracy of the primal residuals (equalities, gross/turnover caps).
    degeneracy_tolerance
        Relative size below which both a slack and its dual count as zero (weakly active).
    max_iterations
        Newton (fast path) or polish (generic path) iteration limit.
    """

    risk_aversion: float = 1.0
    alpha_scale: float | None = None
    signal_strength: float = 4.0
    gross_leverage: float = 1.0
    max_position: float = 2.5
    max_adv_participation: float = 0.1
    capital: float | None = None
    dollar_neutral: bool = True
    ridge_variance: float = 1.0
    impact: float = 0.0
    impact_adv_scaled: bool = True
    spread: float = 0.0
    power_impact: float = 0.0
    max_turnover: float | None = None
    max_trade_adv_participation: float | None = None
    max_volatility: float | None = None
    max_long: float | None = None
    max_short: float | None = None
    tolerance: float = 1e-10
    degeneracy_tolerance: float = 1e-9
    max_iterations: int = 100

    def __post_init__(self) -> None:
        _positive("risk_aversion", self.risk_aversion)
        if self.alpha_scale is not None:
            _positive("alpha_scale", self.alpha_scale)
        _positive("signal_strength", self.signal_strength)
        _positive("gross_leverage", self.gross_leverage)
        _positive("max_position", self.max_position)
        _positive("max_adv_participation", self.max_adv_participation)
        if self.capital is not None:
            _positive("capital", self.capital)
        _positive("ridge_variance", self.ridge_variance)
        _positive("impact", self.impact, allow_zero=True)
        _positive("spread", self.spread, allow_zero=True)
        _positive("power_impact", self.power_impact, allow_zero=True)
        if self.max_turnover is not None:
            _positive("max_turnover", self.max_turnover)
        if self.max_trade_adv_participation is not None:
            _positive("max_trade_adv_participation", self.max_trade_adv_participation)
        if self.max_volatility is not None:
            _positive("max_volatility", self.max_volatility)
        for name in ("max_long", "max_short"):
            if getattr(self, name) is not None:
                _positive(name, getattr(self, name))
        _positive("tolerance", self.tolerance)
        _positive("degeneracy_tolerance", self.degeneracy_tolerance)
        if self.tolerance >= 1e-2 or self.degeneracy_tolerance >= 1e-2:
            raise ConfigError("OptimizerConfig.tolerance and degeneracy_tolerance must be < 1e-2")
        for name in ("dollar_neutral", "impact_adv_scaled"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"OptimizerConfig.{name} must be a bool, got {getattr(self, name)!r}")
        if isinstance(self.max_iterations, bool) or not isinstance(self.max_iterations, int):
            raise ConfigError(f"OptimizerConfig.max_iterations must be an int, got {self.max_iterations!r}")
        if self.max_iterations < 1:
            raise ConfigError(f"OptimizerConfig.max_iterations must be >= 1, got {self.max_iterations}")


def _finite_array(name: str, value: object, ndim: int) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"{name} must be a numeric array: {error}") from None
    if array.ndim != ndim:
        raise InvalidInputError(f"{name} must be {ndim}-dimensional, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"{name} contains NaN or infinite values")
    return array


@dataclass(frozen=True, kw_only=True, eq=False)
class RiskModel:
    """Factor risk model ``Σ = B F Bᵀ + diag(d)`` (return² units per era).

    Attributes
    ----------
    factor_loadings
        B, shape (n_stocks, n_factors).
    factor_covariance
        F, shape (n_factors, n_factors), symmetric positive semidefinite.
    specific_variance
        d, shape (n_stocks,), strictly positive (keeps the problem strictly convex).
    """

    factor_loadings: np.ndarray
    factor_covariance: np.ndarray
    specific_variance: np.ndarray

    def __post_init__(self) -> None:
        loadings = _finite_array("risk_model.factor_loadings", self.factor_loadings, 2)
        covariance = _finite_array("risk_model.factor_covariance", self.factor_covariance, 2)
        specific = _finite_array("risk_model.specific_variance", self.specific_variance, 1)
        n_stocks, n_factors = loadings.shape
        if covariance.shape != (n_factors, n_factors):
            raise InvalidInputError(
                f"risk_model.factor_covariance must have shape ({n_factors}, {n_factors}), "
                f"got {covariance.shape}"
            )
        if specific.shape != (n_stocks,):
            raise InvalidInputError(
                f"risk_model.specific_variance must have shape ({n_stocks},), got {specific.shape}"
            )
        if np.any(specific <= 0):
            raise InvalidInputError("risk_model.specific_variance must be strictly positive")
        covariance_scale = float(np.abs(covariance).max()) if covariance.size else 0.0
        tolerance = 1e-12 * max(1.0, covariance_scale)
        if not np.allclose(covariance, covariance.T, rtol=1e-8, atol=tolerance):
            raise InvalidInputError("risk_model.factor_covariance must be symmetric")
        if n_factors and np.linalg.eigvalsh((covariance + covariance.T) / 2).min() < -1e-10 * max(
            1e-300, covariance_scale
        ):
            raise InvalidInputError("risk_model.factor_covariance must be positive semidefinite")
        object.__setattr__(self, "factor_loadings", loadings)
        object.__setattr__(self, "factor_covariance", (covariance + covariance.T) / 2)
        object.__setattr__(self, "specific_variance", specific)

    @property
    def n_stocks(self) -> int:
        return int(self.factor_loadings.shape[0])

    @property
    def n_factors(self) -> int:
        return int(self.factor_loadings.shape[1])

    def factor_root(self) -> np.ndarray:
        """G = B·L with F = L Lᵀ (eigen-root, robust to a singular F), so BFBᵀ = G Gᵀ.

        Computed once per risk model (the model is immutable) and cached.
        """
        cached = self.__dict__.get("_factor_root")
        if cached is not None:
            return cached
        if self.n_factors == 0:
            root = self.factor_loadings
        else:
            values, vectors = np.linalg.eigh(self.factor_covariance)
            root = self.factor_loadings @ (vectors * np.sqrt(np.clip(values, 0.0, None)))
        object.__setattr__(self, "_factor_root", root)
        return root
