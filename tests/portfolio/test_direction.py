"""The Newton direction through the kept factor of the all-names Gram and a Schur complement."""

from __future__ import annotations

import numpy as np
import pytest

from kardashev.portfolio.direction import newton_direction


def _system(rng: np.random.Generator, size: int, extra: int) -> tuple[np.ndarray, np.ndarray]:
    rows = rng.standard_normal((3 * size, size + extra))
    M = rows.T @ rows
    M[:size, :size] += np.eye(size)
    return M, rng.standard_normal(size + extra)


def _reference(M: np.ndarray, grad: np.ndarray, delta: float) -> np.ndarray:
    """(M + δ·diag(M)) d = g, solved densely (numpy, no factor kept)."""
    return np.linalg.solve(M + delta * np.diag(np.diag(M)), grad)


@pytest.mark.parametrize("extra", [0, 1, 2])
@pytest.mark.parametrize("residual", [0.5, 1e-4])
def test_the_bordered_direction_is_the_regularized_newton_direction(extra, residual):
    rng = np.random.default_rng(extra)
    size = 140
    M, grad = _system(rng, size, extra)
    seed = M[:size, :size].copy()
    seed.flags.writeable = False
    delta = 1e-3 * min(1.0, 1e2 * residual)
    expected = _reference(M, grad, delta)
    for _ in range(2):  # the second call reuses the kept factor
        d = newton_direction(M, grad, residual, seed=seed)
        np.testing.assert_allclose(d, expected, rtol=1e-9, atol=1e-12 * np.abs(expected).max())
    # other cap rows on the same block: the kept factor, new Schur complement
    M2, grad2 = _system(np.random.default_rng(10 + extra), size, extra)
    M2[:size, :size] = seed
    d2 = newton_direction(M2, grad2, residual, seed=seed)
    np.testing.assert_allclose(d2, _reference(M2, grad2, delta), rtol=1e-9, atol=1e-12 * np.abs(d2).max())
    # without the seed: the plain factorization gives the same direction
    np.testing.assert_allclose(newton_direction(M, grad, residual), expected, rtol=1e-9, atol=1e-12)
