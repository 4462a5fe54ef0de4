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
    band_residual,
    dual_gradient,
    evaluate_positions,
    group_residual,
    inverse_curvature,
    kink_positions,
    long_short_residual,
    relative_residual,
    slopes,
)

__all__ = ["solve_proximal"]

_MAX_OUTER = 60
_MAX_INNER = 40
_SIGMA_START = 1.0
_SIGMA_GROWTH = 10.0
_SIGMA_MAX = 1e12


def _caps(problem: ScaledProblem) -> tuple[str, ...]:
    """The sign-constrained multipliers present, in their order in z (after ν, μ)."""
    names = ["lam"]
    if problem.turnover is not None:
        names.append("tau")
    if problem.long_cap is not None:
        names.append("long")
    if problem.short_cap is not None:
        names.append("short")
    if problem.group_caps is not None:
        names.extend(f"group:{g}" for g in np.flatnonzero(np.isfinite(problem.group_caps)))
    if problem.band_rows is not None:
        names.extend(f"band+:{j}" for j in np.flatnonzero(np.isfinite(problem.band_upper)))  # type: ignore[arg-type]
        names.extend(f"band-:{j}" for j in np.flatnonzero(np.isfinite(problem.band_lower)))  # type: ignore[arg-type]
    return tuple(names)


def _band_net(values: np.ndarray, caps: tuple[str, ...], size: int) -> np.ndarray:
    """β⁺ − β⁻ per band from the caps' entries (``values`` aligned with ``caps``)."""
    net = np.zeros(size)
    for value, name in zip(values, caps, strict=True):
        if name.startswith("band+:"):
            net[int(name[6:])] += value
        elif name.startswith("band-:"):
            net[int(name[6:])] -= value
    return net


def _pack(point: DualPoint, caps: tuple[str, ...]) -> np.ndarray:
    values = []
    for name in caps:
        if name.startswith("group:"):
            values.append(0.0 if point.groups is None else float(point.groups[int(name[6:])]))
        elif name.startswith("band"):
            net = 0.0 if point.bands is None else float(point.bands[int(name[6:])])
            values.append(max(net, 0.0) if name.startswith("band+") else max(-net, 0.0))
        else:
            values.append(getattr(point, name))
    return np.concatenate([point.nu, point.mu, values])


def _unpack(z: np.ndarray, k: int, r: int, caps: tuple[str, ...]) -> DualPoint:
    values: dict = {}
    groups = None
    bands = None
    for j, name in enumerate(caps):
        if name.startswith("group:"):
            if groups is None:
                groups = np.zeros(1 + max(int(other[6:]) for other in caps if other.startswith("group:")))
            groups[int(name[6:])] = max(float(z[k + r + j]), 0.0)
        elif name.startswith("band"):
            if bands is None:
                bands = np.zeros(1 + max(int(other[6:]) for other in caps if other.startswith("band")))
            bands[int(name[6:])] += max(float(z[k + r + j]), 0.0) * (
                1.0 if name.startswith("band+") else -1.0
            )
        else:
            values[name] = max(float(z[k + r + j]), 0.0)
    return DualPoint(nu=z[:k], mu=z[k : k + r], groups=groups, bands=bands, **values)


def _cap_residuals(problem: ScaledProblem, x: np.ndarray, caps: tuple[str, ...]) -> list[float]:
    out = []
    g_long, g_short = long_short_residual(problem, x)
    g_groups = group_residual(problem, x)
    above, below = band_residual(problem, x) if problem.band_rows is not None else (None, None)
    for name in caps:
        if name.startswith("group:"):
            out.append(float(g_groups[int(name[6:])]))
        elif name.startswith("band+:"):
            out.append(float(above[int(name[6:])]))  # type: ignore[index]
        elif name.startswith("band-:"):
            out.append(float(below[int(name[6:])]))  # type: ignore[index]
        elif name == "lam":
            out.append(float(np.abs(x).sum()) - problem.gross)
        elif name == "tau":
            out.append(float(np.abs(x - problem.x0).sum()) - problem.turnover)  # type: ignore[operator]
        elif name == "long":
            out.append(g_long)
        else:
            out.append(g_short)
    return out


def _cap_columns(problem: ScaledProblem, x: np.ndarray, free: np.ndarray, caps: tuple[str, ...]) -> list:
    """Each cap's row on the free names: sign(x), sign(x − x0), 1[x > 0], −1[x < 0]."""
    xf = x[free]
    columns = {
        "lam": np.sign(xf),
        "tau": np.sign(xf - problem.x0[free]),
        "long": (xf > 0).astype(np.float64),
        "short": -(xf < 0).astype(np.float64),
    }
    if problem.group_labels is not None:
        labels = problem.group_labels[free]
        sign = np.sign(xf)
        for name in caps:
            if name.startswith("group:"):
                columns[name] = sign * (labels == int(name[6:]))
    for name in caps:
        if name.startswith("band"):
            column = problem.band_rows[free, int(name[6:])]  # type: ignore[index]
            columns[name] = column if name.startswith("band+") else -column
    return [columns[name] for name in caps]


def _full_gradient(
    problem: ScaledProblem, point: DualPoint, x: np.ndarray, caps: tuple[str, ...]
) -> np.ndarray:
    g_nu, g_mu, _, _ = dual_gradient(problem, point, x)
    return np.concatenate([g_nu, g_mu, _cap_residuals(problem, x, caps)])


def _inner(
    problem: ScaledProblem,
    center: np.ndarray,
    sigma: float,
    metric: np.ndarray,
    tolerance: float,
    gram: IncrementalGram,
) -> np.ndarray:
    """Semi-smooth Newton on ``max g(z) − ‖z − center‖²_P / (2σ)`` over the caps' multipliers ≥ 0."""
    k, r = problem.Q.shape[1], problem.V.shape[1]
    names = _caps(problem)
    caps = np.arange(k + r, center.size)
    weight = metric / sigma
    z = center.copy()
    for _ in range(_MAX_INNER):
        point = _unpack(z, k, r, names)
        b, x, free = evaluate_positions(problem, point)
        grad = _full_gradient(problem, point, x, names) - weight * (z - center)
        # a multiplier at 0 pushed below it is fixed there (projected gradient)
        fixed = np.zeros(z.size, dtype=bool)
        fixed[caps] = (z[caps] <= 0) & (grad[caps] < 0)
        projected = np.where(fixed, 0.0, grad)
        if float(np.linalg.norm(projected / np.sqrt(metric))) <= tolerance:
            break
        if problem.power_impact is not None:  # the curvature moves with x
            gram.reweight(inverse_curvature(problem, x))
        M = gram.matrix(free, None, None, *_cap_columns(problem, x, free, names))
        M[np.diag_indices_from(M)] += weight
        keep = ~fixed
        d = np.zeros_like(z)
        sub = M[np.ix_(keep, keep)]
        scale = 1.0 / np.sqrt(np.diag(sub))
        factor = scipy.linalg.cho_factor(sub * scale[:, None] * scale[None, :], check_finite=False)
        d[keep] = scale * scipy.linalg.cho_solve(factor, scale * projected[keep], check_finite=False)
        # the largest step keeping the caps' multipliers ≥ 0
        limits = [-z[j] / d[j] for j in caps if d[j] < 0 and z[j] > 0]
        t_max = min(limits) if limits else np.inf
        step_w = problem.W[:, : k + r] @ d[: k + r]
        step_b = step_w
        if problem.band_rows is not None:  # (their B̂ᵀx enters through the caps' residuals)
            step_b = step_w + problem.band_rows @ _band_net(d[k + r :], names, problem.band_rows.shape[1])

        def slope(step: float, z=z, d=d, b=b, step_b=step_b, step_w=step_w) -> float:
            trial = z + step * d
            trial_point = _unpack(trial, k, r, names)
            cost = problem.cost + trial_point.tau
            kinks = kink_positions(problem, cost)
            lam, fee = slopes(problem, trial_point)
            xs = separable_x(
                b - step * step_b,
                problem.h,
                problem.upper,
                kinks,
                lam,
                cost,
                problem.lower,
                fee,
                problem.power_impact,
                problem.x0,
            )
            value = float(xs @ step_w) - float(d[k : k + r] @ trial[k : k + r])
            value -= float(problem.target @ d[:k])
            value += float(d[k + r :] @ np.array(_cap_residuals(problem, xs, names)))
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
    names = _caps(problem)
    # Jacobi-like metric: 1 for unit-norm rows (equalities, factors, bands), n for ±1 cap rows
    metric = np.concatenate(
        [np.ones(k + r), [1.0 if name.startswith("band") else float(problem.n) for name in names]]
    )
    z = _pack(start, names)
    z[k + r :] = np.maximum(z[k + r :], 0.0)
    if gram is None:
        gram = IncrementalGram(problem.W, 1.0 / problem.h, k, r)
    sigma = _SIGMA_START
    b_scale = max(float(np.abs(problem.q).max()), 1e-300)
    for _ in range(_MAX_OUTER):
        point = _unpack(z, k, r, names)
        _, x, _ = evaluate_positions(problem, point)
        if relative_residual(problem, point, x) <= cfg.tolerance:
            return point
        # inner accuracy: a small fraction of the current primal residual (summable as it shrinks)
        gradient = _full_gradient(problem, point, x, names)
        gradient[k + r :] = np.where((z[k + r :] <= 0) & (gradient[k + r :] < 0), 0.0, gradient[k + r :])
        inner_tolerance = max(1e-3 * float(np.linalg.norm(gradient / np.sqrt(metric))), 1e-15 * b_scale)
        z = _inner(problem, z, sigma, metric, inner_tolerance, gram)
        if float(z[k + r :].max()) > 1e12 * b_scale:  # a cap multiplier diverges: infeasible
            return None
        sigma = min(sigma * _SIGMA_GROWTH, _SIGMA_MAX)
    point = _unpack(z, k, r, names)
    _, x, _ = evaluate_positions(problem, point)
    return point if relative_residual(problem, point, x) <= cfg.tolerance else None
