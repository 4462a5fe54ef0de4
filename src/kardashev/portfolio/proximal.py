r"""Robust path of the dual Newton solver: proximal point on the dual (augmented Lagrangian).

The plain dual Newton iteration of :mod:`kardashev.portfolio.fast` needs the reduced matrix ``M``
of the free set to be (nearly) nonsingular. With a tight turnover cap and many neutrality rows
most names sit at their previous holding, the free names are fewer than the rows, the equality
multipliers are not unique and plain Newton wanders along the optimal face (or stalls on it).

This module maximizes the same concave dual ``g`` by the proximal point method: each outer step
solves the strongly concave subproblem

.. math::

    z_{j+1} = \arg\max_{\lambda, \tau \ge 0} \; g(z) - \tfrac{1}{2\sigma_j} \|z - z_j\|_P^2,

(the augmented Lagrangian method on the primal), whose generalized Hessian ``−(M + P/σ)`` is
always nonsingular, by semi-smooth Newton with the exact line search of
:mod:`kardashev.portfolio.fast`. ``P`` is a diagonal metric (1 for the unit-norm equality and
factor rows, n for the ±1 cap rows). The proximal steps converge to a maximizer of ``g`` for any
σ > 0 — whatever the degeneracy — and σ grows ×10 per outer step so that convergence is fast once
the pieces settle. Stationarity of the primal point ``x(z)`` is exact by construction (closed
form); the iteration stops when primal feasibility and the complementarity of the caps hold to
``tolerance`` — the same certificate as the plain Newton path.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from kardashev.portfolio.kkt import IncrementalGram
from kardashev.portfolio.linesearch import exact_line_search
from kardashev.portfolio.pieces import separable_x
from kardashev.portfolio.problem import ScaledProblem
from kardashev.portfolio.solution import (
    DualPoint,
    dual_gradient,
    evaluate_positions,
    kink_positions,
    relative_residual,
)

__all__ = ["solve_proximal"]

_MAX_OUTER = 60
_MAX_INNER = 40
_SIGMA_START = 1.0
_SIGMA_GROWTH = 10.0
_SIGMA_MAX = 1e12


def _pack(point: DualPoint, turnover: bool) -> np.ndarray:
    tail = [point.lam, point.tau] if turnover else [point.lam]
    return np.concatenate([point.nu, point.mu, tail])


def _unpack(z: np.ndarray, k: int, r: int, turnover: bool) -> DualPoint:
    return DualPoint(
        nu=z[:k],
        mu=z[k : k + r],
        lam=max(float(z[k + r]), 0.0),
        tau=max(float(z[k + r + 1]), 0.0) if turnover else 0.0,
    )


def _full_gradient(problem: ScaledProblem, point: DualPoint, x: np.ndarray, turnover: bool) -> np.ndarray:
    g_nu, g_mu, g_lam, g_tau = dual_gradient(problem, point, x)
    return np.concatenate([g_nu, g_mu, [g_lam, g_tau] if turnover else [g_lam]])


def _inner(
    problem: ScaledProblem,
    center: np.ndarray,
    sigma: float,
    metric: np.ndarray,
    tolerance: float,
    gram: IncrementalGram,
) -> np.ndarray:
    """Semi-smooth Newton on ``max g(z) − ‖z − center‖²_P / (2σ)`` over λ, τ ≥ 0."""
    k, r = problem.Q.shape[1], problem.V.shape[1]
    turnover = problem.turnover is not None
    caps = np.arange(k + r, center.size)
    weight = metric / sigma
    z = center.copy()
    for _ in range(_MAX_INNER):
        point = _unpack(z, k, r, turnover)
        b, x, free = evaluate_positions(problem, point)
        grad = _full_gradient(problem, point, x, turnover) - weight * (z - center)
        # a multiplier at 0 pushed below it is fixed there (projected gradient)
        fixed = np.zeros(z.size, dtype=bool)
        fixed[caps] = (z[caps] <= 0) & (grad[caps] < 0)
        projected = np.where(fixed, 0.0, grad)
        if float(np.linalg.norm(projected / np.sqrt(metric))) <= tolerance:
            break
        s = np.sign(x[free])
        t = np.sign(x[free] - problem.x0[free]) if turnover else None
        M = gram.matrix(free, s, t)
        M[np.diag_indices_from(M)] += weight
        keep = ~fixed
        d = np.zeros_like(z)
        sub = M[np.ix_(keep, keep)]
        scale = 1.0 / np.sqrt(np.diag(sub))
        factor = scipy.linalg.cho_factor(sub * scale[:, None] * scale[None, :], check_finite=False)
        d[keep] = scale * scipy.linalg.cho_solve(factor, scale * projected[keep], check_finite=False)
        # the largest step keeping λ, τ ≥ 0
        limits = [-z[j] / d[j] for j in caps if d[j] < 0 and z[j] > 0]
        t_max = min(limits) if limits else np.inf
        step_b = problem.W[:, : k + r] @ d[: k + r]

        def slope(step: float, z=z, d=d, b=b, step_b=step_b) -> float:
            trial = z + step * d
            lam = max(float(trial[k + r]), 0.0)
            tau = max(float(trial[k + r + 1]), 0.0) if turnover else 0.0
            cost = problem.cost + tau
            kinks = kink_positions(problem, cost)
            xs = separable_x(
                b - step * step_b, problem.h, problem.upper, kinks, lam, cost, problem.lower, problem.fee
            )
            value = (
                float(xs @ step_b) - float(d[k : k + r] @ trial[k : k + r]) - float(problem.target @ d[:k])
            )
            value += float(d[k + r]) * (float(np.abs(xs).sum()) - problem.gross)
            if turnover:
                value += float(d[k + r + 1]) * (float(np.abs(xs - problem.x0).sum()) - problem.turnover)
            return value - float((weight * (trial - center)) @ d)

        step = exact_line_search(slope, float(projected @ d), t_max)
        z = z + step * d
        z[caps] = np.maximum(z[caps], 0.0)
        if step >= t_max:
            z[caps[np.abs(z[caps]) <= 1e-15 * (1.0 + np.abs(center[caps]))]] = 0.0
    return z


def solve_proximal(
    problem: ScaledProblem, start: DualPoint, gram: IncrementalGram | None = None
) -> DualPoint | None:
    """Multipliers whose primal point is feasible to ``tolerance``, or None if the budget runs out."""
    cfg = problem.config
    k, r = problem.Q.shape[1], problem.V.shape[1]
    turnover = problem.turnover is not None
    metric = np.concatenate([np.ones(k + r), np.full(2 if turnover else 1, float(problem.n))])
    z = _pack(start, turnover)
    z[k + r :] = np.maximum(z[k + r :], 0.0)
    if gram is None:
        gram = IncrementalGram(problem.W, 1.0 / problem.h, k, r)
    sigma = _SIGMA_START
    b_scale = max(float(np.abs(problem.q).max()), 1e-300)
    for _ in range(_MAX_OUTER):
        point = _unpack(z, k, r, turnover)
        _, x, _ = evaluate_positions(problem, point)
        if relative_residual(problem, point, x) <= cfg.tolerance:
            return point
        # inner accuracy: a small fraction of the current primal residual (summable as it shrinks)
        gradient = _full_gradient(problem, point, x, turnover)
        gradient[k + r :] = np.where((z[k + r :] <= 0) & (gradient[k + r :] < 0), 0.0, gradient[k + r :])
        inner_tolerance = max(1e-3 * float(np.linalg.norm(gradient / np.sqrt(metric))), 1e-15 * b_scale)
        z = _inner(problem, z, sigma, metric, inner_tolerance, gram)
        if float(z[k + r :].max()) > 1e12 * b_scale:  # a cap multiplier diverges: infeasible
            return None
        sigma = min(sigma * _SIGMA_GROWTH, _SIGMA_MAX)
    point = _unpack(z, k, r, turnover)
    _, x, _ = evaluate_positions(problem, point)
    return point if relative_residual(problem, point, x) <= cfg.tolerance else None
