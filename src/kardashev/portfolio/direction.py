"""The regularized Newton direction of the dual Newton solver (:mod:`kardashev.portfolio.fast`).

``(M + δ·diag(M)) d = ∇g`` by a Cholesky factorization of the Jacobi-scaled matrix. While the
matrix's leading (k + r)² block is still the cached all-names Gram (the first steps of a solve,
whose free set is still moving), that block's factor is kept — it is the same at every such step
and in every solve of the era while δ is — and only the one or two cap rows are eliminated (their
Schur complement), so those steps cost triangular solves instead of a (k + r)³ factorization.
"""

from __future__ import annotations

import threading

import numpy as np
import scipy.linalg

from kardashev.errors import SolverError

__all__ = ["newton_direction"]

_REGULARIZATION = 1e-3
# the kept block factor only from this k + r on (below it a factorization costs little, and the
# solves keep exactly their previous path)
_BORDERED_SIZE = 128

# (seed, δ, upper Cholesky factor of the scaled, regularized block, its Jacobi scale): the last one
_BLOCK: tuple[np.ndarray, float, np.ndarray, np.ndarray] | None = None
_BLOCK_LOCK = threading.Lock()


def newton_direction(
    M: np.ndarray, grad: np.ndarray, residual: float, *, seed: np.ndarray | None = None
) -> np.ndarray:
    """Regularized Newton direction ``(M + δ·diag(M)) d = ∇g``.

    Directions no free name touches (zero rows of M, e.g. a sector whose names are all held at
    their bounds) get a scaled gradient step; the line search then finds how far to go. The
    regularization shrinks with the residual so that the last steps are exact Newton steps.

    ``seed``: the cached all-names Gram when M's leading block is still that Gram (plus the identity
    on the factor block), as in the first Newton steps of a solve; the factor of that block,
    scaled and regularized, is then kept across steps and solves, and the cap rows are solved by
    their Schur complement (same system, no (k + r)³ factorization).
    """
    diag = np.diag(M)
    top = float(diag.max()) if diag.size else 0.0
    flat = diag <= 1e-14 * top
    d = np.zeros_like(grad)
    if top <= 0:
        return grad.copy()
    if np.any(flat):
        d[flat] = grad[flat] / float(diag[~flat].mean())
    keep = ~flat
    delta = _REGULARIZATION * min(1.0, 1e2 * residual)
    if seed is not None and seed.shape[0] >= _BORDERED_SIZE and not np.any(flat):
        bordered = _bordered(M, grad, delta, seed)
        if bordered is not None:
            return bordered
    sub = M[np.ix_(keep, keep)] if np.any(flat) else M
    scale = 1.0 / np.sqrt(diag[keep])
    size = sub.shape[0]
    while True:
        scaled = sub * scale[:, None]  # (one temporary of (k + r)², factored in place)
        scaled *= scale[None, :]
        scaled.flat[:: size + 1] += delta
        try:
            # the transposed view is Fortran-ordered (LAPACK's own layout: no transposing copy)
            # and holds the same symmetric matrix
            factor = scipy.linalg.cho_factor(scaled.T, lower=False, overwrite_a=True, check_finite=False)
            d[keep] = scale * scipy.linalg.cho_solve(factor, scale * grad[keep], check_finite=False)
            return d
        except np.linalg.LinAlgError:
            delta = max(delta * 1e3, 1e-14)
            if delta > 1.0:  # pragma: no cover - M is PSD, so this does not happen
                raise SolverError("the Newton system could not be factored") from None


def _block_factor(M: np.ndarray, delta: float, seed: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Upper factor U (UᵀU = S B S + δI) and scale S of M's leading block B (the seed's)."""
    global _BLOCK
    with _BLOCK_LOCK:
        kept = _BLOCK
    if kept is not None and kept[0] is seed and kept[1] == delta:
        return kept[2], kept[3]
    size = seed.shape[0]
    scale = 1.0 / np.sqrt(np.diag(M)[:size])
    block = M[:size, :size] * scale[:, None]
    block *= scale[None, :]
    block.flat[:: size + 1] += delta
    try:
        factor = scipy.linalg.cho_factor(block.T, lower=False, overwrite_a=True, check_finite=False)[0]
    except np.linalg.LinAlgError:
        return None
    factor.flags.writeable = False
    with _BLOCK_LOCK:
        _BLOCK = (seed, delta, factor, scale)
    return factor, scale


def _bordered(M: np.ndarray, grad: np.ndarray, delta: float, seed: np.ndarray) -> np.ndarray | None:
    """The direction of :func:`newton_direction` through the kept factor of the seed block and
    the Schur complement of the remaining rows; None when that complement is not positive."""
    size = seed.shape[0]
    kept = _block_factor(M, delta, seed)
    if kept is None:
        return None
    factor, scale = kept
    extra = 1.0 / np.sqrt(np.diag(M)[size:])
    rhs = scale * grad[:size]
    v = scipy.linalg.solve_triangular(factor, rhs, trans="T", check_finite=False)
    if extra.size == 0:
        y = scipy.linalg.solve_triangular(factor, v, check_finite=False)
        return scale * y
    cross = M[:size, size:] * scale[:, None] * extra[None, :]
    corner = M[size:, size:] * extra[:, None] * extra[None, :]
    corner.flat[:: extra.size + 1] += delta
    w = scipy.linalg.solve_triangular(factor, cross, trans="T", check_finite=False)
    schur = corner - w.T @ w
    try:
        small = scipy.linalg.cho_factor(schur, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    y_extra = scipy.linalg.cho_solve(small, extra * grad[size:] - w.T @ v, check_finite=False)
    y = scipy.linalg.solve_triangular(factor, v - w @ y_extra, check_finite=False)
    return np.concatenate([scale * y, extra * y_extra])
