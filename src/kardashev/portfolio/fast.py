r"""Fast path: semi-smooth Newton on the small dual of the scaled problem.

Scaled problem (:mod:`kardashev.portfolio.problem`), with the factor exposures ``y = Vᵀx`` as
extra variables so that the Hessian is diagonal plus ``yᵀy``::

    min  ½ Σ h_i x_i² + ½‖y‖² − qᵀx + c Σ|x_i − x0_i|
    s.t. Qᵀx = 0 (ν),  Vᵀx − y = 0 (μ),  |x_i| ≤ U_i,  Σ|x_i| ≤ G (λ ≥ 0),  Σ|x_i − x0_i| ≤ T (τ ≥ 0).

Dualizing the k + r rows and the caps leaves a separable primal: with
``b = q − Qν − Vμ`` each ``x_i`` minimizes ``½h_i x² − b_i x + λ|x| + (c + τ)|x − x0_i|`` over
``[−U_i, U_i]`` in closed form (:mod:`kardashev.portfolio.pieces`), and ``y = μ``. The dual
function

.. math::

    g(\nu, \mu, \lambda, \tau) = \sum_i \phi_i(b_i; \lambda, c + \tau) - \tfrac12\|\mu\|^2
    - \lambda G - \tau T

is concave and piecewise quadratic in k + r (+1, +1) unknowns, with gradient
``(Qᵀx, Vᵀx − μ, Σ|x| − G, Σ|x − x0| − T)`` — the primal residuals — and generalized Hessian
``−M``, ``M = Eᵀ diag(1/h_F) E + blockdiag(0, I_r, 0, 0)`` over the free set F
(:mod:`kardashev.portfolio.kkt`). Each iteration solves ``(M + δI) d = ∇g`` (Jacobi-scaled
Cholesky; δ = 1e-3·min(1, 100·residual) damps the directions the free set leaves (nearly)
singular early on and vanishes near the solution; directions no free name touches get a scaled
gradient step), then an exact line search on the monotone, piecewise-linear directional
derivative ``φ'(t) = ∇g(z + t d)ᵀd`` (grows the step ×4 while φ still rises, then secant with
the Illinois rule), keeping λ, τ ≥ 0 (a cap whose multiplier is 0 and whose constraint is slack
leaves the system). Once the pieces are right the dual is quadratic on them, so we stop when the
relative primal residual is below ``tolerance`` and take one last unregularized Newton step
(:func:`_refine`), which lands on the optimum to rounding (residual ~1e-16). Typical runs: 5
iterations cold, 3 warm-started (n = 5000, k + r = 81). The (k + r)² matrix is kept up to date by
rank-|ΔF| corrections (:class:`~kardashev.portfolio.kkt.IncrementalGram`). When Newton stalls —
the multipliers are not unique because more constraints are active than names are free (a tight
turnover cap with many rows) — the proximal-point iteration of :mod:`kardashev.portfolio.proximal`
takes over from the best point and converges whatever the degeneracy. If that fails too, a linear
program (HiGHS) decides: :class:`InfeasibleError` with its certificate (the minimum turnover needed,
or no portfolio within the bounds and targets), else :class:`SolverError`.
"""

from __future__ import annotations

from functools import partial
from typing import cast

import numpy as np
import scipy.optimize
import scipy.sparse as sparse

from kardashev.errors import InfeasibleError, SolverError
from kardashev.portfolio.basis import all_names_gram, low_precision_rows, weighted_rows
from kardashev.portfolio.direction import newton_direction
from kardashev.portfolio.kkt import IncrementalGram
from kardashev.portfolio.linesearch import exact_line_search
from kardashev.portfolio.pieces import separable_x
from kardashev.portfolio.problem import ScaledProblem
from kardashev.portfolio.proximal import solve_proximal
from kardashev.portfolio.result import PortfolioDuals, PortfolioResult
from kardashev.portfolio.solution import (
    DualPoint,
    Gradient,
    ReducedSystem,
    dual_gradient,
    evaluate,
    evaluate_positions,
    finalize,
    inverse_curvature,
    kink_positions,
    positions_at,
    reduced_system,
    relative_residual,
)

__all__ = ["solve_fast"]

# relative residuals below this are rounding: where the multipliers are not unique (more active
# constraints than free names) Newton would otherwise wander along the optimal face
_ROUNDING_FLOOR = 1e-12
_STALL_ITERATIONS = 5
_STALL_ACCEPT = 1e-8
_LAZY_RESIDUAL = 1e-2
_LAZY_STEPS = 3
_LAZY_FRACTION = 0.2
# above this relative residual the steps' products with W (Wᵀx, Wd: memory-bound passes over
# n × (k + r) float64) use a float32 copy of W; below it, and for the convergence test, W itself
_LOW_PRECISION_RESIDUAL = 1e-3
_LOW_PRECISION_SIZE = 1_000_000  # n·(k + r) from which it is used (5000 names × 200 rows)


def _start(problem: ScaledProblem, warm_start: PortfolioDuals | None) -> DualPoint:
    k, r = problem.Q.shape[1], problem.V.shape[1]
    if warm_start is not None and warm_start.internal is not None:
        nu, mu, lam, tau = warm_start.internal
        if nu.shape == (k,) and mu.shape == (r,):
            ratio = problem.rho / warm_start.rho
            return DualPoint(nu=nu * ratio, mu=mu * ratio, lam=lam * ratio, tau=tau * ratio)
    # (the proximal path, for the limits with multipliers of their own, starts from 0; with a
    # turnover cap the book stays near w0 and the gross cap rarely binds)
    lam = 0.0 if problem.has_long_short or problem.turnover is not None else _gross_guess(problem)
    return DualPoint(nu=np.zeros(k), mu=np.zeros(r), lam=lam)


def _gross_guess(problem: ScaledProblem) -> float:
    """A cold start's λ: the one that puts the positions at ν = μ = 0 on the gross cap.

    A scalar search (bracket, then Illinois secant to 1% of the cap) on Σ|x(q; λ)| − G, which is
    non-increasing in λ; ~15 closed-form evaluations. Starting there rather than at λ = 0 puts the
    first free set near the final one (at λ = 0 most names sit at their bounds), so the first
    Newton matrix is formed over about the right names and later ones need small corrections.
    """

    def excess(lam: float) -> float:
        x = separable_x(
            problem.q,
            problem.h,
            problem.upper,
            problem.kinks(0.0),
            lam,
            problem.cost,
            problem.lower,
            problem.fee,
            problem.power_impact,
            problem.x0,
        )
        return float(np.abs(x).sum()) - problem.gross

    f_lo = excess(0.0)
    if f_lo <= 0:
        return 0.0
    lo, hi = 0.0, float(np.abs(problem.q).max())
    f_hi = excess(hi)
    for _ in range(60):  # the bounds may keep names away from 0: then no guess
        if f_hi <= 0:
            break
        lo, f_lo, hi = hi, f_hi, 2.0 * hi
        f_hi = excess(hi)
    else:
        return 0.0
    side = 0
    for _ in range(40):
        lam = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        value = excess(lam)
        if abs(value) <= 1e-2 * problem.gross:
            return lam
        if value > 0:
            lo, f_lo = lam, value
            f_hi = f_hi * 0.5 if side == 1 else f_hi
            side = 1
        else:
            hi, f_hi = lam, value
            f_lo = f_lo * 0.5 if side == -1 else f_lo
            side = -1
    return lo


def _minimum_turnover(problem: ScaledProblem) -> float:
    """The smallest scaled turnover Σ|x − x0| over {Qᵀx = 0, |x| ≤ U, Σ|x| ≤ G} (LP, HiGHS).

    It is the infeasibility certificate of a turnover cap: the constraints admit a portfolio
    exactly when this is ≤ T. Returns inf when even the other constraints are infeasible
    (they never are: the zero portfolio satisfies them).
    """
    n, k = problem.n, problem.Q.shape[1]
    eye = sparse.identity(n, format="csr")
    zero = sparse.csr_matrix((n, n))
    # variables [x, a ≥ |x|, e ≥ |x − x0|]; minimize Σe
    rows = [
        sparse.hstack([eye, -eye, zero]),
        sparse.hstack([-eye, -eye, zero]),
        sparse.hstack([eye, zero, -eye]),
        sparse.hstack([-eye, zero, -eye]),
        sparse.hstack([sparse.csr_matrix((1, n)), np.ones((1, n)), sparse.csr_matrix((1, n))]),
    ]
    rhs = [np.zeros(n), np.zeros(n), problem.x0, -problem.x0, np.array([problem.gross])]
    bounds = list(zip(problem.lower, problem.upper, strict=True)) + [(0, None)] * (2 * n)
    equality = sparse.hstack([sparse.csr_matrix(problem.Q.T), sparse.csr_matrix((k, 2 * n))]) if k else None
    outcome = scipy.optimize.linprog(
        np.concatenate([np.zeros(2 * n), np.ones(n)]),
        A_ub=sparse.vstack(rows).tocsr(),
        b_ub=np.concatenate(rhs),
        A_eq=equality,
        b_eq=problem.target if k else None,
        bounds=bounds,
        method="highs",
    )
    return float(outcome.fun) if outcome.status == 0 else np.inf


def _check_feasible(problem: ScaledProblem) -> None:
    """Raise :class:`InfeasibleError` with its certificate when no portfolio meets the constraints.

    The LP of :func:`_minimum_turnover` is infeasible only when the bounds (asymmetric bounds or
    trade limits that exclude 0) and the neutrality rows admit no portfolio; otherwise its value
    certifies whether the turnover cap can be met.
    """
    bounded = bool(np.any(problem.lower > 0) or np.any(problem.upper < 0) or np.any(problem.target))
    if problem.turnover is None and not bounded:
        return  # the zero portfolio is feasible
    needed = _minimum_turnover(problem)
    if not np.isfinite(needed):
        raise InfeasibleError(
            "the constraints admit no portfolio: no portfolio meets the exposure targets within the "
            "position bounds (asymmetric bounds or trade limits) and the gross cap (LP certificate, HiGHS)",
            code="infeasible_bounds",
        )
    if problem.turnover is not None and needed > problem.turnover * (1 + 1e-9):
        raise InfeasibleError(
            f"the constraints admit no portfolio: the minimum turnover that reaches a neutral, capped "
            f"portfolio from the previous weights is {needed / problem.n:.6g}, above max_turnover "
            f"{problem.turnover / problem.n:.6g}",
            code="infeasible_turnover",
        )


def solve_fast(
    problem: ScaledProblem, *, warm_start: PortfolioDuals | None = None, start: DualPoint | None = None
) -> PortfolioResult:
    """Solve the scaled problem by dual Newton and build the result (exact backward included).

    ``warm_start`` are the multipliers of a previous result, ``start`` internal ones.
    """
    cfg = problem.config
    k, r = problem.Q.shape[1], problem.V.shape[1]
    has_turnover = problem.turnover is not None
    point = start if start is not None else _start(problem, warm_start)
    if problem.has_long_short:  # their multipliers live in the proximal path only
        robust = solve_proximal(problem, point)
        if robust is None:
            _check_feasible(problem)
            raise SolverError("the proximal iteration did not converge", code="not_converged")
        return finalize(problem, robust, evaluate(problem, robust), method="fast", iterations=0)
    b, x, free = evaluate_positions(problem, point)
    b_scale = max(float(np.abs(problem.q).max()), 1e-300)
    best = (np.inf, point, 0)
    seed = None if problem.power_impact is not None else all_names_gram(problem.W, k + r, problem.h)
    weighted = None if problem.power_impact is not None else weighted_rows(problem.W, k + r, problem.h)
    gram = IncrementalGram(problem.W, 1.0 / problem.h, k, r, seed, weighted)
    # the early steps' products with W in float32 (None: all in float64); b is then recomputed
    # exactly from the multipliers on leaving that phase
    # (only where W is large: a few MB of float64 stay in cache, and then it does not pay)
    large = problem.n * (k + r) >= _LOW_PRECISION_SIZE
    low = low_precision_rows(problem.W, k + r) if large and problem.power_impact is None else None
    lazy = 0
    exact = True  # whether b was computed from the multipliers (not updated along the steps)
    for iteration in range(cfg.max_iterations + 1):
        gradient = dual_gradient(problem, point, x, low)
        residual = relative_residual(problem, point, x, gradient)
        if low is not None and residual <= max(_LOW_PRECISION_RESIDUAL, cfg.tolerance):
            low = None  # from here on in float64, from an exact b
            b, x, free = evaluate_positions(problem, point)
            exact = True
            gradient = dual_gradient(problem, point, x)
            residual = relative_residual(problem, point, x, gradient)
        if residual <= max(cfg.tolerance, _ROUNDING_FLOOR) and not exact:
            # b was carried along the steps (b − t·Wd, one pass over W saved per step): recompute
            # it from the multipliers before declaring convergence
            b, x, free = evaluate_positions(problem, point)
            exact = True
            gradient = dual_gradient(problem, point, x)
            residual = relative_residual(problem, point, x, gradient)
        if residual <= max(cfg.tolerance, _ROUNDING_FLOOR):
            point, system, known = _refine(problem, point, b, x, free, gradient, residual, gram)
            evaluation = evaluate(problem, point, known[0])
            return finalize(
                problem,
                point,
                evaluation,
                method="fast",
                iterations=iteration,
                system=system,
                gram=gram,
                known=known[1:],
            )
        if residual < best[0]:
            best = (residual, point, iteration)
        stalled = iteration - best[2] >= _STALL_ITERATIONS
        if stalled or iteration == cfg.max_iterations or max(point.lam, point.tau) > 1e12 * b_scale:
            break
        g_nu, g_mu, g_lam, g_tau = gradient
        lam_in = bool(point.lam > 0 or g_lam > 0)
        tau_in = bool(has_turnover and (point.tau > 0 or g_tau > 0))
        # far from the solution, when many names change piece, keep the previous free set's
        # matrix (a valid curvature model; the exact line search keeps the step safe): updating
        # it costs |ΔF|·(k + r)² and the free set is still moving
        basis_free = free
        previous = gram.free
        moving = previous is not None and residual > _LAZY_RESIDUAL and lazy < _LAZY_STEPS
        if moving and int(np.count_nonzero(free != previous)) > _LAZY_FRACTION * int(free.sum()):
            basis_free, lazy = cast(np.ndarray, previous), lazy + 1
        if problem.power_impact is not None:  # the curvature moves with x: a fresh Gram
            gram.reweight(inverse_curvature(problem, x))
            basis_free = free
        s = np.sign(x[basis_free])
        t = np.sign(x[basis_free] - problem.x0[basis_free])
        for _ in range(3):
            M = gram.matrix(basis_free, s if lam_in else None, t if tau_in else None)
            grad = np.concatenate([g_nu, g_mu, [g_lam] if lam_in else [], [g_tau] if tau_in else []])
            d = newton_direction(M, grad, residual, seed=gram.seed)
            d_lam = float(d[k + r]) if lam_in else 0.0
            d_tau = float(d[k + r + int(lam_in)]) if tau_in else 0.0
            # a multiplier at 0 that would turn negative leaves the system
            if lam_in and point.lam == 0 and d_lam < 0:
                lam_in = False
            elif tau_in and point.tau == 0 and d_tau < 0:
                tau_in = False
            else:
                break
        d_nu, d_mu = d[:k], d[k : k + r]
        if low is not None:
            step_b = (low @ d[: k + r].astype(np.float32)).astype(np.float64)
        else:
            step_b = problem.W[:, : k + r] @ d[: k + r]
        t_lam = point.lam / -d_lam if d_lam < 0 else np.inf
        t_tau = point.tau / -d_tau if d_tau < 0 else np.inf
        t_max = min(t_lam, t_tau)

        slope = partial(_slope, problem=problem, b=b, step_b=step_b, point=point, d_mu=d_mu, d_lam=d_lam)
        slope = partial(slope, d_tau=d_tau, shift=float(problem.target @ d_nu))
        step = exact_line_search(slope, float(grad @ d), t_max)
        lam = 0.0 if step >= t_lam else max(point.lam + step * d_lam, 0.0)
        tau = 0.0 if step >= t_tau else max(point.tau + step * d_tau, 0.0)
        point = DualPoint(nu=point.nu + step * d_nu, mu=point.mu + step * d_mu, lam=lam, tau=tau)
        b = b - step * step_b
        x, free = positions_at(problem, point, b)
        exact = False
    # plain Newton stalled on a face of non-unique multipliers (more active constraints than free
    # names: a tight turnover cap with many rows, a linear cost above the alpha spread); the
    # proximal-point iteration converges whatever the degeneracy
    robust = solve_proximal(problem, best[1] if np.isfinite(best[0]) else point, gram)
    if robust is not None:
        b, x, free = evaluate_positions(problem, robust)
        gradient = dual_gradient(problem, robust, x)
        residual = relative_residual(problem, robust, x, gradient)
        robust, system, known = _refine(problem, robust, b, x, free, gradient, residual, gram)
        evaluation = evaluate(problem, robust, known[0])
        return finalize(
            problem,
            robust,
            evaluation,
            method="fast",
            iterations=iteration,
            system=system,
            gram=gram,
            known=known[1:],
        )
    if best[0] <= _STALL_ACCEPT:  # accurate to ~1e-8 (see result.residual)
        return finalize(problem, best[1], evaluate(problem, best[1]), method="fast", iterations=iteration)
    _check_feasible(problem)
    raise SolverError(
        f"dual Newton did not converge in {cfg.max_iterations} iterations "
        f"(relative residual {relative_residual(problem, point, x):.2e})",
        code="not_converged",
    )


def _refine(
    problem: ScaledProblem,
    point: DualPoint,
    b: np.ndarray,
    x: np.ndarray,
    free: np.ndarray,
    gradient: Gradient,
    residual: float,
    gram: IncrementalGram | None = None,
) -> tuple[DualPoint, ReducedSystem | None, tuple[np.ndarray, np.ndarray, Gradient]]:
    """One unregularized Newton step on the converged pieces (exact on them, ~1e-16 residual).

    The regularized steps stop at ``tolerance``; on the right pieces the dual is quadratic, so a
    plain step solves it exactly. Kept only if the residual drops. Returns the factored system
    too, for the backward, and (b, x, ∇g) at the returned point (b, x and ∇g given are those of
    ``point``, b computed from its multipliers), so that they are not computed again.
    """
    same = (b, x, gradient)
    if residual <= 1e-14:
        return point, None, same
    k, r = point.nu.size, point.mu.size
    lam_in, tau_in = point.lam > 0, problem.turnover is not None and point.tau > 0
    s = np.sign(x[free]) if lam_in else None
    t = np.sign(x[free] - problem.x0[free]) if tau_in else None
    if gram is not None and problem.power_impact is not None:
        gram.reweight(inverse_curvature(problem, x))
    system = reduced_system(problem, free, s, t, gram=gram)
    g_nu, g_mu, g_lam, g_tau = gradient
    grad = np.concatenate([g_nu, g_mu, [g_lam] if lam_in else [], [g_tau] if tau_in else []])
    d = system.solver.solve(grad)
    lam = point.lam + (float(d[k + r]) if lam_in else 0.0)
    tau = point.tau + (float(d[k + r + int(lam_in)]) if tau_in else 0.0)
    if lam < 0 or tau < 0:
        return point, None, same
    candidate = DualPoint(nu=point.nu + d[:k], mu=point.mu + d[k : k + r], lam=lam, tau=tau)
    b_new, x_new, _ = evaluate_positions(problem, candidate)
    gradient_new = dual_gradient(problem, candidate, x_new)
    if relative_residual(problem, candidate, x_new, gradient_new) < residual:
        return candidate, system, (b_new, x_new, gradient_new)
    return point, None, same


def _slope(
    step: float,
    *,
    problem: ScaledProblem,
    b: np.ndarray,
    step_b: np.ndarray,
    point: DualPoint,
    d_mu: np.ndarray,
    d_lam: float,
    d_tau: float,
    shift: float = 0.0,
) -> float:
    """φ'(t) = ∇g(z + t·d)ᵀd, with b(z + t·d) = b − t·step_b (``shift`` = eᵀd_ν for targets e)."""
    lam = max(point.lam + step * d_lam, 0.0)
    tau = max(point.tau + step * d_tau, 0.0)
    cost = problem.cost + tau
    kinks = kink_positions(problem, cost)
    x = separable_x(
        b - step * step_b,
        problem.h,
        problem.upper,
        kinks,
        lam,
        cost,
        problem.lower,
        problem.fee,
        problem.power_impact,
        problem.x0,
    )
    value = float(x @ step_b) - float(d_mu @ (point.mu + step * d_mu)) - shift
    value += d_lam * (float(np.abs(x).sum()) - problem.gross)
    if problem.turnover is not None:
        value += d_tau * (float(np.abs(x - problem.x0).sum()) - problem.turnover)
    return value
