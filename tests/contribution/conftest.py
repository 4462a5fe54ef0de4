"""Shared fixtures: small synthetic eras for TC tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest


@dataclass(frozen=True, eq=False)
class LinearResult:
    """Result of the smooth reference problem below (quacks like a PortfolioResult)."""

    weights: np.ndarray
    kernel: np.ndarray
    active: Any = None
    duals: Any = None
    status: str = "optimal"

    def vjp(self, cotangent: np.ndarray) -> np.ndarray:
        return self.kernel.T @ cotangent


def linear_optimize(alpha: np.ndarray, *, exposures=None, config=None, **_: Any) -> LinearResult:
    """maximize aᵀw − γ wᵀDw s.t. [1, E]ᵀw = 0, solved in closed form: w = K a.

    ``K = (D⁻¹ − D⁻¹C(CᵀD⁻¹C)⁻¹CᵀD⁻¹)/(2γ)`` with ``C = [1, E]``, D = diag(1 + i/n).
    A hand-checkable smooth optimizer used to test the chain rule independently of the real one.
    """
    n = alpha.shape[0]
    constraints = np.ones((n, 1)) if exposures is None else np.column_stack([np.ones(n), exposures])
    inverse_d = 1.0 / (1.0 + np.arange(n) / n)
    scaled = inverse_d[:, None] * constraints
    kernel = np.diag(inverse_d) - scaled @ np.linalg.solve(constraints.T @ scaled, scaled.T)
    kernel /= 2.0 * 5.0
    return LinearResult(kernel @ alpha, kernel)


@pytest.fixture
def smooth_optimizer(monkeypatch: pytest.MonkeyPatch):
    """Replace the portfolio optimizer seen by the contribution layer with ``linear_optimize``."""
    import kardashev.contribution.solve as solve

    monkeypatch.setattr(solve, "optimize", linear_optimize)
    return linear_optimize


@dataclass(frozen=True)
class Era:
    predictions: np.ndarray
    stakes: np.ndarray
    returns: np.ndarray
    exposures: np.ndarray


def make_era(seed: int = 0, n_stocks: int = 80, n_models: int = 6, n_exposures: int = 3) -> Era:
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal(n_stocks)
    predictions = signal[:, None] * rng.random(n_models) + rng.standard_normal((n_stocks, n_models))
    stakes = rng.random(n_models) + 0.2
    returns = 0.02 * signal + 0.05 * rng.standard_normal(n_stocks)
    exposures = rng.standard_normal((n_stocks, n_exposures))
    return Era(predictions, stakes, returns, exposures)
