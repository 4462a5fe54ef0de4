"""Reading an uploaded submission file into a table, and its cells into ids and numbers.

Parquet is recognised by its ``PAR1`` magic bytes; a file named ``.parquet`` / ``.pq`` that is
not parquet is refused; anything else is read as UTF-8 CSV with a header line (cells kept as
strings, so ids such as ``007`` or ``NA`` survive). No tournament rule is checked here (see
:mod:`kardashev.tournament.validation`), but every failure is already a
:class:`~kardashev.errors.SubmissionError` with a ``code``: arbitrary bytes raise nothing else.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Union

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from kardashev.errors import SubmissionError
from kardashev.tournament.bounded_table import HeaderCheck, ReadLimits, read_csv_table, read_parquet_table

__all__ = [
    "ReadLimits",
    "SubmissionSource",
    "column_names",
    "examples",
    "normalized_names",
    "parse_ids",
    "parse_numbers",
    "pick_column",
    "read_submission_table",
    "submission_error",
]

SubmissionSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", IO[bytes], pd.DataFrame]
"""What can be validated: raw bytes, a path, a binary file object or a DataFrame."""

_PARQUET_MAGIC = b"PAR1"
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_EXAMPLE_CHARS = 40  # an error message quotes at most this much of one offending value
_MISSING_TOKENS = ["", "nan", "na", "n/a", "null", "none", "<na>"]


def submission_error(code: str, message: str) -> SubmissionError:
    """A :class:`SubmissionError` with ``code``."""
    return SubmissionError(message, code=code)


def examples(items: Iterable[object], count: int, n_examples: int) -> str:
    """``'a', 'b', …`` — the first ``n_examples`` items quoted, an ellipsis when there are more."""
    shown: list[str] = []
    for item in items:
        if len(shown) == n_examples:
            break
        text = repr(item)
        shown.append(text if len(text) <= _EXAMPLE_CHARS else text[: _EXAMPLE_CHARS - 1] + "…")
    return ", ".join(shown) + (", …" if count > len(shown) else "")


def _source_bytes(source: SubmissionSource, filename: str | None) -> tuple[bytes, str | None]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), filename
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            return path.read_bytes(), filename or path.name
        except OSError as exc:
            raise submission_error(
                "unreadable_file", f"cannot read submission file {str(path)!r}: {exc}"
            ) from exc
    read = getattr(source, "read", None)
    if callable(read):
        try:
            data = read()
        except Exception as exc:
            raise submission_error("unreadable_file", f"cannot read the uploaded file: {exc}") from exc
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, (bytes, bytearray)):
            raise submission_error("unreadable_file", "the uploaded file did not yield bytes")
        name = filename or getattr(source, "name", None)
        return bytes(data), name if isinstance(name, str) else None
    raise submission_error("unreadable_file", f"cannot read a submission from a {type(source).__name__}")


def _index_to_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn a named index (``predictions.to_parquet()`` keeps ``id`` there) into columns."""
    if any(name is not None for name in frame.index.names):
        frame = frame.reset_index()
    return frame


def read_submission_table(
    source: SubmissionSource,
    *,
    filename: str | None = None,
    max_rows: int | None = None,
    limits: ReadLimits | None = None,
    check_header: HeaderCheck | None = None,
) -> pd.DataFrame:
    """Read a submission file into a DataFrame without checking any tournament rule.

    Reading is bounded (see :mod:`kardashev.tournament.bounded_table`): the header, the column
    count, the row count and, for parquet, the footer's declared sizes are checked before the
    expensive step they would drive, and decoding has a memory budget.

    Parameters
    ----------
    source
        Bytes, a path, a binary file object, or a DataFrame (copied; a named index becomes a column).
    filename
        Original file name, if known (a ``.parquet`` name must hold parquet).
    max_rows
        Largest number of data rows accepted (overrides ``limits.max_rows`` when given).
    limits
        Bounds on columns, header, footer and decoded size (default :class:`ReadLimits`).
    check_header
        Called with the column names before any row is parsed (e.g. :func:`normalized_names` and
        the tournament's column rules), so a file with wrong columns costs nothing to refuse.

    Raises
    ------
    SubmissionError
        ``empty_file``, ``unreadable_file``, ``invalid_text``, ``header_too_large``,
        ``too_many_columns``, ``too_many_rows`` or ``too_much_data``.
    """
    limits = limits or ReadLimits()
    if max_rows is not None:
        limits = replace(limits, max_rows=max_rows)
    if isinstance(source, pd.DataFrame):
        limits.check_columns(source.shape[1])
        frame = _index_to_columns(source.copy())
        if check_header is not None:
            check_header([str(name) for name in frame.columns])
    else:
        data, filename = _source_bytes(source, filename)
        if not data.strip():
            raise submission_error("empty_file", "the file is empty")
        if data[:4] == _PARQUET_MAGIC:
            frame = _index_to_columns(read_parquet_table(data, limits, check_header=check_header))
        elif filename is not None and filename.lower().endswith(_PARQUET_SUFFIXES):
            raise submission_error(
                "unreadable_file", f"{filename!r} is named like parquet but is not parquet"
            )
        else:
            frame = read_csv_table(data, limits, check_header=check_header)
    if len(frame) == 0:
        raise submission_error("empty_file", "the file has a header but no rows")
    limits.check_rows(len(frame))
    return frame


def column_names(frame: pd.DataFrame) -> list[str]:
    """Column names stripped and lower-cased; a name appearing twice is ``wrong_headers`` (linear)."""
    return normalized_names(frame.columns)


def normalized_names(names: Iterable[object]) -> list[str]:
    """Names stripped and lower-cased; a name appearing twice is ``wrong_headers`` (linear)."""
    columns = [str(name).strip().lower() for name in names]
    duplicated = sorted(name for name, count in Counter(columns).items() if count > 1)
    if duplicated:
        raise submission_error(
            "wrong_headers",
            f"columns appear more than once: {examples(duplicated, len(duplicated), 5)}",
        )
    return columns


def pick_column(columns: list[str], allowed: Sequence[str], what: str) -> str:
    """The one column of ``allowed`` present in ``columns`` (none or several: ``wrong_headers``)."""
    present = [name for name in allowed if name in columns]
    if not present:
        raise submission_error(
            "wrong_headers",
            f"no {what} column: expected one of {', '.join(map(repr, allowed))}; "
            f"the file has {', '.join(map(repr, columns)) or 'no columns'}",
        )
    if len(present) > 1:
        raise submission_error(
            "wrong_headers", f"several {what} columns: {', '.join(map(repr, present))}; keep one"
        )
    return present[0]


def _as_text(series: pd.Series) -> pd.Series:
    """Cells as stripped strings, missing cells as ``""`` (odd objects such as bytes via ``str``)."""
    try:
        present = series.notna().to_numpy(dtype=bool)
        cells = series.astype(object).where(present, "")
    except Exception as exc:  # e.g. a column pandas cannot turn into Python objects
        raise submission_error(
            "invalid_text", f"column {series.name!r} cannot be read as text: {exc}"
        ) from None
    try:
        return cells.astype(str).str.strip()
    except Exception:  # e.g. undecodable bytes in a DataFrame cell: fall back to Python's str()
        return pd.Series([str(cell).strip() for cell in cells.tolist()], index=series.index, dtype=object)


def parse_ids(series: pd.Series, *, column: str, n_examples: int) -> NDArray[np.object_]:
    """Ids as stripped strings (object array); an empty cell is ``empty_ids``."""
    ids = _as_text(series).to_numpy(dtype=object)
    missing = ids == ""
    if missing.any():
        rows = np.flatnonzero(missing)
        raise submission_error(
            "empty_ids",
            f"{rows.size} rows have an empty {column!r}, e.g. data rows "
            f"{examples((int(r) + 1 for r in rows), rows.size, n_examples)}",
        )
    return ids


def _numbers_from_text(series: pd.Series) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    text = _as_text(series)
    missing = text.str.lower().isin(_MISSING_TOKENS).to_numpy(dtype=bool)
    numeric = pd.to_numeric(text.where(~missing, "nan"), errors="coerce")
    return np.asarray(numeric, dtype=np.float64), missing


def parse_numbers(
    series: pd.Series, *, ids: NDArray[np.object_], column: str, n_examples: int
) -> NDArray[np.float64]:
    """Finite float64 values of a prediction column.

    Raises ``non_numeric_values`` (text, booleans), ``nan_values`` (empty / NaN cells) or
    ``out_of_range`` (±inf), naming the ids of the offending rows.
    """
    if pd.api.types.is_bool_dtype(series.dtype):
        raise submission_error("non_numeric_values", f"column {column!r} holds booleans, not numbers")
    try:
        if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_complex_dtype(series.dtype):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            missing = np.isnan(values)
        else:
            values, missing = _numbers_from_text(series)
    except Exception as exc:
        raise submission_error(
            "non_numeric_values", f"column {column!r} does not hold numbers: {exc}"
        ) from exc
    values = np.array(values, dtype=np.float64)
    checks = (
        ("non_numeric_values", np.isnan(values) & ~missing, "are not numbers"),
        ("nan_values", np.isnan(values), "are missing (NaN)"),
        ("out_of_range", ~np.isfinite(values), "are infinite"),
    )
    for code, bad, what in checks:
        if bad.any():
            count = int(bad.sum())
            raise submission_error(
                code,
                f"{count} {column!r} values {what}, for {examples(ids[bad].tolist(), count, n_examples)}",
            )
    return values
