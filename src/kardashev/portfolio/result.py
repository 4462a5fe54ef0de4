"""Result types of :func:`kardashev.portfolio.optimize`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from kardashev.errors import InvalidInputError

__all__ = ["ActiveConstraints", "PortfolioDuals", "PortfolioResult"]


@dataclass(frozen=True, eq=False)
class ActiveConstraints:
    """Which constraints hold with equality at the optimum (boolean masks are (n_stocks,)).

    Attributes
    ----------
    at_upper, at_lower
        w_i = u_i / w_i = l_i (position bound; l_i = −u_i unless per-name bounds or trade-size
        limits narrow the box).
    at_zero
        w_i = 0 held there by the leverage kink (|b_i| ≤ λ), not by chance.
    at_previous
        w_i = w0_i held by the linear-cost / turnover kink (the name is not traded).
    free
        strictly inside its piece: these names carry the gradient.
    gross, turnover
        the gross-leverage / turnover cap binds.
    weakly_active
        slack and dual both ≈ 0 (within ``degeneracy_tolerance``): a kink of w*(α). The
        gradient treats these constraints as inactive (the name as free, the cap as slack).
    """

    at_upper: np.ndarray
    at_lower: np.ndarray
    at_zero: np.ndarray
    at_previous: np.ndarray
    free: np.ndarray
    gross: bool
    turnover: bool
    weakly_active: np.ndarray
    gross_weakly_active: bool = False
    turnover_weakly_active: bool = False

    @property
    def n_weakly_active(self) -> int:
        """Number of weakly active constraints (names plus caps)."""
        caps = int(self.gross_weakly_active) + int(self.turnover_weakly_active)
        return int(self.weakly_active.sum()) + caps

    def counts(self) -> dict[str, int]:
        """Counts per kind, e.g. for logging."""
        return {
            "free": int(self.free.sum()),
            "at_bound": int(self.at_upper.sum() + self.at_lower.sum()),
            "at_zero": int(self.at_zero.sum()),
            "at_previous": int(self.at_previous.sum()),
            "gross": int(self.gross),
            "turnover": int(self.turnover),
            "weakly_active": self.n_weakly_active,
        }


@dataclass(frozen=True, eq=False)
class PortfolioDuals:
    """Shadow prices in natural units (change of the maximized objective per unit of slack).

    Attributes
    ----------
    equality
        (k,) one per exposure column (the dollar-neutral column first when enabled); dependent
        columns get 0.
    exposure_names
        names of those columns.
    gross
        λ ≥ 0 of Σ|w| ≤ L.
    turnover
        τ ≥ 0 of Σ|w − w0| ≤ T (0 without a turnover cap).
    bounds
        (n,) ≥ 0 multipliers of l_i ≤ w_i ≤ u_i (of the bound that binds).
    long, short
        ≥ 0 multipliers of the separate long / short gross limits (0 when none or slack).
    groups
        (m,) ≥ 0 multipliers of the per-group gross limits, or None.
    bands
        (kb,) net multipliers of the exposure bands (> 0 at the upper limit, < 0 at the lower), or None.
    volatility
        η ≥ 0 of the ex-ante volatility limit wᵀΣw ≤ σ² (0 when none or slack).
    """

    equality: np.ndarray
    exposure_names: tuple[str, ...]
    gross: float
    turnover: float
    bounds: np.ndarray
    # internal multipliers of the scaled problem (ν in the orthonormal basis, μ, λ, τ) and the
    # scale ρ, kept for warm starts
    internal: tuple[np.ndarray, np.ndarray, float, float] = field(repr=False, default=None)  # type: ignore[assignment]
    rho: float = field(repr=False, default=1.0)
    long: float = 0.0
    short: float = 0.0
    groups: np.ndarray | None = None
    bands: np.ndarray | None = None
    volatility: float = 0.0


@dataclass(frozen=True, eq=False)
class PortfolioResult:
    """The optimal portfolio and everything needed to differentiate it.

    Attributes
    ----------
    weights
        (n,) fractions of capital.
    status
        ``"optimal"``, or ``"optimal_zero"`` when the optimum is the zero portfolio (the signal
        lies in the span of the neutralized directions, or no position is worth its cost).
        Failures raise instead.
    method
        ``"fast"`` or ``"generic"``.
    iterations
        Newton iterations (fast) or polish rounds (generic).
    objective
        αᵀw − γwᵀΣw − trading cost, at the optimum.
    active, duals
        see :class:`ActiveConstraints`, :class:`PortfolioDuals`.
    alpha_scale
        α = alpha_scale · expected_returns.
    residual
        largest relative primal residual (equalities, caps) at the returned point.
    """

    weights: np.ndarray
    status: str
    method: str
    iterations: int
    objective: float
    active: ActiveConstraints
    duals: PortfolioDuals
    alpha_scale: float
    residual: float
    _gradient: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    _problem: object = field(repr=False, default=None)  # the scaled problem, reused by warm starts

    def vjp(self, cotangent: object) -> np.ndarray:
        """Exact gradient of ``cotangentᵀ w*`` with respect to ``expected_returns``.

        ``cotangent`` may be (n,) or a block (n, m) of m cotangents (one column each). The
        Jacobian ∂w*/∂expected_returns is symmetric, so this is also the JVP.
        """
        try:
            g = np.asarray(cotangent, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise InvalidInputError(f"cotangent must be a numeric array: {error}") from None
        n = self.weights.shape[0]
        if g.ndim not in (1, 2) or g.shape[0] != n:
            raise InvalidInputError(f"cotangent must have shape ({n},) or ({n}, m), got {g.shape}")
        if not np.all(np.isfinite(g)):
            raise InvalidInputError("cotangent contains NaN or infinite values")
        return self._gradient(g)

    def jacobian(self) -> np.ndarray:
        """Dense (n, n) ∂w*/∂expected_returns (for small n: inspection and tests)."""
        return self.vjp(np.eye(self.weights.shape[0]))
