r"""Validated inputs turned into the scaled internal problem both solvers work on.

Natural problem (weights w = fractions of capital; minimization form of the objective)::

    J(w) = γ wᵀΣw + κ Σ λ_i (w_i − w0_i)² + c Σ|w_i − w0_i| − αᵀw,
    Σ = G Gᵀ + diag(d),  G = B·F^{1/2}  (or Σ = ridge·I)

Positions are scaled by n (trap: natural weights are ~1e-4, so absolute tolerances would be
meaningless): ``x = n·w``, and the objective by ``ρ·n`` (ρ a conditioning constant, the inverse
median curvature). Then ``ρ·n·J = ½ xᵀ(diag(h) + V Vᵀ)x − qᵀx + c̃ Σ|x_i − x0_i| + const`` with::

    h = ρ·(2/n)(γ d + κ λ),   V = √(ρ·2γ/n)·G,   q = ρ(α + 2κ λ x0 / n),   c̃ = ρ c,
    x0 = n·w0,   U_i = n·u_i,   gross cap n·L,   turnover cap n·T.

Every multiplier of the scaled problem (equalities, gross, turnover, bounds) equals ρ times the
natural one: the scaled Lagrangian is ρ·n times the natural one and each constraint is n times
its natural form. The equality rows are replaced by a basis ``Q`` of their span (dependent rows
dropped once per exposure matrix, :mod:`kardashev.portfolio.basis`): ``Aᵀw = 0 ⇔ Qᵀx = 0`` (``Qᵀx = e`` with
``e = n·basis_mapᵀ t`` for exposure targets ``Aᵀw = t``).

Per-name limits and costs scale the same way: bounds ``L_i = n·l_i ≤ x_i ≤ U_i = n·u_i`` (``l = −u``
unless per-name bounds or trade-size limits narrow the box), linear costs ``c̃_i = ρ c_i`` (a vector;
the kink at x0_i exists only where c̃_i + τ > 0) and borrow fees ``φ̃_i = ρ φ_i`` on ``max(−x_i, 0)``.
The 3/2-power impact ``κ_i |w_i − w0_i|^{3/2}`` becomes ``κ̃_i |x_i − x0_i|^{3/2}`` with
``κ̃_i = ρ κ_i / √n`` (ρ·n·n^{−3/2}).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kardashev.errors import InfeasibleError, InvalidInputError
from kardashev.portfolio.basis import constraint_rows
from kardashev.portfolio.config import OptimizerConfig, RiskModel
from kardashev.portfolio.costs import impact_weights as quadratic_impact_weights

__all__ = ["ScaledProblem", "build_problem"]


@dataclass(frozen=True, eq=False)
class ScaledProblem:
    """The scaled problem (see the module docstring for every symbol)."""

    n: int
    h: np.ndarray  # (n,)
    V: np.ndarray  # (n, r)
    Q: np.ndarray  # (n, k) basis of the equality rows
    W: np.ndarray  # (n, k + r + 2) = [Q, V, 0, 0], rows gathered into the Newton systems
    basis_map: np.ndarray  # (k_original, k): ν_original = basis_map @ ν_Q
    target: np.ndarray  # (k,) right-hand side of Qᵀx = e (n·basis_mapᵀ t for targets Aᵀw = t)
    target_full: np.ndarray  # (k_original,) natural targets t (0 for dollar neutral)
    q: np.ndarray  # (n,)
    x0: np.ndarray  # (n,)
    upper: np.ndarray  # (n,)
    lower: np.ndarray  # (n,) ≤ upper (−upper unless asymmetric bounds or trade limits are given)
    gross: float
    turnover: float | None
    cost: np.ndarray  # (n,) per-name linear cost c̃_i = ρ·c_i
    fee: np.ndarray | None  # (n,) per-name borrow fee φ̃_i = ρ·φ_i on short positions, or None
    rho: float
    alpha_scale: float
    # natural-unit data for reporting the objective
    alpha: np.ndarray
    exposures: np.ndarray  # (n, k_original) incl. the ones column
    exposure_names: tuple[str, ...]
    specific: np.ndarray
    factor_root: np.ndarray
    impact_weights: np.ndarray
    config: OptimizerConfig
    x_scale: float  # ‖U‖₂, scale of the equality residual
    v_scale: float  # ‖U‖₂·max(1, ‖V‖_F), scale of the factor residual
    size_scale: float  # min(‖U‖₂, G/√n, ‖q/h‖₂): a typical ‖x‖₂
    long_cap: float | None = None  # n·G_L: Σ max(x, 0) ≤ long_cap
    short_cap: float | None = None  # n·G_S: Σ max(−x, 0) ≤ short_cap
    group_labels: np.ndarray | None = None  # (n,) group of each name, for per-group gross limits
    group_caps: np.ndarray | None = None  # (m,) n·G_g: Σ_{i∈g} |x_i| ≤ group_caps[g]
    band_rows: np.ndarray | None = None  # (n, kb) unit-norm columns B̂ of the exposure bands
    band_lower: np.ndarray | None = None  # (kb,) n·lo_j/‖B_j‖ (−inf = none)
    band_upper: np.ndarray | None = None  # (kb,) n·hi_j/‖B_j‖ (inf = none)
    band_norms: np.ndarray | None = None  # (kb,) ‖B_j‖
    power_impact: np.ndarray | None = None  # (n,) κ̃_i = ρ κ_i/√n of κ̃_i |x_i − x0_i|^{3/2}, or None

    @property
    def has_long_short(self) -> bool:
        """Whether caps beyond gross and turnover are present (long / short or per-group gross)."""
        return (
            self.long_cap is not None
            or self.short_cap is not None
            or self.group_caps is not None
            or self.band_rows is not None
        )

    @property
    def has_costs(self) -> bool:
        """Whether the kink at the previous holding is present (linear cost or turnover cap)."""
        return bool(np.any(self.cost > 0)) or self.turnover is not None

    def kinks(self, tau: float) -> np.ndarray:
        """Where each name's trade kink sits: x0 where c_i + τ > 0, else 0 (no kink)."""
        if tau > 0:
            return self.x0
        return np.where(self.cost > 0, self.x0, 0.0)

    def natural_objective(self, w: np.ndarray) -> float:
        """αᵀw − γ wᵀΣw − κΣλ(w−w0)² − cΣ|w−w0| − φΣmax(−w, 0) − Σκ'|w−w0|^{3/2} (maximized)."""
        cfg = self.config
        trade = w - self.x0 / self.n
        risk = float(np.dot(self.specific * w, w) + np.sum((self.factor_root.T @ w) ** 2))
        return float(
            self.alpha @ w
            - cfg.risk_aversion * risk
            - cfg.impact * float(np.dot(self.impact_weights * trade, trade))
            - float(self.cost @ np.abs(trade)) / self.rho
            - (0.0 if self.fee is None else float(self.fee @ np.maximum(-w, 0.0)) / self.rho)
            - (
                0.0
                if self.power_impact is None
                else float(self.power_impact @ np.abs(trade) ** 1.5) * np.sqrt(self.n) / self.rho
            )
        )


def _vector(name: str, value: object, n: int) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"{name} must be a numeric array: {error}") from None
    if array.shape != (n,):
        raise InvalidInputError(f"{name} must have shape ({n},), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"{name} contains NaN or infinite values")
    return array


def _bound_vector(name: str, value: object, n: int) -> np.ndarray:
    """A per-name bound: finite or ±inf (no bound), never NaN."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"{name} must be a numeric array: {error}") from None
    if array.ndim == 0:
        array = np.full(n, float(array))
    if array.shape != (n,):
        raise InvalidInputError(f"{name} must have shape ({n},), got {array.shape}")
    if np.any(np.isnan(array)):
        raise InvalidInputError(f"{name} contains NaN values")
    return array


def _bands(rows: object | None, lower: object | None, upper: object | None, n: int) -> dict:
    """Exposure bands lo ≤ Bᵀw ≤ hi, scaled: unit-norm columns, limits n·lo/‖B_j‖, n·hi/‖B_j‖."""
    if rows is None:
        if lower is not None or upper is not None:
            raise InvalidInputError("band_lower / band_upper need band_exposures")
        return {}
    try:
        matrix = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"band_exposures must be a numeric matrix: {error}") from None
    if matrix.ndim == 1:
        matrix = matrix[:, None]
    if matrix.ndim != 2 or matrix.shape[0] != n or not np.all(np.isfinite(matrix)):
        raise InvalidInputError(f"band_exposures must be a finite ({n}, kb) matrix, got shape {matrix.shape}")
    kb = matrix.shape[1]
    lo = _bound_vector("band_lower", -np.inf if lower is None else lower, kb)
    hi = _bound_vector("band_upper", np.inf if upper is None else upper, kb)
    if np.any(lo > hi):
        raise InvalidInputError("band_lower must be <= band_upper")
    norms = np.linalg.norm(matrix, axis=0)
    if np.any(norms == 0):
        raise InvalidInputError("band_exposures has an all-zero column")
    return {
        "band_rows": np.ascontiguousarray(matrix / norms),
        "band_lower": n * lo / norms,
        "band_upper": n * hi / norms,
        "band_norms": norms,
    }


def _power_impact(
    coefficients: object | None,
    config: OptimizerConfig,
    specific: np.ndarray,
    factor_root: np.ndarray,
    adv: object | None,
    n: int,
) -> np.ndarray | None:
    """Natural κ_i of the 3/2-power impact: given per name, or Almgren's η·σ_i·√(capital/adv_i)."""
    if coefficients is not None:
        kappa = _vector(
            "power_impact_coefficients",
            np.broadcast_to(np.asarray(coefficients, dtype=object), (n,)),
            n,
        )
        if np.any(kappa < 0):
            raise InvalidInputError("power_impact_coefficients must be >= 0")
    elif config.power_impact > 0:
        if adv is None or config.capital is None:
            raise InvalidInputError(
                "config.power_impact needs adv and config.capital (κ_i = η·σ_i·√(capital/adv_i))"
            )
        volatility = np.sqrt(specific + np.einsum("ij,ij->i", factor_root, factor_root))
        kappa = config.power_impact * volatility * np.sqrt(config.capital / _vector("adv", adv, n))
    else:
        return None
    return kappa if np.any(kappa > 0) else None


def _same_exposures(reuse: ScaledProblem, matrix: np.ndarray, dollar_neutral: bool) -> bool:
    """Whether ``reuse`` was built from the same exposure matrix and dollar-neutral flag."""
    start = int(reuse.config.dollar_neutral)
    return dollar_neutral == reuse.config.dollar_neutral and _same(reuse.exposures[:, start:], matrix)


def _same(old: np.ndarray, new: np.ndarray) -> bool:
    return old is new or (old.shape == new.shape and bool(np.array_equal(old, new)))


def build_problem(
    expected_returns: object,
    *,
    exposures: object | None,
    risk_model: RiskModel | None,
    previous_weights: object | None,
    adv: object | None,
    config: OptimizerConfig,
    exposure_names: tuple[str, ...] | None = None,
    reuse: ScaledProblem | None = None,
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
) -> ScaledProblem:
    """Validate the inputs and build the :class:`ScaledProblem`.

    ``reuse`` is the problem of an earlier solve (a warm start): its equality basis and
    stacked constraint rows are reused when the exposures (and factor rows) are unchanged.
    """
    if not isinstance(config, OptimizerConfig):
        raise InvalidInputError(f"config must be an OptimizerConfig, got {type(config).__name__}")
    try:
        signal = np.asarray(expected_returns, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"expected_returns must be a numeric array: {error}") from None
    if signal.ndim != 1 or signal.size == 0:
        raise InvalidInputError(f"expected_returns must be a non-empty 1-D array, got shape {signal.shape}")
    n = signal.size
    signal = _vector("expected_returns", signal, n)
    matrix = np.zeros((n, 0))
    names = ["dollar_neutral"] if config.dollar_neutral else []
    if exposures is not None:
        if exposure_names is None and hasattr(exposures, "columns"):  # a DataFrame: keep its labels
            exposure_names = tuple(str(column) for column in exposures.columns)
        try:
            matrix = np.asarray(exposures, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise InvalidInputError(f"exposures must be a numeric matrix: {error}") from None
        if matrix.ndim == 1:
            matrix = matrix[:, None]
        if matrix.ndim != 2 or matrix.shape[0] != n:
            raise InvalidInputError(f"exposures must have shape ({n}, k), got {matrix.shape}")
        if not np.all(np.isfinite(matrix)):
            raise InvalidInputError("exposures contains NaN or infinite values")
        given = exposure_names or tuple(f"exposure_{j}" for j in range(matrix.shape[1]))
        if len(given) != matrix.shape[1]:
            raise InvalidInputError("exposure_names must name every exposure column")
        names.extend(given)
    if risk_model is not None:
        if not isinstance(risk_model, RiskModel):
            raise InvalidInputError(f"risk_model must be a RiskModel, got {type(risk_model).__name__}")
        if risk_model.n_stocks != n:
            raise InvalidInputError(f"risk_model has {risk_model.n_stocks} stocks, expected_returns has {n}")
        specific = risk_model.specific_variance
        factor_root = risk_model.factor_root()
    else:
        specific = np.full(n, config.ridge_variance)
        factor_root = np.zeros((n, 0))
    previous = np.zeros(n) if previous_weights is None else _vector("previous_weights", previous_weights, n)
    upper_natural = np.full(n, config.max_position * config.gross_leverage / n)
    impact_weights = np.ones(n)
    if adv is not None:
        liquidity = _vector("adv", adv, n)
        if np.any(liquidity <= 0):
            raise InvalidInputError("adv must be strictly positive")
        impact_weights = quadratic_impact_weights(liquidity, config, n)
        if config.capital is not None:
            liquidity_cap = config.max_adv_participation * liquidity / config.capital
            upper_natural = np.minimum(upper_natural, liquidity_cap)
    lower_natural = -upper_natural
    if config.max_trade_adv_participation is not None:
        if adv is None or config.capital is None:
            raise InvalidInputError("max_trade_adv_participation needs adv and config.capital")
        trade_cap = config.max_trade_adv_participation * liquidity / config.capital
        lower_natural = np.maximum(lower_natural, previous - trade_cap)
        upper_natural = np.minimum(upper_natural, previous + trade_cap)
    if lower_bounds is not None:
        lower_natural = np.maximum(lower_natural, _bound_vector("lower_bounds", lower_bounds, n))
    if upper_bounds is not None:
        upper_natural = np.minimum(upper_natural, _bound_vector("upper_bounds", upper_bounds, n))
    if np.any(lower_natural > upper_natural):
        bad = int(np.flatnonzero(lower_natural > upper_natural)[0])
        raise InfeasibleError(
            f"the position bounds are empty for stock {bad}: lower {lower_natural[bad]:.6g} > upper "
            f"{upper_natural[bad]:.6g} (caps, lower_bounds/upper_bounds and trade limits combined)",
            code="empty_bounds",
        )
    if spreads is None:
        spread = np.full(n, config.spread)
    else:
        spread = _vector("spreads", spreads, n)
        if np.any(spread < 0):
            raise InvalidInputError("spreads must be >= 0")
    labels = group_limits = None
    if (group_labels is None) != (group_gross is None):
        raise InvalidInputError("group_labels and group_gross go together")
    if group_labels is not None:
        try:
            labels = np.asarray(group_labels)
            group_limits = np.asarray(group_gross, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise InvalidInputError(f"group_labels / group_gross must be numeric arrays: {error}") from None
        if group_limits.ndim != 1 or group_limits.size == 0 or np.any(np.isnan(group_limits)):
            raise InvalidInputError("group_gross must be a non-empty 1-D array of caps (inf = none)")
        if np.any(group_limits <= 0):
            raise InvalidInputError("group_gross must be > 0")
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
            raise InvalidInputError(f"group_labels must be ({n},) integers")
        if labels.min() < 0 or labels.max() >= group_limits.size:
            raise InvalidInputError(f"group_labels must lie in [0, {group_limits.size})")
        labels = labels.astype(np.intp)
    fee = None
    if borrow_fees is not None:
        fee = _vector("borrow_fees", np.broadcast_to(np.asarray(borrow_fees, dtype=object), (n,)), n)
        if np.any(fee < 0):
            raise InvalidInputError("borrow_fees must be >= 0")
        fee = fee if np.any(fee > 0) else None
    power = _power_impact(power_impact_coefficients, config, specific, factor_root, adv, n)

    gamma = config.risk_aversion
    median_specific = float(np.median(specific))
    if config.alpha_scale is None:
        strength = config.signal_strength * config.gross_leverage
        alpha_scale = strength * 2.0 * gamma * median_specific / (n * np.sqrt(2 / np.pi))
    else:
        alpha_scale = float(config.alpha_scale)
    alpha = alpha_scale * signal
    curvature = (2.0 / n) * (gamma * specific + config.impact * impact_weights)
    rho = 1.0 / float(np.median(curvature))
    h = rho * curvature
    V = np.sqrt(rho * 2.0 * gamma / n) * factor_root
    x0 = n * previous
    q = rho * (alpha + (2.0 * config.impact / n) * impact_weights * x0)
    upper = n * upper_natural
    lower = n * lower_natural
    if reuse is not None and _same_exposures(reuse, matrix, config.dollar_neutral) and _same(reuse.V, V):
        # same era re-solved (bagging)
        exposures_full, W, basis_map = reuse.exposures, reuse.W, reuse.basis_map
    else:
        exposures_full, W, basis_map = constraint_rows(matrix, config.dollar_neutral, V, h)
    k_basis = basis_map.shape[1]
    target = np.zeros(k_basis)
    target_full = np.zeros(exposures_full.shape[1])
    if exposure_targets is not None:
        targets = _vector(
            "exposure_targets", exposure_targets, exposures_full.shape[1] - int(config.dollar_neutral)
        )
        target_full[int(config.dollar_neutral) :] = targets
        target = n * (basis_map.T @ target_full)
    Q = W[:, :k_basis]
    tradable = upper > lower
    n_tradable = int(tradable.sum())
    if n_tradable == 0 or (
        Q.shape[1] >= n_tradable and np.linalg.matrix_rank(exposures_full[tradable]) >= n_tradable
    ):
        raise InfeasibleError(
            "the exposures (with the dollar-neutral column) and position bounds admit only the zero "
            "portfolio: no tradable direction is neutral",
            code="no_neutral_portfolio",
        )
    upper_norm = float(np.linalg.norm(np.maximum(np.abs(upper), np.abs(lower))))
    gross_norm = config.gross_leverage * np.sqrt(n)  # ‖x‖₂ of an even portfolio at the gross cap
    return ScaledProblem(
        n=n,
        h=h,
        V=W[:, k_basis : k_basis + V.shape[1]],
        Q=Q,
        W=W,
        target=target,
        target_full=target_full,
        basis_map=basis_map,
        q=q,
        x0=x0,
        upper=upper,
        lower=lower,
        gross=float(n * config.gross_leverage),
        turnover=None if config.max_turnover is None else float(n * config.max_turnover),
        cost=rho * spread,
        fee=None if fee is None else rho * fee,
        rho=rho,
        alpha_scale=alpha_scale,
        alpha=alpha,
        exposures=exposures_full,
        exposure_names=tuple(names),
        specific=specific,
        factor_root=factor_root,
        impact_weights=impact_weights,
        config=config,
        x_scale=max(upper_norm, 1e-300),
        v_scale=max(upper_norm, 1e-300) * max(float(np.linalg.norm(V)), 1.0),
        size_scale=max(min(upper_norm, gross_norm, float(np.linalg.norm(q / h))), 1e-300),
        group_labels=labels,
        **_bands(band_exposures, band_lower, band_upper, n),
        group_caps=None if labels is None or group_limits is None else n * group_limits,
        long_cap=None if config.max_long is None else float(n * config.max_long),
        short_cap=None if config.max_short is None else float(n * config.max_short),
        power_impact=None if power is None else rho * power / np.sqrt(n),
    )
