r"""Closed-form solution of the separable one-dimensional subproblems.

Once the equality, factor and leverage constraints are dualized, every (scaled) position
:math:`x_i` solves, independently,

.. math::

    \min_{|x| \le U_i} \; \tfrac12 h_i x^2 - b_i x + \lambda |x| + c' |x - x^0_i|,
    \qquad h_i > 0,\; \lambda, c' \ge 0,

a convex piecewise quadratic with kinks at :math:`p_1 = \min(0, x^0_i)` and
:math:`p_2 = \max(0, x^0_i)`. Its subdifferential is :math:`h x + \sigma(x) - b` with the slope
sum :math:`\sigma = \lambda\,\mathrm{sign}(x) + c'\,\mathrm{sign}(x - x^0)`, constant on the three
open regions: :math:`\sigma_1 = -(\lambda + c')` below :math:`p_1`,
:math:`\sigma_2 = \mathrm{sign}(x^0)(\lambda - c')` between the kinks and
:math:`\sigma_3 = \lambda + c'` above :math:`p_2`. With the thresholds
:math:`\theta_1 = h p_1 + \sigma_1 \le \theta_2 = h p_1 + \sigma_2 \le \theta_3 = h p_2 + \sigma_2
\le \theta_4 = h p_2 + \sigma_3` the unconstrained minimizer is

* :math:`(b - \sigma_1)/h` if :math:`b < \theta_1`, :math:`p_1` if :math:`b \le \theta_2`,
* :math:`(b - \sigma_2)/h` if :math:`b < \theta_3`, :math:`p_2` if :math:`b \le \theta_4`,
* :math:`(b - \sigma_3)/h` otherwise,

and clipping it to :math:`[-U_i, U_i]` gives the constrained minimizer (one dimension, convex).
When :math:`c' = 0` the kink at :math:`x^0` vanishes and only the soft threshold at zero remains
(callers pass ``x0 = 0`` then). ``piece`` codes say which case holds; the derivative
:math:`\partial x_i / \partial b_i` is :math:`1/h_i` on the open regions and 0 elsewhere.

**3/2-power impact.** With the extra term :math:`\tilde\kappa_i |x - c_i|^{3/2}` (``impact``,
centred at the previous holding ``center`` whether or not a linear-cost kink sits there) the
smooth part of the subdifferential becomes :math:`g(x) = h x + \tfrac32\tilde\kappa\,
\mathrm{sign}(x - c)\sqrt{|x - c|}`, still strictly increasing, so the same thresholds (now
:math:`\theta = g(p) + \sigma`) and the same pieces hold. On a region, :math:`g(x) = b - \sigma`
with :math:`t = x - c`, :math:`s = \sqrt{|t|}` and :math:`\beta = b - \sigma - h c` is the
quadratic :math:`h s^2 + \tfrac32\tilde\kappa s = |\beta|` in :math:`s`, whose root is taken in the
cancellation-free form :math:`s = 2|\beta| / (\tfrac32\tilde\kappa + \sqrt{\tfrac94\tilde\kappa^2 +
4h|\beta|})`, :math:`t = \mathrm{sign}(\beta) s^2` (exact to rounding, vectorized). The slope
:math:`\partial x / \partial b` on a region is :math:`1/(h + \tfrac34\tilde\kappa/\sqrt{|t|})`
(:func:`inverse_slope`), 0 at :math:`t = 0`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "AT_LOWER",
    "AT_UPPER",
    "KINK_HIGH",
    "KINK_LOW",
    "REGION_HIGH",
    "REGION_LOW",
    "REGION_MID",
    "Pieces",
    "inverse_slope",
    "region_signs",
    "separable_minimizer",
    "separable_x",
]

REGION_LOW, KINK_LOW, REGION_MID, KINK_HIGH, REGION_HIGH, AT_LOWER, AT_UPPER = range(7)
FREE_CODES = (REGION_LOW, REGION_MID, REGION_HIGH)


@dataclass(frozen=True)
class Pieces:
    """Minimizers and the piece each one lies on.

    Attributes
    ----------
    x
        (n,) minimizers.
    piece
        (n,) int8 codes (``REGION_*`` free, ``KINK_*`` at 0 or x⁰, ``AT_*`` at a bound).
    margin
        (n,) distance, in units of b, to the nearest change of piece: for a free name
        ``h_i·(distance of x_i to its region's ends)`` (the slack), for a fixed one the dual
        margin (how far b is inside the kink interval, or beyond the bound). Both ≈ 0 means
        weakly active.
    neighbour
        (n,) int8: the free region a fixed name enters if its margin is exhausted (used to
        treat weakly active names as free); equal to ``piece`` for free names.
    """

    x: np.ndarray
    piece: np.ndarray
    margin: np.ndarray
    neighbour: np.ndarray

    @property
    def free(self) -> np.ndarray:
        return (self.piece == REGION_LOW) | (self.piece == REGION_MID) | (self.piece == REGION_HIGH)


def _forward(
    x: np.ndarray, h: np.ndarray, impact: np.ndarray | None, center: np.ndarray | None
) -> np.ndarray:
    """g(x) = h·x (+ (3/2)·κ̃·sign(x − c)·√|x − c|): the smooth part of the subgradient."""
    if impact is None:
        return h * x
    t = x - center
    return h * x + 1.5 * impact * np.sign(t) * np.sqrt(np.abs(t))


def _inverse(
    y: np.ndarray, h: np.ndarray, impact: np.ndarray | None, center: np.ndarray | None
) -> np.ndarray:
    """The x with g(x) = y: y/h, or with impact the root of h·s² + (3/2)κ̃·s = |y − h·c| in s = √|x − c|."""
    if impact is None:
        return y / h
    beta = y - h * center
    size = np.abs(beta)
    denominator = 1.5 * impact + np.sqrt(2.25 * impact * impact + 4.0 * h * size)
    root = np.divide(2.0 * size, denominator, out=np.zeros_like(size), where=denominator > 0)
    return center + np.sign(beta) * root * root


def inverse_slope(
    x: np.ndarray, h: np.ndarray, impact: np.ndarray | None, center: np.ndarray | None
) -> np.ndarray:
    """∂x/∂b on a free region: 1/h, or 1/(h + (3/4)κ̃/√|x − c|) = √|t|/(h√|t| + (3/4)κ̃) (0 at t = 0)."""
    if impact is None:
        return 1.0 / h
    root = np.sqrt(np.abs(x - center))
    denominator = h * root + 0.75 * impact
    slope = np.divide(root, denominator, out=np.zeros_like(root), where=denominator > 0)
    return np.where(impact > 0, slope, 1.0 / h)


def region_signs(region: np.ndarray, x0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signs ``(sign(x), sign(x − x⁰))`` on a free region code (LOW, MID or HIGH)."""
    sign0 = np.sign(x0)
    s = np.where(region == REGION_LOW, -1.0, np.where(region == REGION_HIGH, 1.0, sign0))
    t = np.where(region == REGION_LOW, -1.0, np.where(region == REGION_HIGH, 1.0, -sign0))
    return s, t


def separable_minimizer(
    b: np.ndarray,
    h: np.ndarray,
    upper: np.ndarray,
    x0: np.ndarray,
    lam: float | np.ndarray,
    cost: float | np.ndarray,
    lower: np.ndarray | None = None,
    fee: np.ndarray | None = None,
    impact: np.ndarray | None = None,
    center: np.ndarray | None = None,
) -> Pieces:
    """Solve all one-dimensional subproblems at once (see the module docstring).

    Parameters
    ----------
    b, h, upper, x0
        (n,) linear coefficients, curvatures (> 0), upper bounds U and kink positions x⁰
        (pass zeros where ``cost == 0``).
    lam, cost
        λ ≥ 0 (gross-leverage multiplier) and c' ≥ 0 (linear cost plus turnover multiplier;
        a scalar or one per name).
    lower
        (n,) lower bounds L ≤ U (default −U). Clipping the unconstrained minimizer to [L, U] is
        exact for any one-dimensional convex function, wherever the box lies.
    fee
        (n,) borrow fees φ ≥ 0: the extra cost ``φ·max(−x, 0)`` of a short position lowers the
        slope of every region left of 0 by φ (σ₁ −= φ, and σ₂ −= φ when x⁰ < 0).
    impact, center
        (n,) 3/2-power impact κ̃ ≥ 0 and its centre c (the previous holding), or None.
    """
    if lower is None:
        lower = -upper
    sign0 = np.sign(x0)
    p1 = np.minimum(x0, 0.0)
    p2 = np.maximum(x0, 0.0)
    s1 = -(lam + cost)
    s2 = sign0 * (lam - cost)
    s3 = lam + cost
    if fee is not None:
        s1 = s1 - fee
        s2 = s2 - fee * (x0 < 0)
    g1, g2 = _forward(p1, h, impact, center), _forward(p2, h, impact, center)
    t1 = g1 + s1
    t2 = g1 + s2
    t3 = g2 + s2
    t4 = g2 + s3
    piece = np.full(b.shape, REGION_HIGH, dtype=np.int8)
    piece[b <= t4] = KINK_HIGH
    piece[b < t3] = REGION_MID
    piece[b <= t2] = KINK_LOW
    piece[b < t1] = REGION_LOW
    sigma = np.where(piece == REGION_LOW, s1, np.where(piece == REGION_MID, s2, s3))
    x = _inverse(b - sigma, h, impact, center)
    x = np.where(piece == KINK_LOW, p1, x)
    x = np.where(piece == KINK_HIGH, p2, x)
    # margins before clipping: free names, distance to the region's ends (in b units);
    # kinks, distance of b to the ends of the kink interval
    big = np.inf
    lo_end = np.where(piece == REGION_LOW, -big, np.where(piece == REGION_MID, t2, t4))
    hi_end = np.where(piece == REGION_LOW, t1, np.where(piece == REGION_MID, t3, big))
    # where x⁰ = 0 both kinks sit at 0 and form one interval [θ₁, θ₄]
    merged = p1 == p2
    kink_lo = np.where(merged, t1, np.where(piece == KINK_LOW, t1, t3))
    kink_hi = np.where(merged, t4, np.where(piece == KINK_LOW, t2, t4))
    at_kink = (piece == KINK_LOW) | (piece == KINK_HIGH)
    margin = np.where(at_kink, np.minimum(b - kink_lo, kink_hi - b), np.minimum(b - lo_end, hi_end - b))
    below = (piece == KINK_LOW) & ~merged
    enter_up = np.where(below, REGION_MID, REGION_HIGH)
    enter_down = np.where(below | merged, REGION_LOW, REGION_MID)
    neighbour = np.where(at_kink, np.where(kink_hi - b < b - kink_lo, enter_up, enter_down), piece).astype(
        np.int8
    )
    # clip to the box; margin at a bound = how far b is beyond the value where x leaves it
    over = x >= upper
    under = x <= lower
    if np.any(over) or np.any(under):
        # slope sum just left of +U and just right of -U
        left_of_upper = np.where(upper > p2, s3, np.where(upper > p1, s2, s1))
        right_of_lower = np.where(lower < p1, s1, np.where(lower < p2, s2, s3))
        region_left = np.where(upper > p2, REGION_HIGH, np.where(upper > p1, REGION_MID, REGION_LOW))
        region_right = np.where(lower < p1, REGION_LOW, np.where(lower < p2, REGION_MID, REGION_HIGH))
        margin = np.where(over, b - (_forward(upper, h, impact, center) + left_of_upper), margin)
        margin = np.where(under, (_forward(lower, h, impact, center) + right_of_lower) - b, margin)
        neighbour = np.where(over, region_left, np.where(under, region_right, neighbour)).astype(np.int8)
        piece = np.where(over, AT_UPPER, np.where(under, AT_LOWER, piece)).astype(np.int8)
        x = np.clip(x, lower, upper)
        free = (piece == REGION_LOW) | (piece == REGION_MID) | (piece == REGION_HIGH)
        # a free name near its bound is only weakly inside
        if impact is None:
            inside = h * np.minimum(upper - x, x - lower)
        else:
            g_x = _forward(x, h, impact, center)
            inside = np.minimum(
                _forward(upper, h, impact, center) - g_x, g_x - _forward(lower, h, impact, center)
            )
        margin = np.where(free, np.minimum(margin, inside), margin)
    zero_box = upper <= lower
    if np.any(zero_box):
        margin = np.where(zero_box, np.inf, margin)  # cannot move: never weakly active
    return Pieces(x=x, piece=piece, margin=margin, neighbour=neighbour)


def separable_x(
    b: np.ndarray,
    h: np.ndarray,
    upper: np.ndarray,
    x0: np.ndarray,
    lam: float | np.ndarray,
    cost: float | np.ndarray,
    lower: np.ndarray | None = None,
    fee: np.ndarray | None = None,
    impact: np.ndarray | None = None,
    center: np.ndarray | None = None,
) -> np.ndarray:
    """Only the minimizers of :func:`separable_minimizer` (cheaper; used in line searches).

    Without a cost kink this is the soft threshold ``clip(sign(b)·max(|b| − λ, 0)/h, ±U)``;
    with one, the sum ``min((b − σ₁)/h, p₁) + clip((b − σ₂)/h, p₁, p₂) + max((b − σ₃)/h, p₂)
    − p₁ − p₂`` of the three monotone pieces, clipped (with impact, g⁻¹ replaces division by h).
    """
    if not np.any(cost) and fee is None and impact is None:
        x = np.maximum(np.abs(b) - lam, 0.0)
        x /= h
        x *= np.sign(b)
    else:
        p1 = np.minimum(x0, 0.0)
        p2 = np.maximum(x0, 0.0)
        s1 = -(lam + cost) if fee is None else -(lam + cost) - fee
        s2 = np.sign(x0) * (lam - cost)
        if fee is not None:
            s2 = s2 - fee * (x0 < 0)
        x = np.minimum(_inverse(b - s1, h, impact, center), p1)
        x += np.clip(_inverse(b - s2, h, impact, center), p1, p2)
        x += np.maximum(_inverse(b - (lam + cost), h, impact, center), p2)
        x -= p1
        x -= p2
    return np.clip(x, -upper if lower is None else lower, upper, out=x)
