"""Index alignment rules shared by every score (numerai-tools' conventions).

Numpy side: inputs that are already row-aligned (row ``i`` is the same stock in every
array) drop the rows holding a NaN in any input; losing more than
``max_filtered_ratio`` of the rows is an :class:`~kardashev.errors.AlignmentError`.

pandas side: inputs indexed by stock id are aligned on the sorted intersection of
their non-NaN ids; if more than ``max_filtered_ratio`` of any input's ids are lost
it is an :class:`~kardashev.errors.AlignmentError` naming the input.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from kardashev.errors import AlignmentError, DataFormatError, InvalidInputError

__all__ = [
    "DEFAULT_MAX_FILTERED_RATIO",
    "as_float_array",
    "as_matrix",
    "complete_rows",
    "covers_enough",
    "union_frame_index",
]

DEFAULT_MAX_FILTERED_RATIO = 0.2


def covers_enough(counts: ArrayLike, n_rows: int, max_filtered_ratio: float) -> NDArray[np.bool_]:
    """Whether predictions on ``counts`` of an era's ``n_rows`` usable rows get a score: at least 2
    rows and at most ``max_filtered_ratio`` of the rows left out (numerai-tools' rule)."""
    counts = np.asarray(counts)
    return (counts >= 2) & (counts / max(n_rows, 1) >= 1 - max_filtered_ratio)


def as_float_array(values: ArrayLike, *, name: str, ndim: tuple[int, ...] = (1, 2)) -> NDArray[np.float64]:
    """Convert to a float64 array (no copy when already float64), checking its dimension."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be numeric: {exc}") from exc
    if array.ndim not in ndim:
        raise InvalidInputError(f"{name} must be {' or '.join(f'{d}-D' for d in ndim)}, got {array.ndim}-D")
    return array


def as_matrix(values: ArrayLike, *, name: str) -> tuple[NDArray[np.float64], bool]:
    """Return a 2-D ``(n_stocks, n_models)`` float view of ``values`` and whether it was 1-D."""
    array = as_float_array(values, name=name)
    if array.ndim == 1:
        return array[:, None], True
    return array, False


def complete_rows(
    named_arrays: Sequence[tuple[str, NDArray[np.float64] | None]],
    *,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> NDArray[np.bool_]:
    """Rows without a NaN in any of the row-aligned arrays.

    Parameters
    ----------
    named_arrays
        ``(name, array)`` pairs; arrays are 1-D ``(n,)`` or 2-D ``(n, k)``; ``None`` entries are skipped.
    max_filtered_ratio
        Largest fraction of rows that may be dropped.

    Returns
    -------
    ``(n,)`` boolean mask of the kept rows.

    Raises
    ------
    InvalidInputError
        When the arrays do not have the same number of rows.
    AlignmentError
        When more than ``max_filtered_ratio`` of the rows would be dropped.
    """
    present = [(name, array) for name, array in named_arrays if array is not None]
    n_rows = {array.shape[0] for _, array in present}
    if len(n_rows) > 1:
        sizes = ", ".join(f"{name}: {array.shape[0]}" for name, array in present)
        raise InvalidInputError(f"inputs must have the same number of rows (stocks); got {sizes}")
    n = n_rows.pop() if n_rows else 0
    keep = np.ones(n, dtype=bool)
    for _, array in present:
        nan = np.isnan(array)
        keep &= ~(nan.any(axis=1) if nan.ndim == 2 else nan)
    kept = int(keep.sum())
    if n == 0 or kept / n < 1 - max_filtered_ratio:
        names = ", ".join(name for name, _ in present)
        raise AlignmentError(
            f"only {kept} of {n} rows of ({names}) have no NaN in any input; at least "
            f"{(1 - max_filtered_ratio) * 100:.0f}% must remain"
        )
    return keep


def union_frame_index(
    named_inputs: Sequence[tuple[str, pd.Series | pd.DataFrame | None]],
    *,
    max_filtered_ratio: float = DEFAULT_MAX_FILTERED_RATIO,
) -> pd.Index:
    """Sorted ids kept by numerai-tools' alignment, after checking how many each input loses.

    Parameters
    ----------
    named_inputs
        ``(name, series or frame)`` pairs indexed by id; ``None`` entries are skipped. A frame's row
        counts as missing if any of its columns is NaN.
    max_filtered_ratio
        Largest fraction of any input's ids that may be lost.

    Returns
    -------
    The sorted intersection of the non-NaN ids of every input.

    Raises
    ------
    DataFormatError
        When an input has duplicated ids.
    AlignmentError
        When more than ``max_filtered_ratio`` of some input's ids are lost.
    """
    present = [(name, data) for name, data in named_inputs if data is not None]
    ids: pd.Index | None = None
    for name, data in present:
        if not isinstance(data, pd.Series | pd.DataFrame):
            raise InvalidInputError(f"{name} must be a pandas Series or DataFrame, got {type(data).__name__}")
        if data.index.has_duplicates:
            duplicated = data.index[data.index.duplicated()].unique()[:5].tolist()
            raise DataFormatError(f"{name} has duplicated ids, e.g. {duplicated}", code="duplicate_ids")
        valid = data.dropna().index
        ids = valid if ids is None else ids.intersection(valid)
    if ids is None:
        return pd.Index([])
    ids = ids.sort_values()
    for name, data in present:
        if len(data) == 0 or len(ids) / len(data) < (1 - max_filtered_ratio):
            raise AlignmentError(
                f"{name} does not have enough overlapping ids with the other inputs: {len(ids)} of "
                f"{len(data)} kept, at least {(1 - max_filtered_ratio) * 100:.0f}% required"
            )
    return ids
