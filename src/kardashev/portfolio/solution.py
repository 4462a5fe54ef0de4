"""From multipliers to the primal point, its residuals, its active set and its result.

Both solvers end with multipliers ``(ν, μ, λ, τ)`` of the scaled problem
(:mod:`kardashev.portfolio.problem`); :func:`evaluate` turns them into positions with the
closed form of :mod:`kardashev.portfolio.pieces`, and :func:`finalize` builds the
:class:`~kardashev.portfolio.result.PortfolioResult` with the exact backward of
:mod:`kardashev.portfolio.kkt`.

Degenerate points. A constraint is *weakly active* when its slack and its multiplier are both
below ``degeneracy_tolerance`` (relative to max|q|): there w*(α) has a kink and only one-sided
derivatives exist. We return, deterministically, the derivative with such constraints treated
as **inactive**: a weakly bound / weakly zero name counts as free (on the side it would enter),
a weakly binding gross or turnover cap as slack. Their number is reported in
``result.active.n_weakly_active``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

import numpy as np

from kardashev.portfolio.kkt import (
    IncrementalGram,
    PsdSolver,
    Sensitivity,
    constraint_columns,
    reduced_matrix,
    single_threaded_blas,
)
from kardashev.portfolio.pieces import (
    AT_LOWER,
    AT_UPPER,
    KINK_HIGH,
    KINK_LOW,
    Pieces,
    inverse_slope,
    region_signs,
    separable_minimizer,
    separable_x,
)
from kardashev.portfolio.problem import ScaledProblem
from kardashev.portfolio.result import ActiveConstraints, PortfolioDuals, PortfolioResult

__all__ = ["DualPoint", "Evaluation", "ReducedSystem", "evaluate", "finalize", "reduced_system"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DualPoint:
    """Multipliers of the scaled problem: equalities (orthonormal basis), factors, gross, turnover."""

    nu: np.ndarray
    mu: np.ndarray
    lam: float = 0.0
    tau: float = 0.0
    long: float = 0.0  # multipliers of the separate long / short gross limits
    short: float = 0.0
    groups: np.ndarray | None = None  # (m,) multipliers of the per-group gross limits
    bands: np.ndarray | None = None  # (kb,) net multipliers β⁺ − β⁻ of the exposure bands


@dataclass(frozen=True)
class Evaluation:
    b: np.ndarray
    pieces: Pieces
    kinks: np.ndarray  # x0 used for the pieces (zeros when there is no cost kink)
    cost: np.ndarray  # c' = c + τ (per name)

    @property
    def x(self) -> np.ndarray:
        return self.pieces.x


def kink_positions(problem: ScaledProblem, cost: np.ndarray) -> np.ndarray:
    """x0 where the name's linear cost c_i + τ is positive (a kink there), else 0."""
    return np.where(cost > 0, problem.x0, 0.0)


def dual_b(problem: ScaledProblem, point: DualPoint) -> np.ndarray:
    """b = q − Qν − Vμ (one product with W = [Q, V])."""
    k, r = point.nu.size, point.mu.size
    b = problem.q - problem.W[:, : k + r] @ np.concatenate([point.nu, point.mu])
    if point.bands is not None and problem.band_rows is not None:
        b -= problem.band_rows @ point.bands
    return b


def band_residual(problem: ScaledProblem, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(B̂ᵀx − upper, lower − B̂ᵀx) of the exposure bands (≤ 0 when inside)."""
    values = problem.band_rows.T @ x  # type: ignore[union-attr]
    return values - problem.band_upper, problem.band_lower - values  # type: ignore[operator]


def slopes(problem: ScaledProblem, point: DualPoint) -> tuple[float | np.ndarray, np.ndarray | None]:
    """(λ', φ'): the slope λ' right of 0 and the extra slope φ' left of it.

    λ|x| + λ_L max(x, 0) + λ_S max(−x, 0) + φ max(−x, 0) has right slope λ + λ_L and left slope
    −(λ + λ_L) − (φ + λ_S − λ_L); φ' may be negative (the kink at 0 keeps width 2λ + λ_L + λ_S).
    """
    lam: float | np.ndarray = point.lam
    groups = group_multipliers(problem, point)
    if groups is not None and np.any(groups):
        lam = lam + groups[problem.group_labels]  # per name: λ + λ_g(i)
    if point.long == 0 and point.short == 0:
        return lam, problem.fee
    fee = (0.0 if problem.fee is None else problem.fee) + point.short - point.long
    return lam + point.long, np.broadcast_to(np.asarray(fee, dtype=np.float64), (problem.n,))


def group_multipliers(problem: ScaledProblem, point: DualPoint) -> np.ndarray | None:
    """(m,) multipliers of the per-group limits (0 for groups without a finite cap), or None."""
    if problem.group_caps is None:
        return None
    out = np.zeros(problem.group_caps.size)
    if point.groups is not None:
        out[: point.groups.size] = point.groups
    return out


def group_residual(problem: ScaledProblem, x: np.ndarray) -> np.ndarray:
    """Σ_{i∈g} |x_i| − cap_g for every group (empty without per-group limits)."""
    if problem.group_caps is None:
        return np.zeros(0)
    sums = np.bincount(problem.group_labels, np.abs(x), minlength=problem.group_caps.size)  # type: ignore[arg-type]
    return sums - problem.group_caps


def long_short_residual(problem: ScaledProblem, x: np.ndarray) -> tuple[float, float]:
    """(Σ max(x, 0) − long cap, Σ max(−x, 0) − short cap); 0 for a limit that is not set."""
    g_long = 0.0 if problem.long_cap is None else float(np.maximum(x, 0).sum()) - problem.long_cap
    g_short = 0.0 if problem.short_cap is None else float(np.maximum(-x, 0).sum()) - problem.short_cap
    return g_long, g_short


def evaluate_positions(problem: ScaledProblem, point: DualPoint) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cheaper :func:`evaluate` for the Newton loop: ``(b, x, free)`` only."""
    b = dual_b(problem, point)
    return (b, *positions_at(problem, point, b))


def positions_at(problem: ScaledProblem, point: DualPoint, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x, free)`` at a given b = q − Qν − Vμ (the Newton loop carries b along its steps)."""
    cost = problem.cost + point.tau
    kinks = kink_positions(problem, cost)
    lam, fee = slopes(problem, point)
    x = separable_x(
        b, problem.h, problem.upper, kinks, lam, cost, problem.lower, fee, problem.power_impact, problem.x0
    )
    free = (
        (x < problem.upper)
        & (x > problem.lower)
        & (x != np.minimum(kinks, 0.0))
        & (x != np.maximum(kinks, 0.0))
    )
    return x, free


def evaluate(problem: ScaledProblem, point: DualPoint, b: np.ndarray | None = None) -> Evaluation:
    """b = q − Qν − Vμ and the closed-form minimizers x(b; λ, c + τ) (``b``: already computed from
    these multipliers by :func:`dual_b`)."""
    b = dual_b(problem, point) if b is None else b
    cost = problem.cost + point.tau
    kinks = kink_positions(problem, cost)
    lam, fee = slopes(problem, point)
    pieces = separable_minimizer(
        b, problem.h, problem.upper, kinks, lam, cost, problem.lower, fee, problem.power_impact, problem.x0
    )
    return Evaluation(b=b, pieces=pieces, kinks=kinks, cost=cost)


Gradient = tuple[np.ndarray, np.ndarray, float, float]


def inverse_curvature(problem: ScaledProblem, x: np.ndarray) -> np.ndarray:
    """Per-name slope ∂x_i/∂b_i on a free region: 1/h_i, or 1/(h_i + (3/4)κ̃_i/√|x_i − x0_i|)
    with the 3/2-power impact (0 for a name exactly at its previous holding)."""
    return inverse_slope(x, problem.h, problem.power_impact, problem.x0)


def dual_gradient(
    problem: ScaledProblem, point: DualPoint, x: np.ndarray, low: np.ndarray | None = None
) -> Gradient:
    """Gradient of the dual function = primal residuals (Qᵀx − e, Vᵀx − μ, Σ|x| − G, Σ|x − x0| − T).

    ``low``: a float32 copy of W's first k + r columns, for a rougher ``Wᵀx`` (early Newton steps).
    """
    k, r = point.nu.size, point.mu.size
    if low is not None:
        product = (low.T @ x.astype(np.float32)).astype(np.float64)
    else:
        product = problem.W[:, : k + r].T @ x
    g_nu = product[:k] - problem.target
    g_mu = product[k:] - point.mu
    g_lam = float(np.abs(x).sum() - problem.gross)
    g_tau = 0.0 if problem.turnover is None else float(np.abs(x - problem.x0).sum() - problem.turnover)
    return g_nu, g_mu, g_lam, g_tau


_ZERO_PORTFOLIO = 1e-9
_RESIDUAL_FLOOR = 1e-4


def typical_size(problem: ScaledProblem) -> float:
    """A typical ‖x‖₂: min(‖U‖₂, G/√n, ‖q/h‖₂) — capped, leveraged or unconstrained size."""
    return problem.size_scale


def is_zero_portfolio(problem: ScaledProblem, x: np.ndarray) -> bool:
    """Whether x is the zero portfolio up to rounding (‖x‖ ≤ 1e-9 of a typical size)."""
    return float(np.linalg.norm(x)) <= _ZERO_PORTFOLIO * typical_size(problem)


def relative_residual(
    problem: ScaledProblem, point: DualPoint, x: np.ndarray, gradient: Gradient | None = None
) -> float:
    """Largest relative violation of primal feasibility and of complementarity of the caps."""
    g_nu, g_mu, g_lam, g_tau = dual_gradient(problem, point, x) if gradient is None else gradient
    # relative to the size of the portfolio itself (caps may be loose), but at least 1e-4 of a
    # typical size: a (nearly) zero optimum is then held to an absolute accuracy
    size = max(float(np.linalg.norm(x)), _RESIDUAL_FLOOR * typical_size(problem))
    parts: list[float] = [
        float(np.linalg.norm(g_nu)) / size,
        float(np.linalg.norm(g_mu)) / (size * problem.v_scale / problem.x_scale) if g_mu.size else 0.0,
        (abs(g_lam) if point.lam > 0 else max(g_lam, 0.0)) / problem.gross,
    ]
    if problem.turnover is not None:
        parts.append((abs(g_tau) if point.tau > 0 else max(g_tau, 0.0)) / problem.turnover)
    if problem.has_long_short:
        g_long, g_short = long_short_residual(problem, x)
        if problem.long_cap is not None:
            parts.append((abs(g_long) if point.long > 0 else max(g_long, 0.0)) / problem.long_cap)
        if problem.short_cap is not None:
            parts.append((abs(g_short) if point.short > 0 else max(g_short, 0.0)) / problem.short_cap)
        if problem.group_caps is not None:
            g_groups = group_residual(problem, x)
            on = cast(np.ndarray, group_multipliers(problem, point))  # an array: caps are set
            violation = np.where(on > 0, np.abs(g_groups), np.maximum(g_groups, 0.0))
            finite = np.isfinite(problem.group_caps)
            if np.any(finite):
                parts.append(float((violation[finite] / problem.group_caps[finite]).max()))
        if problem.band_rows is not None:
            above, below = band_residual(problem, x)
            net = np.zeros(above.size) if point.bands is None else point.bands
            violation = np.maximum(np.maximum(above, below), 0.0)
            violation = np.where(net > 0, np.abs(above), np.where(net < 0, np.abs(below), violation))
            parts.append(float(violation.max()) / size)
    return max(parts)


@dataclass(frozen=True)
class ReducedSystem:
    """A factored reduced KKT system (:mod:`kardashev.portfolio.kkt`) and what it was built on."""

    free: np.ndarray  # (n,) bool
    s: np.ndarray | None  # gross-cap row on the free names, if in the system
    t: np.ndarray | None  # turnover row, if in the system
    E: np.ndarray
    solver: PsdSolver

    def matches(self, free: np.ndarray, s: np.ndarray | None, t: np.ndarray | None) -> bool:
        if not np.array_equal(self.free, free):
            return False
        for mine, theirs in ((self.s, s), (self.t, t)):
            if mine is None or theirs is None:
                if mine is not theirs:
                    return False
            elif not np.array_equal(mine, theirs):
                return False
        return True


def reduced_system(
    problem: ScaledProblem,
    free: np.ndarray,
    s: np.ndarray | None,
    t: np.ndarray | None,
    *,
    gram: IncrementalGram | None = None,
    inv_h: np.ndarray | None = None,
) -> ReducedSystem:
    """Build and factor M = EᵀD⁻¹E + blockdiag(0, I, 0, 0) on the free set (``gram``: the
    Newton loop's incrementally updated block, reused; ``inv_h``: per-name D⁻¹ on the free set,
    1/h unless given)."""
    E = constraint_columns(problem.W, free, s, t)
    if gram is not None:
        M = gram.matrix(free, s, t)
    else:
        weights = 1.0 / problem.h[free] if inv_h is None else inv_h
        M = reduced_matrix(E, weights, problem.Q.shape[1], problem.V.shape[1])
    return ReducedSystem(free=free, s=s, t=t, E=E, solver=PsdSolver(M))


def finalize(
    problem: ScaledProblem,
    point: DualPoint,
    evaluation: Evaluation,
    *,
    method: str,
    iterations: int,
    system: ReducedSystem | None = None,
    gram: IncrementalGram | None = None,
    known: tuple[np.ndarray, Gradient] | None = None,
) -> PortfolioResult:
    """Build the result at converged multipliers, with the exact backward.

    ``known``: positions and the dual gradient already computed at ``point``; the gradient is
    reused for the residual when those positions are the evaluation's (one pass over W saved).

    ``system`` is the factorization of the last Newton step; it is reused when it was built on
    the same free set and rows (the usual case), so the backward costs one small solve.
    """
    cfg = problem.config
    n = problem.n
    pieces = evaluation.pieces
    x = pieces.x
    gradient_at = known[1] if known is not None and np.array_equal(known[0], x) else None
    b_scale = max(float(np.abs(problem.q).max()), float(np.abs(evaluation.b).max()), 1e-300)
    eps = cfg.degeneracy_tolerance * b_scale
    free = pieces.free
    weak = (pieces.margin <= eps) & (problem.upper > problem.lower)
    in_gradient = free | weak
    region = pieces.neighbour[in_gradient]
    gross_sum = float(np.abs(x).sum())
    gross_binding = abs(gross_sum - problem.gross) <= 1e-7 * problem.gross
    lam_on = point.lam > eps
    gross_weak = (not lam_on) and gross_binding
    tau_on = problem.turnover is not None and point.tau > eps
    turnover_binding = problem.turnover is not None and (
        abs(float(np.abs(x - problem.x0).sum()) - problem.turnover) <= 1e-7 * problem.turnover
    )
    turnover_weak = (not tau_on) and turnover_binding
    s, t = region_signs(region, evaluation.kinks[in_gradient])
    rows_s, rows_t = (s if lam_on else None), (t if tau_on else None)
    extra = []  # rows of the separate long / short gross limits, while their multipliers are on
    if problem.long_cap is not None and point.long > eps:
        extra.append((s > 0).astype(np.float64))
    if problem.short_cap is not None and point.short > eps:
        extra.append(-(s < 0).astype(np.float64))
    groups = group_multipliers(problem, point)
    if groups is not None:
        labels = problem.group_labels[in_gradient]  # type: ignore[index]
        extra.extend(s * (labels == g) for g in np.flatnonzero(groups > eps))
    if point.bands is not None and problem.band_rows is not None:
        extra.extend(problem.band_rows[in_gradient, j] for j in np.flatnonzero(np.abs(point.bands) > eps))
    # D⁻¹ on the names that carry the gradient (with the 3/2-power impact it depends on x)
    inv_h = inverse_curvature(problem, x)[in_gradient]
    if extra:
        E = np.column_stack([constraint_columns(problem.W, in_gradient, rows_s, rows_t), *extra])
        k, r = problem.Q.shape[1], problem.V.shape[1]
        M = reduced_matrix(E, inv_h, k, r)
        system = ReducedSystem(free=in_gradient, s=rows_s, t=rows_t, E=E, solver=PsdSolver(M))
    elif problem.power_impact is not None:  # the Newton loop's system was built at an earlier x
        system = reduced_system(problem, in_gradient, rows_s, rows_t, inv_h=inv_h)
    elif system is None or not system.matches(in_gradient, rows_s, rows_t):
        system = reduced_system(problem, in_gradient, rows_s, rows_t, gram=gram)
    sensitivity = Sensitivity(n, np.flatnonzero(in_gradient), inv_h, system.E, system.solver)
    scale = problem.rho * problem.alpha_scale / n

    def gradient(cotangent: np.ndarray) -> np.ndarray:
        with single_threaded_blas():
            return scale * sensitivity.apply(cotangent)

    at_kink = (pieces.piece == KINK_LOW) | (pieces.piece == KINK_HIGH)
    at_zero = at_kink & (x == 0)
    at_bound = (pieces.piece == AT_UPPER) | (pieces.piece == AT_LOWER)
    active = ActiveConstraints(
        at_upper=pieces.piece == AT_UPPER,
        at_lower=pieces.piece == AT_LOWER,
        at_zero=at_zero,
        at_previous=at_kink & ~at_zero,
        free=free,
        gross=bool(lam_on or gross_binding),
        turnover=bool(tau_on or turnover_binding),
        weakly_active=weak,
        gross_weakly_active=bool(gross_weak),
        turnover_weakly_active=bool(turnover_weak),
    )
    if active.n_weakly_active:
        logger.debug(
            "%d weakly active constraint(s) at the optimum: the gradient treats them as inactive",
            active.n_weakly_active,
        )
    rho = problem.rho
    duals = PortfolioDuals(
        equality=problem.basis_map @ (point.nu / rho),
        exposure_names=problem.exposure_names,
        gross=point.lam / rho,
        turnover=point.tau / rho,
        bounds=np.where(at_bound, np.maximum(pieces.margin, 0.0), 0.0) / rho,
        internal=(point.nu.copy(), point.mu.copy(), float(point.lam), float(point.tau)),
        rho=rho,
        long=point.long / rho,
        short=point.short / rho,
        groups=None if groups is None else groups / rho,
        bands=None
        if point.bands is None or problem.band_norms is None
        else point.bands / (rho * problem.band_norms),
    )
    weights = x / n
    return PortfolioResult(
        weights=weights,
        status="optimal_zero" if is_zero_portfolio(problem, x) else "optimal",
        method=method,
        iterations=iterations,
        objective=problem.natural_objective(weights),
        active=active,
        duals=duals,
        alpha_scale=problem.alpha_scale,
        residual=relative_residual(problem, point, x, gradient_at),
        _gradient=gradient,
        _problem=problem,
    )
