r"""The reduced KKT system on a free set, shared by the Newton solver, the polish and the backward.

On the free set :math:`F` (names strictly inside their bounds and off the kinks) with sign
vectors :math:`s = \mathrm{sign}(x_F)` and :math:`t = \mathrm{sign}(x_F - x^0_F)`, stationarity
reads :math:`D x_F = r_F - E z`, with :math:`D = \mathrm{diag}(h_F)` and the constraint columns

.. math::

    E = [\,Q_F \;\; V_F \;\; s \;\; t\,], \qquad z = (\nu, \mu, \lambda, \tau),

(the ``s`` column only while the gross cap is active, ``t`` only while the turnover cap is)
where :math:`\mu = V^\top x` are the factor exposures. Eliminating :math:`x_F` leaves the small
symmetric positive semidefinite system

.. math::

    M z = E^\top D^{-1} r_F - e, \qquad M = E^\top D^{-1} E + \mathrm{blockdiag}(0_k, I_r, 0, 0),

of size :math:`k + r (+1, +1)`. The same :math:`M` is the negated generalized Hessian of the
dual function, and gives the exact derivative of the solution with respect to the linear term
(implicit function theorem):

.. math::

    \frac{\partial x_F}{\partial q_F} = D^{-1} - D^{-1} E M^{-1} E^\top D^{-1},

which equals :math:`H^{-1} - H^{-1} C^\top (C H^{-1} C^\top)^{-1} C H^{-1}` for
:math:`H = D + V_F V_F^\top` (Woodbury); it is symmetric, and zero rows/columns belong to fixed
names. With the 3/2-power impact :math:`D` holds each free name's curvature
:math:`h_i + \tfrac34\tilde\kappa_i/\sqrt{|x_i - x^0_i|}` (the inverse of the slope of its 1-D map,
:func:`kardashev.portfolio.pieces.inverse_slope`; infinite, i.e. :math:`D^{-1} = 0`, at :math:`x_i = x^0_i`).
Dependent columns of :math:`E` (a sector whose names are all fixed, trap 3) make
:math:`M` singular; :class:`PsdSolver` factors it with a rank-revealing pivoted Cholesky
(LAPACK ``dpstrf``) and solves consistent systems exactly on the independent part.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cache

import numpy as np
import scipy.linalg
from scipy.linalg import lapack
from threadpoolctl import ThreadpoolController

__all__ = [
    "IncrementalGram",
    "PsdSolver",
    "Sensitivity",
    "constraint_columns",
    "reduced_matrix",
    "single_threaded_blas",
]


@cache
def _blas_controller() -> ThreadpoolController:
    """Inspecting the loaded BLAS libraries takes milliseconds: do it once."""
    return ThreadpoolController()


def single_threaded_blas() -> AbstractContextManager:
    """One BLAS thread: the dense kernels here are small (n × (k + r)), so threads only add
    synchronization, and multi-threaded OpenBLAS on small matrices collapses when cores are shared."""
    return _blas_controller().limit(limits=1, user_api="blas")


_PIVOT_TOLERANCE = 1e-11


def constraint_columns(
    W: np.ndarray,
    free: np.ndarray,
    s: np.ndarray | None,
    t: np.ndarray | None,
) -> np.ndarray:
    """E = [Q_F, V_F, s?, t?] of shape (|F|, k + r (+1) (+1)).

    ``W = [Q, V, 0, 0]`` is stored once per problem with two spare columns, so that E costs a
    single row gather.
    """
    E = W[free]
    column = W.shape[1] - 2
    if s is not None:
        E[:, column] = s
        column += 1
    if t is not None:
        E[:, column] = t
        column += 1
    return E[:, :column]


def reduced_matrix(E: np.ndarray, inv_h: np.ndarray, k: int, r: int) -> np.ndarray:
    """M = Eᵀ diag(inv_h) E + blockdiag(0_k, I_r, 0...)."""
    scaled = E * np.sqrt(inv_h)[:, None]
    M = scaled.T @ scaled
    idx = np.arange(k, k + r)
    M[idx, idx] += 1.0
    return M


class IncrementalGram:
    """``M`` of the free set, kept up to date as the free set changes (hundreds of rows).

    Forming ``W_Fᵀ D_F⁻¹ W_F`` costs |F|·(k + r)² — at 500 rows that dominates a Newton step.
    Between Newton steps only a few names enter or leave the free set, so the block is updated by
    the rank-|ΔF| correction ``Σ_enter w_i w_iᵀ/h_i − Σ_leave w_i w_iᵀ/h_i``, and formed afresh
    only when more names change than are free. It may start from the Gram with every name free
    (:func:`~kardashev.portfolio.basis.all_names_gram`). The cap rows' cross terms ``W_Fᵀ D_F⁻¹ s`` are kept
    the same way: each is updated by the rows of the names whose weighted entry changed (entered,
    left or flipped sign), a full pass over W only when many did. ``weighted`` (optional) holds the
    rows ``W_{:k+r} · √inv_h`` already scaled (:func:`~kardashev.portfolio.basis.weighted_rows`):
    the Gram and its updates then only gather them.
    """

    def __init__(
        self,
        W: np.ndarray,
        inv_h: np.ndarray,
        k: int,
        r: int,
        gram_all: np.ndarray | None = None,
        weighted: np.ndarray | None = None,
    ) -> None:
        self.core = W[:, : k + r]
        self.inv_h = inv_h
        self.weighted = weighted
        self.k, self.r = k, r
        self.free: np.ndarray | None = None
        self.gram = np.zeros((k + r, k + r))
        self.seed: np.ndarray | None = None  # gram_all while the block is still it (unchanged)
        if gram_all is not None:  # the Gram with every name free
            self.free = np.ones(inv_h.size, dtype=bool)
            self.gram = gram_all.copy()
            self.seed = gram_all
        self._crosses: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # slot -> (D⁻¹s over all names, cross)

    def reweight(self, inv_h: np.ndarray) -> None:
        """New per-name weights D⁻¹ (the 3/2-power impact's curvature moves with x): the next
        :meth:`matrix` forms the Gram afresh."""
        self.inv_h = inv_h
        self.weighted = None
        self.free = None
        self.seed = None
        self._crosses.clear()

    def _cross(self, slot: int, weighted: np.ndarray, names: np.ndarray) -> np.ndarray:
        """``coreᵀ weighted`` (weighted is zero off the free ``names``), updated from the slot's last one."""
        previous = self._crosses.get(slot)
        if previous is not None:
            old, cross = previous
            changed = np.flatnonzero(weighted != old)
            if 8 * changed.size <= weighted.size:
                if changed.size:
                    cross = cross + self.core[changed].T @ (weighted[changed] - old[changed])
                self._crosses[slot] = (weighted, cross)
                return cross
        if 4 * names.size < weighted.size:  # few free names: gather their rows
            cross = self.core[names].T @ weighted[names]
        else:
            cross = self.core.T @ weighted
        self._crosses[slot] = (weighted, cross)
        return cross

    def _rows(self, names: np.ndarray) -> np.ndarray:
        """The rows ``W_i · √inv_h_i`` of the given names (a boolean mask or indices)."""
        if self.weighted is not None:
            return self.weighted[names]
        return self.core[names] * np.sqrt(self.inv_h[names])[:, None]

    def _update(self, free: np.ndarray) -> None:
        if self.free is not None and np.array_equal(free, self.free):
            return
        changed = None if self.free is None else np.flatnonzero(free != self.free)
        self.seed = None
        if changed is None or changed.size > int(free.sum()):
            rows = self._rows(free)
            self.gram = rows.T @ rows
        elif changed.size:
            # entering and leaving names as two symmetric rank-k products (BLAS syrk: half the
            # flops of a general product)
            for names, sign in ((changed[free[changed]], 1.0), (changed[~free[changed]], -1.0)):
                if names.size:
                    rows = self._rows(names)
                    product = rows.T @ rows
                    if sign > 0:
                        self.gram += product
                    else:
                        self.gram -= product
        self.free = free.copy()

    def matrix(
        self, free: np.ndarray, s: np.ndarray | None, t: np.ndarray | None, *more: np.ndarray
    ) -> np.ndarray:
        """``M = Eᵀ D⁻¹ E + blockdiag(0, I, 0, 0)`` for E = [Q_F, V_F, s?, t?, more…] (rows on F)."""
        self._update(free)
        size = self.k + self.r
        extra = [column for column in (s, t, *more) if column is not None]
        M = np.empty((size + len(extra), size + len(extra)))
        M[:size, :size] = self.gram
        idx = np.arange(self.k, size)
        M[idx, idx] += 1.0
        inv_h = self.inv_h[free]
        names = np.flatnonzero(free)
        for j, column in enumerate(extra):
            weighted = np.zeros(self.inv_h.size)
            weighted[names] = inv_h * column
            M[:size, size + j] = M[size + j, :size] = self._cross(j, weighted, names)
            for i, other in enumerate(extra):
                M[size + j, size + i] = float(np.dot(inv_h * column, other))
        return M


class PsdSolver:
    """Solve ``M z = rhs`` for symmetric positive semidefinite M, exactly when consistent.

    Jacobi-scales M, factors ``PᵀMP = UᵀU`` with pivoted Cholesky and drops the pivots below
    ``1e-11`` of the largest (the dependent directions; their components of z are set to 0).
    """

    def __init__(self, M: np.ndarray) -> None:
        size = M.shape[0]
        diag = np.diag(M).copy()
        top = float(diag.max()) if size else 0.0
        safe = np.where(diag > _PIVOT_TOLERANCE * max(top, 1e-300), diag, np.inf)
        self.scale = 1.0 / np.sqrt(safe)
        scaled = M * self.scale[:, None] * self.scale[None, :]
        self.size = size
        if size == 0:
            self.rank = 0
            return
        # (the transposed view: Fortran order, the same symmetric matrix, no transposing copy)
        factor, piv, rank, info = lapack.dpstrf(scaled.T, tol=_PIVOT_TOLERANCE, lower=0, overwrite_a=1)
        if info < 0:  # pragma: no cover - LAPACK argument error
            raise RuntimeError(f"dpstrf failed with info={info}")
        self.rank = int(rank)
        self.perm = piv[: self.rank] - 1
        self.factor = np.asfortranarray(np.triu(factor[: self.rank, : self.rank]))

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        out = np.zeros_like(rhs, dtype=np.float64)
        if self.size == 0 or self.rank == 0:
            return out
        scaled = rhs * (self.scale if rhs.ndim == 1 else self.scale[:, None])
        part = scaled[self.perm]
        y = scipy.linalg.solve_triangular(self.factor, part, trans="T", check_finite=False)
        y = scipy.linalg.solve_triangular(self.factor, y, check_finite=False)
        out[self.perm] = y
        return out * (self.scale if rhs.ndim == 1 else self.scale[:, None])


class Sensitivity:
    """Applies ∂x/∂q (n × n, symmetric) of the scaled problem to vectors or (n, m) blocks."""

    def __init__(self, n: int, free: np.ndarray, inv_h: np.ndarray, E: np.ndarray, solver: PsdSolver) -> None:
        self.n = n
        self.free = free
        self.inv_h = inv_h
        self.E = E
        self.solver = solver

    def apply(self, g: np.ndarray) -> np.ndarray:
        out = np.zeros(g.shape, dtype=np.float64)
        if self.free.size == 0:
            return out
        inv_h = self.inv_h if g.ndim == 1 else self.inv_h[:, None]
        u = inv_h * g[self.free]
        correction = self.E @ self.solver.solve(self.E.T @ u)
        out[self.free] = u - inv_h * correction
        return out
