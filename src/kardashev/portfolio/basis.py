"""A basis of the equality rows (dependent exposure columns dropped), once per exposure matrix.

Country and sector one-hots both sum to the ones column, a sector whose names are all held at a
bound drops out of the Newton system (trap 3): the dependent columns are dropped once, here, and
the reduced systems handle what the free set leaves singular (:class:`~kardashev.portfolio.kkt.PsdSolver`).

The rank decision reads a Gram of the unit-norm columns, ``n·k²`` flops — at 5000 names × 500
rows the largest single product of a solve, as large as everything else together. A new matrix
pays it once, weighted by the curvatures (``[Â, V]ᵀ D⁻¹ [Â, V]``: the same rank, and the Newton
matrix with every name free, which seeds the first Newton steps). A fund re-solves the same era's
exposures many times (TC's bags and finite differences, stake-dropout, the volatility limit's
search, a benchmark's repeats), so the decision, the stacked rows W and that Gram are kept for
the last two exposure matrices and reused when a new matrix is *exactly* equal (``np.array_equal``
on a private copy: ~2 ms at 5000 × 500, against ~40 ms for the Gram; a matrix changed in place is
a different matrix). The kept Gram is reused only for equal curvatures; the kept column choice is
reused whatever the curvatures (a re-solve with other specific risks may keep other, equally
valid, columns than a fresh solve would: the same optimum to rounding). Memory: the private copy
and W, about twice the exposure matrix per kept era.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy.linalg import lapack

__all__ = [
    "EqualityBasis",
    "all_names_gram",
    "clear_cache",
    "constraint_rows",
    "equality_basis",
    "low_precision_rows",
    "weighted_rows",
]

_RANK_TOLERANCE = 1e-10
_CACHE_SIZE = 2


@dataclass(frozen=True, eq=False)
class EqualityBasis:
    """Either kept columns (``columns``, scaled by ``scale``) or an orthonormal ``q``; and the map
    ``basis_map`` (k_original, rank) from basis multipliers to those of the original columns."""

    basis_map: np.ndarray
    columns: np.ndarray | None = None  # sorted indices of the kept columns
    scale: np.ndarray | None = None  # (k_original,) 1/‖A_j‖ (0 for all-zero columns)
    q: np.ndarray | None = None  # (n, rank) orthonormal basis (when a pivot was ambiguous)

    @property
    def rank(self) -> int:
        return int(self.basis_map.shape[1])

    def fill(self, exposures: np.ndarray, out: np.ndarray) -> None:
        """Write the basis columns (n, rank) into ``out``."""
        if self.q is not None:
            out[:] = self.q
        elif self.rank and self.columns is not None and self.scale is not None:
            # np.take gathers columns ~10× faster than fancy indexing on a C-ordered matrix
            np.multiply(np.take(exposures, self.columns, axis=1), self.scale[self.columns], out=out)


def equality_basis(exposures: np.ndarray, gram: np.ndarray | None = None) -> EqualityBasis:
    """A basis of span(A) and the map from its multipliers to A's.

    Columns are scaled to unit norm; dependent ones are dropped. The rank and the kept columns
    are read from a pivoted Cholesky factorization (LAPACK ``dpstrf``) of the Jacobi-scaled Gram
    (10× faster than Householder QR here); if any pivot falls in the ambiguous range between
    clearly dependent (≤ 1e-12) and clearly independent (≥ 1e-8), a pivoted Householder QR
    (``scipy.linalg.qr(pivoting=True)``) decides instead and its orthonormal Q is used. ``gram``
    may give the Gram ``ÂᵀDÂ`` of the unit-norm columns Â under any positive weights D (same rank,
    same Jacobi-scaled structure), when the caller has it anyway.
    """
    k = exposures.shape[1]
    if k == 0:
        return EqualityBasis(
            basis_map=np.zeros((0, 0)), columns=np.zeros(0, dtype=np.intp), scale=np.zeros(0)
        )
    norms = np.linalg.norm(exposures, axis=0)
    scale = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0)
    normalized = exposures * scale
    if gram is None:
        gram = normalized.T @ normalized
    diag = np.sqrt(np.where(np.diag(gram) > 0, np.diag(gram), 1.0))
    jacobi = gram / diag[:, None] / diag[None, :]
    _, piv, rank, _ = lapack.dpstrf(jacobi, tol=1e-12, lower=0)
    _, _, rank_strict, _ = lapack.dpstrf(jacobi, tol=1e-8, lower=0)
    rank = int(rank) if np.any(norms > 0) else 0
    if rank == rank_strict:
        # the independent normalized columns themselves are the basis (well conditioned enough:
        # the Newton systems are Jacobi-scaled); ν_A = scale · ν_Q on the kept columns
        columns = np.sort(piv[:rank] - 1)
        basis_map = np.zeros((k, rank))
        basis_map[columns, np.arange(rank)] = scale[columns]
        return EqualityBasis(basis_map=basis_map, columns=columns, scale=scale)
    Q, R, perm_all = scipy.linalg.qr(normalized, mode="economic", pivoting=True, check_finite=False)
    diag = np.abs(np.diag(R))
    rank = int(np.sum(diag > _RANK_TOLERANCE * max(diag[0], 1e-300)))
    perm, upper = perm_all[:rank], R[:rank, :rank]
    # A[:, perm] · scale = Q · upper  ⇒  A-multipliers ν_A = scale · upper⁻¹ ν_Q on kept columns
    basis_map = np.zeros((k, rank))
    if rank:
        inverse = scipy.linalg.solve_triangular(upper, np.eye(rank), check_finite=False)
        basis_map[perm] = inverse * scale[perm, None]
    return EqualityBasis(basis_map=basis_map, q=np.ascontiguousarray(Q[:, :rank]))


@dataclass
class _Entry:
    full: np.ndarray  # [1?, A] (read-only)
    basis: EqualityBasis
    V: np.ndarray | None = None  # the factor rows of the last W built on this basis
    W: np.ndarray | None = None
    h: np.ndarray | None = None  # the curvatures of the last all-names Gram of W
    gram: np.ndarray | None = None
    low: np.ndarray | None = None  # float32 copy of W's first columns (the Newton loop's early steps)
    weighted: np.ndarray | None = None  # W's first columns · √(1/h) for the curvatures ``h``


class _BasisCache:
    """The last few exposure matrices, their bases and rows, found again only by exact equality."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._counter = 0

    def rows(
        self, matrix: np.ndarray, dollar_neutral: bool, V: np.ndarray, h: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        start = int(dollar_neutral)
        with self._lock:
            for key, entry in self._entries.items():
                stored = entry.full[:, start:]
                if (
                    entry.full.shape[1] == matrix.shape[1] + start
                    and (not dollar_neutral or _is_ones(entry.full[:, 0]))
                    and stored.shape == matrix.shape
                    and np.array_equal(stored, matrix)
                ):
                    self._entries.move_to_end(key)
                    if entry.W is None or entry.V is None or not np.array_equal(entry.V, V):
                        entry.V, entry.W = V.copy(), _rows(entry.full, entry.basis, V)
                        entry.h = entry.gram = entry.low = entry.weighted = None  # of the old rows
                    return entry.full, entry.W, entry.basis.basis_map
        columns = ([np.ones((matrix.shape[0], 1))] if dollar_neutral else []) + [matrix]
        full = np.hstack(columns)
        full.flags.writeable = False
        # one weighted Gram of all names serves the rank decision and the first Newton matrix
        k, r = full.shape[1], V.shape[1]
        norms = np.linalg.norm(full, axis=0)
        scale = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0)
        root = np.sqrt(1.0 / h)[:, None]
        weighted = np.empty((full.shape[0], k + r))
        np.multiply(full, scale * root, out=weighted[:, :k])
        np.multiply(V, root, out=weighted[:, k:])
        gram = weighted.T @ weighted
        del weighted
        basis = equality_basis(full, gram[:k, :k])
        W = _rows(full, basis, V)
        seed = None
        if basis.columns is not None:  # W's columns are those columns, scaled: the seed is a block
            keep = np.concatenate([basis.columns, np.arange(k, k + r)])
            seed = gram[np.ix_(keep, keep)]
            seed.flags.writeable = False
        entry = _Entry(full=full, basis=basis, V=V.copy(), W=W, h=h.copy(), gram=seed)
        with self._lock:
            self._counter += 1
            self._entries[self._counter] = entry
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return full, W, basis.basis_map

    def gram(self, W: np.ndarray, size: int, h: np.ndarray) -> np.ndarray | None:
        """``W[:, :size]ᵀ diag(1/h) W[:, :size]`` over every name, kept with the entry that built W;
        None once that entry is gone (the first Newton matrix is then formed over the free names)."""
        with self._lock:
            entry = next((entry for entry in self._entries.values() if entry.W is W), None)
            if (
                entry is not None
                and entry.h is not None
                and entry.gram is not None
                and entry.gram.shape[0] == size
                and np.array_equal(entry.h, h)
            ):
                return entry.gram
        if entry is None:
            return None
        rows = W[:, :size] * np.sqrt(1.0 / h)[:, None]
        gram = rows.T @ rows
        gram.flags.writeable = False
        rows.flags.writeable = False
        with self._lock:
            if entry.W is W:  # another thread may have rebuilt the entry's rows meanwhile
                entry.h, entry.gram, entry.weighted = h.copy(), gram, rows
        return gram

    def weighted(self, W: np.ndarray, size: int, h: np.ndarray) -> np.ndarray | None:
        """``W[:, :size] · √(1/h)`` (row-scaled, read-only), kept with the entry that built W."""
        with self._lock:
            entry = next((entry for entry in self._entries.values() if entry.W is W), None)
            if entry is None:
                return None
            if (
                entry.weighted is not None
                and entry.weighted.shape[1] == size
                and entry.h is not None
                and np.array_equal(entry.h, h)
            ):
                return entry.weighted
            if entry.h is not None and not np.array_equal(entry.h, h):
                return None  # kept for other curvatures (with their Gram): not replaced here
        rows = W[:, :size] * np.sqrt(1.0 / h)[:, None]
        rows.flags.writeable = False
        with self._lock:
            if entry.W is W and (entry.h is None or np.array_equal(entry.h, h)):
                entry.h, entry.weighted = h.copy(), rows
        return rows

    def low(self, W: np.ndarray, size: int) -> np.ndarray | None:
        """``W[:, :size]`` in float32 (contiguous, read-only), kept with the entry that built W;
        None once that entry is gone."""
        with self._lock:
            entry = next((entry for entry in self._entries.values() if entry.W is W), None)
            if entry is None:
                return None
            if entry.low is not None and entry.low.shape[1] == size:
                return entry.low
        low = np.ascontiguousarray(W[:, :size], dtype=np.float32)
        low.flags.writeable = False
        with self._lock:
            if entry.W is W:
                entry.low = low
        return low

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _is_ones(column: np.ndarray) -> bool:
    return bool(np.all(column == 1.0))


def _rows(full: np.ndarray, basis: EqualityBasis, V: np.ndarray) -> np.ndarray:
    """``W = [Q, V, 0, 0]`` (read-only: shared by every problem built on it)."""
    n, r = full.shape[0], V.shape[1]
    W = np.zeros((n, basis.rank + r + 2))
    basis.fill(full, W[:, : basis.rank])
    W[:, basis.rank : basis.rank + r] = V
    W.flags.writeable = False
    return W


_CACHE = _BasisCache(_CACHE_SIZE)


def clear_cache() -> None:
    """Forget the kept exposure matrices (frees their memory; the next solve of each is cold)."""
    _CACHE.clear()


def all_names_gram(W: np.ndarray, size: int, h: np.ndarray) -> np.ndarray | None:
    """The reduced Newton matrix's block with every name free, ``W_{:size}ᵀ D⁻¹ W_{:size}``
    (read-only): the first Newton steps use it while the free set is still moving (a good smooth
    curvature model where most names end up held at their previous weight, under a turnover cap).
    Kept with the cached rows, so a re-solve of the same era with the same curvatures reuses it."""
    return _CACHE.gram(W, size, h)


def low_precision_rows(W: np.ndarray, size: int) -> np.ndarray | None:
    """A float32 copy of ``W[:, :size]`` (read-only), kept with the cached rows; None when W is not
    (or no longer) cached. The Newton loop's early steps use it for the memory-bound products
    ``Wᵀx`` and ``Wd`` (half the bytes); every step near convergence, the convergence test and the
    certificate use W itself, so the answer is the float64 one."""
    return _CACHE.low(W, size)


def weighted_rows(W: np.ndarray, size: int, h: np.ndarray) -> np.ndarray | None:
    """``W[:, :size] · √(1/h)`` row by row (read-only), kept with the cached rows and the all-names
    Gram of the same curvatures; None when W is not cached. The Newton matrix's Gram and its
    rank-|ΔF| updates then gather these rows instead of scaling a gather of W at every step (the
    same products, bit for bit)."""
    return _CACHE.weighted(W, size, h)


def constraint_rows(
    matrix: np.ndarray, dollar_neutral: bool, V: np.ndarray, h: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(A = [1?, matrix], W = [Q, V, 0, 0], basis map)``: the equality columns with the ones
    column first when dollar neutral, the Newton rows (two spare columns for the cap rows) and the
    map from basis multipliers to A's. Both arrays are read-only and shared while cached. A new
    matrix costs one weighted Gram of all names (curvatures ``h``), which both decides the rank and
    seeds :func:`all_names_gram`."""
    return _CACHE.rows(matrix, dollar_neutral, V, h)
