"""Rank transforms: tie-kept rank, gaussianize and the signed 1.5 power.

All functions work column-wise on 2-D arrays shaped ``(n_stocks, n_models)`` and
also accept 1-D arrays ``(n_stocks,)``. They reproduce numerai-tools 0.7.2
bit for bit: pandas ``rank(method="average")`` semantics (ties share the average
of their ordinal ranks, NaN stays NaN and is not counted), ``scipy``'s normal
quantile function, and ``sign(x)·|x|**1.5``.

The implementation sorts each column once (vectorized over columns), finds runs
of equal values in the sorted order to average tied ranks, and for columns
without NaN gaussianizes through a lookup table of the ``2·n - 1`` possible
half-integer ranks, so the normal quantile is evaluated ``O(n)`` times instead
of ``O(n·n_models)`` times. Inputs are never modified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

from kardashev.errors import InvalidInputError

__all__ = [
    "gaussianize",
    "gaussianize_and_pow15",
    "pow15",
    "tie_kept_rank",
    "tie_kept_rank_gauss_pow15",
]


ScatterType = TypeVar("ScatterType", bound=np.generic)


def _as_columns(values: ArrayLike) -> tuple[NDArray[np.floating], bool]:
    """Return a ``(n_models, n_stocks)`` C-contiguous float view/copy and whether input was 1-D."""
    array = np.asarray(values)
    if array.dtype.kind not in "fiub":
        raise InvalidInputError(f"expected a numeric array, got dtype {array.dtype}")
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    if array.ndim == 1:
        return array.reshape(1, -1), True
    if array.ndim != 2:
        raise InvalidInputError(f"expected a 1-D or 2-D array (n_stocks, n_models), got {array.ndim}-D")
    return np.ascontiguousarray(array.T), False


def _restore(rows: NDArray[np.float64], was_1d: bool) -> NDArray[np.float64]:
    return rows[0] if was_1d else rows.T


# above this many values the packed sort is memory-bound and no faster than argsort
_PACKED_SORT_LIMIT = 4_000_000
# values per block of rows processed together (1 MiB of float64: stays in the L2 cache)
_BLOCK_VALUES = 1 << 17


def _order_and_ties(
    rows: NDArray[np.floating], has_nan: NDArray[np.bool_]
) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """Argsort of each row and whether each sorted value equals the next one."""
    if rows.dtype == np.float64 and rows.size <= _PACKED_SORT_LIMIT and not has_nan.any():
        packed = _packed_order_and_ties(cast(NDArray[np.float64], rows))
        if packed is not None:
            return packed
    order = np.argsort(rows, axis=1)
    sorted_values = np.sort(rows, axis=1)  # cheaper than gathering with `order`; same sequence
    return order, sorted_values[:, 1:] == sorted_values[:, :-1]  # NaN never equals NaN


def _packed_order_and_ties(rows: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.bool_]] | None:
    """Sort each row with one integer sort instead of an argsort plus a sort.

    Each float is mapped to an order-preserving unsigned 64-bit key whose lowest
    ``b = ⌈log₂ n⌉`` bits are replaced by the value's position, so sorting the keys yields the
    permutation. Values that differ only in those dropped bits land next to each other ordered by
    position; the exact values are compared wherever neighbouring keys agree, and if any pair is out
    of order (values within ~2⁻⁴⁰ relative of each other) the caller falls back to an argsort (None).
    """
    m, n = rows.shape
    bits = np.uint64(max(1, (n - 1).bit_length()))
    low_mask = (np.uint64(1) << bits) - np.uint64(1)
    positions = np.arange(n, dtype=np.uint64)
    order = np.empty((m, n), dtype=np.intp)
    ties = np.zeros((m, n - 1), dtype=bool)
    block = max(1, _BLOCK_VALUES // n)  # rows per block: every pass below stays in cache
    key_buffer = np.empty((min(block, m), n))
    flip_buffer = np.empty((min(block, m), n), dtype=np.uint64)
    for start in range(0, m, block):
        stop = min(start + block, m)
        # + 0.0 turns -0.0 into +0.0 (also copies a transposed view into C order)
        keys = np.add(rows[start:stop], 0.0, out=key_buffer[: stop - start]).view(np.uint64)
        # flip every bit of negatives and only the sign bit of positives: unsigned order = float order
        flip = flip_buffer[: stop - start]
        np.right_shift(keys.view(np.int64), np.int64(63), out=flip.view(np.int64))
        flip |= np.uint64(1 << 63)
        keys ^= flip
        keys &= ~low_mask
        keys |= positions
        keys.sort(axis=1)
        block_order = order[start:stop]
        np.bitwise_and(keys, low_mask, out=block_order.view(np.uint64))
        keys >>= bits
        candidates = np.equal(keys[:, 1:], keys[:, :-1], out=ties[start:stop])
        suspect = np.flatnonzero(candidates.any(axis=1))
        candidates[:] = False
        if suspect.size:
            values = np.take_along_axis(rows[start:stop][suspect], block_order[suspect], axis=1)
            if np.any(values[:, 1:] < values[:, :-1]):
                return None
            candidates[suspect] = values[:, 1:] == values[:, :-1]
    return order, ties


def _sorted_average_ranks(
    rows: NDArray[np.floating],
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], NDArray[np.bool_]]:
    """Sort every row once and find the average ranks of tied values.

    Parameters
    ----------
    rows
        ``(m, n)`` values, one row per column of the user's matrix.

    Returns
    -------
    order
        ``(m, n)`` argsort of each row (NaN last).
    tied_rows
        ``(k,)`` indices of the rows that contain ties; every other row has ranks ``1 … n``
        in sorted order.
    tied_sorted_ranks
        ``(k, n)`` average rank (1-based) of the value at each sorted position of the tied rows.
        Entries for NaN values are meaningless and must be masked by the caller.
    has_nan
        ``(m,)`` whether the row contains a NaN.
    """
    order, tied_rows, tied_codes, has_nan = _sorted_rank_codes(rows)
    # the mean of the ordinal ranks start+1 … end+1 is a half-integer: exactly representable
    return order, tied_rows, (tied_codes + 2) / 2.0, has_nan


def _sorted_rank_codes(
    rows: NDArray[np.floating],
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp], NDArray[np.bool_]]:
    """As :func:`_sorted_average_ranks` with the ranks of tied rows as codes ``2·rank - 2``."""
    n = rows.shape[1]
    has_nan = np.isnan(rows).any(axis=1)
    no_ties = (np.zeros(0, dtype=np.intp), np.zeros((0, n), dtype=np.intp))
    if n < 2:
        return np.zeros(rows.shape, dtype=np.intp), *no_ties, has_nan
    order, ties = _order_and_ties(rows, has_nan)
    tied_rows = np.flatnonzero(ties.any(axis=1))
    if tied_rows.size == 0:
        return order, *no_ties, has_nan
    return order, tied_rows, _tied_codes(ties[tied_rows]), has_nan


def _tied_codes(row_ties: NDArray[np.bool_]) -> NDArray[np.intp]:
    """``start + end`` of the run of equal values around each sorted position (``2·rank - 2``).

    ``row_ties`` ``(k, n - 1)`` says whether each sorted value equals the next one. Runs are
    numbered by a cumulative sum over the flattened rows (every row starts a run), so each
    position looks up its run's first and last positions.
    """
    k, n = row_ties.shape[0], row_ties.shape[1] + 1
    starts = np.ones((k, n), dtype=bool)
    np.logical_not(row_ties, out=starts[:, 1:])
    flat = starts.ravel()
    run_first = np.flatnonzero(flat)
    run_last = np.empty_like(run_first)
    run_last[:-1] = run_first[1:] - 1
    run_last[-1] = flat.size - 1
    run_code = run_first % n + run_last % n
    run_index = np.cumsum(flat, dtype=np.intp)
    run_index -= 1
    return run_code[run_index].reshape(k, n)


def _scatter_sorted(
    order: NDArray[np.intp],
    untied_values: NDArray[ScatterType],
    tied_rows: NDArray[np.intp],
    tied_values: NDArray[ScatterType],
) -> NDArray[ScatterType]:
    """Place per-sorted-position values back at their original positions.

    ``untied_values`` (length n) is used for every row not in ``tied_rows``.
    """
    out = np.empty(order.shape, dtype=untied_values.dtype)
    np.put_along_axis(out, order, np.broadcast_to(untied_values, order.shape), axis=1)
    if tied_rows.size:
        tied_out = np.empty(tied_values.shape, dtype=untied_values.dtype)
        np.put_along_axis(tied_out, order[tied_rows], tied_values, axis=1)
        out[tied_rows] = tied_out
    return out


def _rank_rows(rows: NDArray[np.floating]) -> NDArray[np.float64]:
    n_rows, n = rows.shape
    order, tied_rows, tied_sorted_ranks, has_nan = _sorted_average_ranks(rows)
    ranks = _scatter_sorted(order, np.arange(1, n + 1, dtype=np.float64), tied_rows, tied_sorted_ranks)
    counts = np.full(n_rows, float(n))
    if has_nan.any():
        nan_mask = np.isnan(rows)
        counts = (~nan_mask).sum(axis=1).astype(np.float64)
        ranks[nan_mask] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ranks - 0.5) / counts[:, None]


def tie_kept_rank(values: ArrayLike) -> NDArray[np.float64]:
    """Percentile rank each column, keeping ties: ``(rank_average(x) - 0.5) / count(x)``.

    Parameters
    ----------
    values
        ``(n_stocks,)`` or ``(n_stocks, n_models)`` numbers; NaN allowed (stays NaN, not counted).

    Returns
    -------
    ndarray of float64, same shape, values strictly inside (0, 1).
    """
    rows, was_1d = _as_columns(values)
    return _restore(_rank_rows(rows), was_1d)


def _gaussian_transforms(
    values: ArrayLike, *, plain: bool, powered: bool
) -> tuple[NDArray[np.float64] | None, NDArray[np.float64] | None]:
    """``Φ⁻¹(tkr(x))`` and/or ``pow15(Φ⁻¹(tkr(x)))`` from one sort per column.

    Every possible average rank is a half-integer in [1, n], so both transforms are tabulated on
    the ``2n - 1`` possible ranks and gathered; the results equal element-wise evaluation exactly.
    """
    rows, was_1d = _as_columns(values)
    n_rows, n = rows.shape
    if n_rows == 0 or n == 0:
        empty = _restore(np.zeros(rows.shape, dtype=np.float64), was_1d)
        return (empty if plain else None), (empty.copy() if powered else None)
    order, tied_rows, tied_sorted_ranks, has_nan = _sorted_average_ranks(rows)
    possible_ranks = np.arange(2, 2 * n + 1, dtype=np.float64) / 2.0
    table = ndtri((possible_ranks - 0.5) / float(n))
    # position of each value's average rank in the table: 2·rank - 2 (ties give odd positions)
    tied_codes = (tied_sorted_ranks * 2.0 - 2.0).astype(np.int32)
    tied_codes[has_nan[tied_rows]] = 0  # rows with NaN are recomputed below
    codes = _scatter_sorted(order, np.arange(0, 2 * n, 2, dtype=np.int32), tied_rows, tied_codes)
    nan_rows = np.flatnonzero(has_nan)
    nan_gauss = ndtri(_rank_rows(rows[nan_rows])) if nan_rows.size else None
    results: list[NDArray[np.float64] | None] = []
    for wanted, transform in ((plain, None), (powered, pow15)):
        if not wanted:
            results.append(None)
            continue
        out = (table if transform is None else transform(table))[codes]
        if nan_gauss is not None:
            out[nan_rows] = nan_gauss if transform is None else transform(nan_gauss)
        results.append(_restore(out, was_1d))
    return results[0], results[1]


@dataclass(frozen=True)
class SortedRows:
    """What scoring needs from sorting each row of a NaN-free ``(m, n)`` matrix (see :func:`sort_rows`).

    Attributes
    ----------
    n_rows
        ``m``.
    tied_rows
        ``(k,)`` rows with ties; every other row has the ranks ``1 … n`` in sorted order.
    tied_codes
        ``(k, n)`` position in ``table`` of the average rank at each sorted position of the tied rows.
    table
        ``(2n - 1,)`` ``Φ⁻¹((r - 0.5) / n)`` for every possible average rank ``r = 1, 1.5, …, n``
        (the untied ranks ``1 … n`` are ``table[0::2]``).
    gauss
        ``(m, n)`` gaussianized rows ``Φ⁻¹(tie_kept_rank(x))`` if asked for, else None.
    correlations
        One ``(m,)`` array per reference ``c`` given to :func:`sort_rows`: the Pearson correlation
        of each row's ``pow15(Φ⁻¹(tkr(x)))`` with ``c`` (NaN for a constant row, clipped to [-1, 1]).
    gauss_dots
        ``(m, r)`` products ``gauss @ gauss_references`` if references were given, else None.
    """

    n_rows: int
    tied_rows: NDArray[np.intp]
    tied_codes: NDArray[np.intp]
    table: NDArray[np.float64]
    gauss: NDArray[np.float64] | None
    correlations: tuple[NDArray[np.float64], ...]
    gauss_dots: NDArray[np.float64] | None = None

    def constant_rows(self) -> NDArray[np.bool_]:
        """``(m,)`` whether each row is constant (all its values tie)."""
        constant = np.zeros(self.n_rows, dtype=bool)
        constant[self.tied_rows] = self.tied_codes[:, 0] == self.tied_codes[:, -1]
        return constant


def sort_rows(
    rows: NDArray[np.floating],
    *,
    gauss: bool = False,
    pow15_references: Sequence[NDArray[np.float64]] = (),
    gauss_references: NDArray[np.float64] | None = None,
    divisors: NDArray[np.float64] | None = None,
) -> SortedRows | None:
    """Sort each row of ``rows`` ``(m, n)`` once and score it in sorted order; None when a row has
    a NaN or ``n < 2``.

    Rows are processed in cache-sized blocks; while a block's argsort is in cache its gaussianized
    values are scattered back (with ``gauss``) and, for each reference ``c``, the correlation with
    ``pow15(Φ⁻¹(tkr(x)))`` is computed in sorted order without forming the transformed matrix:
    ``r_j = Σ_p v_p c̃[order_jp] / (‖c̃‖ · sqrt(Σ v_p² - n v̄²))``, ``v`` the powered table values at
    the sorted positions and ``c̃ = c - mean(c)``. ``gauss_references`` ``(n, r)`` (with ``gauss``)
    are multiplied by each block of gaussianized rows while it is in cache. With ``divisors`` ``(m,)``
    the rows sorted are ``rows / divisors[:, None]`` (divided block by block).
    """
    m, n = rows.shape
    if n < 2:
        return None
    table = ndtri((np.arange(2, 2 * n + 1, dtype=np.float64) / 2.0 - 0.5) / float(n))
    powered = pow15(table)
    untied_powered = powered[0::2]
    centered = [reference - reference.mean() for reference in pow15_references]
    gauss_out = np.empty((m, n)) if gauss or gauss_references is not None else None
    gauss_dots = None if gauss_references is None else np.empty((m, gauss_references.shape[1]))
    dots = [np.empty(m) for _ in centered]
    # per row: Σ v, Σ v², max |v| of the powered values (the same for every untied row)
    sums = np.full(m, untied_powered.sum())
    squares = np.full(m, untied_powered @ untied_powered)
    largest = np.full(m, np.abs(untied_powered).max(initial=0.0))
    tied_rows: list[NDArray[np.intp]] = []
    tied_codes: list[NDArray[np.intp]] = []
    block = max(1, _BLOCK_VALUES // n)
    offsets = np.arange(0, block * n, n)[:, None]
    divided = None if divisors is None else np.empty((min(block, m), n))
    for start in range(0, m, block):
        stop = min(start + block, m)
        block_rows = rows[start:stop]
        if divisors is not None and divided is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                block_rows = np.divide(block_rows, divisors[start:stop, None], out=divided[: stop - start])
        order, block_tied, codes, has_nan = _sorted_rank_codes(block_rows)
        if has_nan.any():
            return None
        values = powered[codes] if block_tied.size else None
        if gauss_out is not None:
            flat_index = order + offsets[: stop - start]
            flat = gauss_out[start:stop].reshape(-1)
            flat[flat_index] = table[0::2]
            if block_tied.size:
                flat[flat_index[block_tied]] = table[codes]
            if gauss_dots is not None and gauss_references is not None:
                np.matmul(gauss_out[start:stop], gauss_references, out=gauss_dots[start:stop])
        for reference, reference_dots in zip(centered, dots, strict=True):
            reference_dots[start:stop] = np.take(reference, order) @ untied_powered
            if values is not None:
                gathered = np.take(reference, order[block_tied])
                reference_dots[start + block_tied] = np.einsum("ij,ij->i", gathered, values)
        if values is not None:
            sums[start + block_tied] = values.sum(axis=1)
            squares[start + block_tied] = np.einsum("ij,ij->i", values, values)
            largest[start + block_tied] = np.abs(values).max(axis=1, initial=0.0)
            tied_rows.append(block_tied + start)
            tied_codes.append(codes)
    sum_squares = squares - n * (sums / n) ** 2
    constant = sum_squares <= 16 * np.finfo(np.float64).eps * largest**2 * n
    correlations = []
    for reference, reference_dots in zip(centered, dots, strict=True):
        with np.errstate(invalid="ignore", divide="ignore"):
            result = reference_dots / (np.sqrt(np.maximum(sum_squares, 0.0)) * np.sqrt(reference @ reference))
        result[constant] = np.nan
        correlations.append(np.clip(result, -1.0, 1.0))
    return SortedRows(
        n_rows=m,
        tied_rows=np.concatenate(tied_rows) if tied_rows else np.zeros(0, dtype=np.intp),
        tied_codes=np.concatenate(tied_codes) if tied_codes else np.zeros((0, n), dtype=np.intp),
        table=table,
        gauss=gauss_out,
        correlations=tuple(correlations),
        gauss_dots=gauss_dots,
    )


def gaussianize(values: ArrayLike) -> NDArray[np.float64]:
    """Gaussianize each column: ``Φ⁻¹(tie_kept_rank(x))`` with ``Φ⁻¹`` the normal quantile.

    Parameters
    ----------
    values
        ``(n_stocks,)`` or ``(n_stocks, n_models)`` numbers (float32 accepted); NaN stays NaN.

    Returns
    -------
    ndarray of float64, same shape; each NaN-free column has mean ~0 and std ~1.
    """
    gauss, _ = _gaussian_transforms(values, plain=True, powered=False)
    return cast(NDArray[np.float64], gauss)


def gaussianize_and_pow15(values: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(gaussianize(x), tie_kept_rank_gauss_pow15(x))`` from a single sort per column."""
    gauss, powered = _gaussian_transforms(values, plain=True, powered=True)
    return cast(NDArray[np.float64], gauss), cast(NDArray[np.float64], powered)


def pow15(values: ArrayLike) -> NDArray[np.float64]:
    """Signed power 1.5: ``sign(x)·|x|**1.5`` element-wise (NaN stays NaN).

    Parameters
    ----------
    values
        Any array of numbers.

    Returns
    -------
    ndarray of float64, same shape.
    """
    array = np.asarray(values, dtype=np.float64)
    return np.sign(array) * np.abs(array) ** 1.5


def tie_kept_rank_gauss_pow15(values: ArrayLike) -> NDArray[np.float64]:
    """``pow15(gaussianize(x))`` column-wise: the transform CORR applies to predictions.

    Parameters
    ----------
    values
        ``(n_stocks,)`` or ``(n_stocks, n_models)`` numbers; NaN stays NaN.

    Returns
    -------
    ndarray of float64, same shape.
    """
    _, powered = _gaussian_transforms(values, plain=False, powered=True)
    return cast(NDArray[np.float64], powered)
