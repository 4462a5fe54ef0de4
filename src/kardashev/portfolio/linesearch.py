"""Exact line search on a monotone, piecewise-linear directional derivative (dual Newton steps)."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["exact_line_search"]


def exact_line_search(slope: Callable[[float], float], slope0: float, t_limit: float) -> float:
    """Exact line search: the root of the monotone φ'(t) on [0, t_limit] for a concave φ.

    Starts at the Newton step t = min(1, t_limit); if φ is still rising there (a direction the
    free set does not curve), the step grows ×4 until φ' changes sign; then secant steps with
    the Illinois rule on the bracket.
    """
    hi = min(1.0, t_limit)
    f_hi = slope(hi)
    lo, f_lo = 0.0, slope0
    while f_hi > 1e-6 * slope0 and hi < t_limit and hi < 1e8:
        lo, f_lo = hi, f_hi
        hi = min(4.0 * hi, t_limit)
        f_hi = slope(hi)
    if f_hi >= 0 or slope0 <= 0:
        return hi
    side = 0
    for _ in range(60):
        step = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        if not lo < step < hi:
            step = 0.5 * (lo + hi)
        value = slope(step)
        if value >= 0:
            lo, f_lo = step, value
            if side == 1:
                f_hi *= 0.5
            side = 1
        else:
            hi, f_hi = step, value
            if side == -1:
                f_lo *= 0.5
            side = -1
        if abs(value) <= 1e-9 * slope0 or hi - lo <= 1e-14 * hi:
            break
    return lo if lo > 0 else hi
