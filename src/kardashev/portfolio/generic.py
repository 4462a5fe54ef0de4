"""Generic path: Clarabel (interior point) on the conic form, then an exact active-set polish.

An interior-point solution stops slightly inside the bounds, and no threshold on it picks the
active set reliably (trap 1), so the solver's point is only a *candidate*. The polish takes the
candidate's active set (names at a bound, at zero, at the previous holding; caps binding),
solves the equality-constrained KKT system of :mod:`kardashev.portfolio.kkt` exactly, then
checks primal feasibility (free names inside their piece, caps respected) and dual signs (the
closed form of :mod:`kardashev.portfolio.pieces` at the new multipliers reproduces every fixed
name), moves the violators and repeats — a block principal-pivoting loop that usually stops
after one or two rounds.
"""

from __future__ import annotations

import dataclasses
from typing import cast

import clarabel
import numpy as np
import scipy.sparse as sparse

from kardashev.errors import InfeasibleError, SolverError
from kardashev.portfolio.fast import solve_fast
from kardashev.portfolio.kkt import PsdSolver, constraint_columns, reduced_matrix
from kardashev.portfolio.pieces import (
    AT_LOWER,
    AT_UPPER,
    KINK_HIGH,
    KINK_LOW,
    REGION_HIGH,
    REGION_LOW,
    REGION_MID,
    region_signs,
    separable_minimizer,
)
from kardashev.portfolio.problem import ScaledProblem
from kardashev.portfolio.result import PortfolioResult
from kardashev.portfolio.solution import DualPoint, evaluate, finalize

__all__ = ["solve_generic"]


def _candidate(problem: ScaledProblem) -> tuple[np.ndarray, DualPoint]:
    """Clarabel on the conic form of the scaled problem; returns the (inexact) positions and
    Clarabel's multipliers of the equality rows and caps (a start for the dual Newton).

    Variables ``v = [x (n), y (r), a (n), e (n, only with costs or a turnover cap)]``::

        min ½ xᵀdiag(h)x + ½‖y‖² − qᵀx + c·Σe
        s.t. Qᵀx = 0,  Vᵀx − y = 0                          (zero cone)
             ±x − a ≤ 0,  Σa ≤ G,  x ≤ U,  −x ≤ −L          (nonnegative cone)
             ±(x − x0) − e ≤ 0,  [Σe ≤ T]

    with c the per-name linear costs; the 3/2-power impact adds ``κ̃ᵀp`` with one power cone
    ``(p_i, 1, x_i − x0_i) ∈ K_pow(2/3)``, i.e. ``p_i ≥ |x_i − x0_i|^{3/2}``, per name with κ̃_i > 0.
    """
    n, k, r = problem.n, problem.Q.shape[1], problem.V.shape[1]
    with_trade = problem.has_costs
    n_var = 2 * n + r + (n if with_trade else 0)
    eye = sparse.identity(n, format="csc")

    def row(x=None, y=None, a=None, e=None, height: int = n) -> sparse.csc_matrix:
        blocks = [x, y, a] + ([e] if with_trade else [])
        widths = [n, r, n] + ([n] if with_trade else [])
        parts = [
            sparse.csc_matrix((height, width)) if block is None else sparse.csc_matrix(block)
            for block, width in zip(blocks, widths, strict=True)
        ]
        return sparse.hstack(parts, format="csc")

    equalities = [row(x=problem.Q.T, height=k), row(x=problem.V.T, y=-sparse.identity(r), height=r)]
    ones = np.ones((1, n))
    inequalities = [
        row(x=eye, a=-eye),
        row(x=-eye, a=-eye),
        row(a=ones, height=1),
        row(x=eye),
        row(x=-eye),
    ]
    rhs = [np.zeros(n), np.zeros(n), [problem.gross], problem.upper, -problem.lower]
    gross_row, turnover_row = k + r + 2 * n, None
    if with_trade:
        inequalities += [row(x=eye, e=-eye), row(x=-eye, e=-eye)]
        rhs += [problem.x0, -problem.x0]
        if problem.turnover is not None:
            turnover_row = k + r + 6 * n + 1
            inequalities.append(row(e=ones, height=1))
            rhs.append([problem.turnover])
    # Σ max(±x, 0) = Σ (a ± x)/2 with a ≥ |x| (exact: every row is easiest at a = |x|)
    if problem.long_cap is not None:
        inequalities.append(row(x=ones / 2, a=ones / 2, height=1))
        rhs.append([problem.long_cap])
    if problem.short_cap is not None:
        inequalities.append(row(x=-ones / 2, a=ones / 2, height=1))
        rhs.append([problem.short_cap])
    if problem.band_rows is not None:  # lower ≤ B̂ᵀx ≤ upper
        band_upper, band_lower = cast(np.ndarray, problem.band_upper), cast(np.ndarray, problem.band_lower)
        for sign, limits in ((1.0, band_upper), (-1.0, -band_lower)):
            finite = np.flatnonzero(np.isfinite(limits))
            if finite.size:
                inequalities.append(row(x=sign * problem.band_rows[:, finite].T, height=finite.size))
                rhs.append(limits[finite])
    if problem.group_caps is not None:  # Σ_{i∈g} a_i ≤ cap_g
        finite = np.flatnonzero(np.isfinite(problem.group_caps))
        if finite.size:
            indicator = (problem.group_labels[None, :] == finite[:, None]).astype(float)  # type: ignore[index]
            inequalities.append(row(a=indicator, height=finite.size))
            rhs.append(problem.group_caps[finite])
    matrix = sparse.vstack(equalities + inequalities, format="csc")
    bound = np.concatenate([problem.target, np.zeros(r)] + [np.asarray(part, dtype=float) for part in rhs])
    diagonal = np.concatenate([problem.h, np.ones(r), np.zeros(n_var - n - r)])
    quadratic = sparse.diags(diagonal, format="csc")
    linear = np.concatenate([-problem.q, np.zeros(r + n), problem.cost if with_trade else []])
    if problem.fee is not None:  # φ·max(−x, 0) = φ·(a − x)/2, a ≥ |x| pushed down to |x|
        linear[:n] -= problem.fee / 2
        linear[n + r : 2 * n + r] += problem.fee / 2
    cones = [clarabel.ZeroConeT(k + r), clarabel.NonnegativeConeT(matrix.shape[0] - k - r)]
    if problem.power_impact is not None:
        matrix, bound, quadratic, linear = _power_cones(problem, matrix, bound, quadratic, linear)
        cones += [clarabel.PowerConeT(2.0 / 3.0)] * int(np.count_nonzero(problem.power_impact > 0))
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    solution = clarabel.DefaultSolver(quadratic, linear, matrix, bound, cones, settings).solve()
    status = str(solution.status)
    if "PrimalInfeasible" in status:
        raise InfeasibleError("the constraints admit no portfolio (reported by Clarabel)")
    if status not in ("Solved", "AlmostSolved"):
        raise SolverError(f"Clarabel returned status {status}")
    z = np.asarray(solution.z, dtype=np.float64)
    start = DualPoint(
        nu=z[:k].copy(),
        mu=z[k : k + r].copy(),
        lam=max(float(z[gross_row]), 0.0),
        tau=0.0 if turnover_row is None else max(float(z[turnover_row]), 0.0),
    )
    return np.asarray(solution.x[:n], dtype=np.float64), start


def _power_cones(
    problem: ScaledProblem,
    matrix: sparse.csc_matrix,
    bound: np.ndarray,
    quadratic: sparse.csc_matrix,
    linear: np.ndarray,
) -> tuple[sparse.csc_matrix, np.ndarray, sparse.csc_matrix, np.ndarray]:
    """Append variables p (one per name with κ̃ > 0), their cost κ̃ᵀp and the rows of the power
    cones ``s = (p_i, 1, x_i − x0_i)`` (Clarabel's ``A v + s = b``: ``−p_i``, ``0 | 1``, ``−x_i | −x0_i``)."""
    names = np.flatnonzero(problem.power_impact > 0)  # type: ignore[operator]
    m, (height, width) = names.size, matrix.shape
    j = np.arange(m)
    rows = np.concatenate([3 * j, 3 * j + 2])
    columns = np.concatenate([width + j, names])
    cone_rows = sparse.csc_matrix((-np.ones(2 * m), (rows, columns)), shape=(3 * m, width + m))
    cone_bound = np.zeros(3 * m)
    cone_bound[3 * j + 1] = 1.0
    cone_bound[3 * j + 2] = -problem.x0[names]
    matrix = sparse.vstack([sparse.hstack([matrix, sparse.csc_matrix((height, m))]), cone_rows], format="csc")
    quadratic = sparse.block_diag([quadratic, sparse.csc_matrix((m, m))], format="csc")
    linear = np.concatenate([linear, problem.power_impact[names]])  # type: ignore[index]
    return matrix, np.concatenate([bound, cone_bound]), quadratic, linear


def _classify(
    x: np.ndarray,
    problem: ScaledProblem,
    kinks: np.ndarray,
    tol: float,
    *,
    zero_kink: bool | np.ndarray,
    previous_kink: bool | np.ndarray,
) -> np.ndarray:
    """Pieces of a candidate point; a kink can only hold a name where it has width (λ or c' > 0)."""
    p1, p2 = np.minimum(kinks, 0.0), np.maximum(kinks, 0.0)
    piece = np.where(x < p1, REGION_LOW, np.where(x < p2, REGION_MID, REGION_HIGH))
    holds_p1 = np.where(p1 == 0, zero_kink, previous_kink) | ((p1 == 0) & (p2 == 0) & previous_kink)
    holds_p2 = np.where(p2 == 0, zero_kink, previous_kink) | ((p1 == 0) & (p2 == 0) & previous_kink)
    piece = np.where((np.abs(x - p2) <= tol) & holds_p2, KINK_HIGH, piece)
    piece = np.where((np.abs(x - p1) <= tol) & holds_p1, KINK_LOW, piece)
    piece = np.where(x >= problem.upper - tol, AT_UPPER, piece)
    piece = np.where(x <= problem.lower + tol, AT_LOWER, piece)
    return piece.astype(np.int8)


def _kkt_on(
    problem: ScaledProblem, piece: np.ndarray, kinks: np.ndarray, lam_on: bool, tau_on: bool
) -> tuple[DualPoint, np.ndarray]:
    """Solve the equality-constrained KKT system with the pieces fixed."""
    k, r = problem.Q.shape[1], problem.V.shape[1]
    free = (piece == REGION_LOW) | (piece == REGION_MID) | (piece == REGION_HIGH)
    p1, p2 = np.minimum(kinks, 0.0), np.maximum(kinks, 0.0)
    x = np.select(
        [piece == AT_UPPER, piece == AT_LOWER, piece == KINK_LOW, piece == KINK_HIGH],
        [problem.upper, problem.lower, p1, p2],
        0.0,
    )
    s, t = region_signs(piece[free], kinks[free])
    inv_h = 1.0 / problem.h[free]
    rhs_free = problem.q[free] - problem.cost[free] * t
    if problem.fee is not None:  # the borrow fee's slope on short regions
        rhs_free = rhs_free + problem.fee[free] * (s < 0)
    E = constraint_columns(problem.W, free, s if lam_on else None, t if tau_on else None)
    fixed = ~free
    e = [problem.target - problem.Q[fixed].T @ x[fixed], -(problem.V[fixed].T @ x[fixed])]
    if lam_on:
        e.append([problem.gross - np.abs(x[fixed]).sum()])
    if tau_on:
        e.append([problem.turnover - np.abs(x[fixed] - problem.x0[fixed]).sum() + t @ problem.x0[free]])
    z = PsdSolver(reduced_matrix(E, inv_h, k, r)).solve(E.T @ (inv_h * rhs_free) - np.concatenate(e))
    x[free] = inv_h * (rhs_free - E @ z)
    lam = float(z[k + r]) if lam_on else 0.0
    tau = float(z[k + r + int(lam_on)]) if tau_on else 0.0
    return DualPoint(nu=z[:k], mu=z[k : k + r], lam=lam, tau=tau), x


def _polish(problem: ScaledProblem, candidate: np.ndarray) -> tuple[DualPoint, int, bool]:
    x_scale = max(float(np.abs(problem.upper).max()), float(np.abs(problem.lower).max()), 1e-300)
    kinks = problem.x0 if problem.turnover is not None else problem.kinks(0.0)
    lam_on = float(np.abs(candidate).sum()) >= problem.gross * (1 - 1e-6)
    tau_on = problem.turnover is not None and (
        float(np.abs(candidate - problem.x0).sum()) >= problem.turnover * (1 - 1e-6)
    )
    piece = _classify(
        candidate,
        problem,
        kinks,
        1e-6 * x_scale,
        zero_kink=lam_on if problem.fee is None else (problem.fee > 0) | lam_on,
        previous_kink=(problem.cost > 0) | tau_on,
    )
    tol = 1e-9 * x_scale
    p1, p2 = np.minimum(kinks, 0.0), np.maximum(kinks, 0.0)
    for round_ in range(1, problem.config.max_iterations + 1):
        point, x = _kkt_on(problem, piece, kinks, lam_on, tau_on)
        closed = separable_minimizer(
            problem.q - problem.Q @ point.nu - problem.V @ point.mu,
            problem.h,
            problem.upper,
            kinks,
            max(point.lam, 0.0),
            problem.cost + max(point.tau, 0.0),
            problem.lower,
            problem.fee,
        )
        gross_excess = float(np.abs(x).sum()) - problem.gross
        turnover_excess = (
            0.0 if problem.turnover is None else float(np.abs(x - problem.x0).sum()) - problem.turnover
        )
        # an inconsistent reduced system (a direction no free name spans) shows up here
        equality_ok = (
            float(np.linalg.norm(problem.Q.T @ x - problem.target)) <= 1e-9 * problem.x_scale
            and float(np.linalg.norm(problem.V.T @ x - point.mu)) <= 1e-9 * problem.v_scale
        )
        primal_ok = (
            equality_ok
            and np.all(x <= problem.upper + tol)
            and np.all(x >= problem.lower - tol)
            and gross_excess <= 1e-9 * problem.gross
            and (problem.turnover is None or turnover_excess <= 1e-9 * problem.turnover)
        )
        if primal_ok and point.lam >= 0 and point.tau >= 0 and np.max(np.abs(closed.x - x)) <= 1e-7 * x_scale:
            return point, round_, True
        new = piece.copy()
        # primal violations: a free name left its piece -> hold it at the boundary it crossed
        free = (piece == REGION_LOW) | (piece == REGION_MID) | (piece == REGION_HIGH)
        new[free & (piece == REGION_LOW) & (x >= p1 + tol)] = KINK_LOW
        new[free & (piece == REGION_MID) & (x <= p1 - tol)] = KINK_LOW
        new[free & (piece == REGION_MID) & (x >= p2 + tol)] = KINK_HIGH
        new[free & (piece == REGION_HIGH) & (x <= p2 - tol)] = KINK_HIGH
        new[free & (x > problem.upper + tol)] = AT_UPPER
        new[free & (x < problem.lower - tol)] = AT_LOWER
        # dual violations: the multipliers say a fixed name belongs to another piece
        moved = ~free & (closed.piece != piece) & (np.abs(closed.x - x) > 1e-7 * x_scale)
        new[moved] = closed.piece[moved]
        new_lam_on = (lam_on and point.lam >= 0) or (not lam_on and gross_excess > 1e-9 * problem.gross)
        new_tau_on = problem.turnover is not None and (
            (tau_on and point.tau >= 0) or (not tau_on and turnover_excess > 1e-9 * problem.turnover)
        )
        if np.array_equal(new, piece) and new_lam_on == lam_on and new_tau_on == tau_on:
            break
        piece, lam_on, tau_on = new, new_lam_on, new_tau_on
    return point, round_, False


def solve_generic(problem: ScaledProblem) -> PortfolioResult:
    """Solve with Clarabel, polish the active set exactly, build the result.

    When the active constraints outnumber the free names (tiny problems: the multipliers are not
    unique, so the dual-sign check of the polish can cycle), the polish hands its multipliers to
    the dual Newton iteration of :mod:`kardashev.portfolio.fast` to finish.
    """
    candidate, start = _candidate(problem)
    if problem.power_impact is not None:
        # the 3/2-power impact makes the KKT system nonlinear, so the polish's exact linear solve on
        # a fixed active set does not apply: the dual Newton finishes from Clarabel's multipliers
        try:
            finished = solve_fast(problem, start=start)
        except SolverError:
            finished = solve_fast(problem)
        scale = max(float(np.abs(finished.weights).max()) * problem.n, 1e-300)
        if float(np.abs(finished.weights * problem.n - candidate).max()) > 1e-3 * scale:  # IPM accuracy
            raise SolverError("Clarabel and the dual Newton path disagree with the 3/2-power impact")
        return dataclasses.replace(finished, method="generic")
    if problem.has_long_short:
        # the polish does not model these limits: the proximal path finishes, checked against Clarabel
        finished = solve_fast(problem)
        scale = max(float(np.abs(finished.weights).max()) * problem.n, 1e-300)
        if float(np.abs(finished.weights * problem.n - candidate).max()) > 1e-3 * scale:  # IPM accuracy
            raise SolverError("Clarabel and the proximal path disagree on the long/short limits")
        return dataclasses.replace(finished, method="generic")
    point, rounds, converged = _polish(problem, candidate)
    if not converged:
        start = DualPoint(nu=point.nu, mu=point.mu, lam=max(point.lam, 0.0), tau=max(point.tau, 0.0))
        try:
            finished = solve_fast(problem, start=start)
        except SolverError:  # the polish's multipliers may be a poor start: start afresh
            finished = solve_fast(problem)
        return dataclasses.replace(finished, method="generic", iterations=rounds + finished.iterations)
    return finalize(problem, point, evaluate(problem, point), method="generic", iterations=rounds)
