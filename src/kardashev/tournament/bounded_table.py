"""Reading an untrusted CSV or parquet file into a table with bounded CPU and memory.

Everything a hostile file could declare is checked before the expensive step it would drive:

CSV
    The header line must end within ``max_header_bytes`` and hold at most ``max_columns`` cells
    (counted by :mod:`csv` on that one line, before pandas sees the file). Without quoted cells the
    data lines are counted with a chunked vectorized scan before parsing; with quoted cells pandas
    stops after ``max_rows + 1`` rows. Text must be UTF-8 (``invalid_text`` otherwise).
parquet
    The footer length is read from the file's last eight bytes and capped before the footer is parsed;
    then the footer's column count, row count (file and per row group), value counts and declared
    uncompressed size are checked, and nested types are refused, before any page is decoded. Decoding
    then runs one batch at a time, each batch validated (UTF-8 of string columns included) and added to
    a running estimate of the memory the final table will take (Arrow buffers plus one Python object per
    text cell), which must stay within ``max_decoded_bytes``.

Every failure is a :class:`~kardashev.errors.SubmissionError` with a ``code``: ``header_too_large``,
``too_many_columns``, ``too_many_rows``, ``too_much_data``, ``invalid_text``, ``unreadable_file`` or
``empty_file``.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kardashev.errors import ConfigError, SubmissionError

__all__ = ["HeaderCheck", "ReadLimits", "read_csv_table", "read_parquet_table", "scan_lines"]

_PARQUET_MAGIC = b"PAR1"
_OBJECT_CELL_BYTES = 64  # a Python str per text cell once pandas holds it (object + pointer), roughly
_BATCH_ROWS = 65_536
_SCAN_CHUNK = 1 << 18
_CHUNK_SLACK = 64 * 1024  # page headers, dictionary and statistics of one column chunk

HeaderCheck = Callable[[Sequence[str]], object]  # raises on a bad header; its value is ignored
"""Called with a file's column names before any row is decoded; raises to refuse the file."""


def _error(code: str, message: str) -> SubmissionError:
    return SubmissionError(message, code=code)


@dataclass(frozen=True, kw_only=True)
class ReadLimits:
    """Bounds on what reading one untrusted file may cost (keyword-only).

    Parameters
    ----------
    max_rows
        Most data rows (``None``: no row limit; the other limits still bound memory).
    max_columns
        Most columns.
    max_header_bytes
        Longest CSV header line, in bytes.
    max_footer_bytes
        Largest parquet footer (its metadata), in bytes.
    max_decoded_bytes
        Memory budget of the decoded table: a parquet file's declared uncompressed size and the
        running estimate of the decoded table must stay within it.
    max_cell_bytes
        Largest average size of one cell: of a CSV line (``max_cell_bytes`` times the header's
        column count) and of a parquet column chunk's declared size (a few huge compressed
        strings are refused before they are inflated).
    """

    max_rows: int | None = 1_000_000
    max_columns: int = 64
    max_header_bytes: int = 64 * 1024
    max_footer_bytes: int = 1024 * 1024
    max_decoded_bytes: int = 512 * 1024 * 1024
    max_cell_bytes: int = 1024

    def __post_init__(self) -> None:
        if self.max_rows is not None and self.max_rows < 1:
            raise ConfigError(f"max_rows must be at least 1 or None, got {self.max_rows}")
        for name in (
            "max_columns",
            "max_header_bytes",
            "max_footer_bytes",
            "max_decoded_bytes",
            "max_cell_bytes",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")

    def check_rows(self, n_rows: int) -> None:
        """``too_many_rows`` when ``n_rows`` passes :attr:`max_rows`."""
        if self.max_rows is not None and n_rows > self.max_rows:
            raise _error(
                "too_many_rows", f"the file has {n_rows} rows, more than the limit of {self.max_rows}"
            )

    def check_columns(self, n_columns: int) -> None:
        """``too_many_columns`` when ``n_columns`` passes :attr:`max_columns`."""
        if n_columns > self.max_columns:
            raise _error(
                "too_many_columns",
                f"the file has {n_columns} columns, more than the limit of {self.max_columns}",
            )

    def check_bytes(self, n_bytes: int, what: str) -> None:
        """``too_much_data`` when ``n_bytes`` passes :attr:`max_decoded_bytes`."""
        if n_bytes > self.max_decoded_bytes:
            raise _error(
                "too_much_data",
                f"the file's {what} is {n_bytes} bytes, more than the limit of {self.max_decoded_bytes}",
            )


# --------------------------------------------------------------------------- CSV


def scan_lines(data: bytes, start: int = 0) -> tuple[int, int]:
    """Non-blank lines of ``data[start:]`` (ended by ``\\n``, ``\\r\\n`` or ``\\r``) and the longest
    line's length in bytes, scanned in 256 KiB chunks.

    The count is exact for a file without quoted cells (a quoted cell may hold a line break);
    memory stays at a few chunk-sized temporaries whatever the file holds.
    """
    view = np.frombuffer(data, dtype=np.uint8)[start:]
    lines = 0
    longest = 0
    separators_before = 0
    last_line = -1
    line_start = 0  # offset in ``view`` of the current line's first byte
    for offset in range(0, view.size, _SCAN_CHUNK):
        chunk = view[offset : offset + _SCAN_CHUNK]
        separator = (chunk == 0x0A) | (chunk == 0x0D)
        line = np.cumsum(separator, dtype=np.int64) + separators_before
        content_lines = line[~separator]
        if content_lines.size:
            lines += int(np.count_nonzero(np.diff(content_lines))) + int(content_lines[0] != last_line)
            last_line = int(content_lines[-1])
        separators_before = int(line[-1])
        ends = np.flatnonzero(separator) + offset
        if ends.size:
            starts = np.concatenate(([line_start], ends[:-1] + 1))
            longest = max(longest, int(np.max(ends - starts)))
            line_start = int(ends[-1]) + 1
    return lines, max(longest, view.size - line_start)


def _count_records(data: bytes, start: int, limits: ReadLimits) -> int:
    """CSV records (header included) of a file with quoted cells, streamed by the csv module and
    stopped as soon as there are too many (``too_many_rows``); no record is kept."""
    stop = None if limits.max_rows is None else limits.max_rows + 2
    text = io.TextIOWrapper(io.BytesIO(data[start:]), encoding="utf-8", newline="")
    try:
        records = sum(1 for record in itertools.islice(csv.reader(text), stop) if record)
    except csv.Error as exc:
        raise _error("unreadable_file", f"the file is not readable CSV: {exc}") from None
    finally:
        text.detach()
    limits.check_rows(max(records - 1, 0))
    return records


def _decode_check(data: bytes, where: str) -> None:
    if data.isascii():
        return
    try:
        codecs.decode(data, "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _error(
            "invalid_text", f"{where} is not valid UTF-8 text: bad byte at offset {exc.start}"
        ) from None


def read_csv_table(
    data: bytes, limits: ReadLimits, *, check_header: HeaderCheck | None = None
) -> pd.DataFrame:
    """A CSV file with a header line as a table of string cells (no NA conversion).

    ``check_header`` sees the header's cells before the body is parsed.
    """
    if b"\x00" in data:
        raise _error("unreadable_file", "the file is binary (contains NUL bytes) and not parquet")
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    end = data.find(b"\n", start, start + limits.max_header_bytes + 1)
    if end < 0:
        if len(data) - start > limits.max_header_bytes:
            raise _error(
                "header_too_large",
                f"the header line is longer than the limit of {limits.max_header_bytes} bytes",
            )
        end = len(data)
    header = data[start:end]
    _decode_check(header, "the header line")
    if header.count(b'"') % 2:
        raise _error("wrong_headers", "a header cell holds a line break or an unclosed quote")
    try:
        cells = next(csv.reader([header.decode("utf-8").rstrip("\r")]), [])
    except csv.Error as exc:  # e.g. a header cell over the csv module's field limit
        raise _error("wrong_headers", f"the header line is not readable CSV: {exc}") from None
    limits.check_columns(len(cells))
    if check_header is not None:
        check_header(cells)
    _decode_check(data, "the file")
    if not data[start:].strip():
        raise _error("empty_file", "the file is empty")
    if b'"' in data:  # a quoted cell may hold a line break: count records with the csv module
        lines = _count_records(data, start, limits)
        _, longest = scan_lines(data, start)
    else:
        lines, longest = scan_lines(data, start)
        limits.check_rows(max(lines - 1, 0))
    if longest > limits.max_cell_bytes * max(len(cells), 1):
        raise _error(
            "too_much_data",
            f"a line is {longest} bytes long, more than {limits.max_cell_bytes} bytes a cell",
        )
    # every cell becomes a Python string: the raw text plus an object per cell
    limits.check_bytes(len(data) + _OBJECT_CELL_BYTES * lines * max(len(cells), 1), "parsed table")
    nrows = None if limits.max_rows is None else limits.max_rows + 2  # header + one row too many
    try:
        raw = pd.read_csv(
            io.BytesIO(data),
            header=None,
            dtype=str,
            na_filter=False,
            engine="c",
            encoding="utf-8-sig",
            nrows=nrows,
        )
    except pd.errors.EmptyDataError:
        raise _error("empty_file", "the file is empty") from None
    except UnicodeDecodeError as exc:
        raise _error("invalid_text", f"the file is not valid UTF-8 text: {exc.reason}") from None
    except Exception as exc:
        raise _error("unreadable_file", f"the file is not readable CSV: {exc}") from None
    limits.check_columns(raw.shape[1])
    columns = [str(name) for name in raw.iloc[0].tolist()]
    body = raw.iloc[1:].reset_index(drop=True)
    body.columns = columns
    limits.check_rows(len(body))
    return body


# --------------------------------------------------------------------------- parquet


def _footer_length(data: bytes, limits: ReadLimits) -> int:
    if len(data) < 12 or data[-4:] != _PARQUET_MAGIC:
        raise _error("unreadable_file", "the file starts like parquet but has no parquet footer")
    (length,) = struct.unpack("<I", data[-8:-4])
    if length > len(data) - 12:
        raise _error("unreadable_file", "the parquet footer is longer than the file")
    if length > limits.max_footer_bytes:
        raise _error(
            "too_many_columns",
            f"the parquet footer is {length} bytes, more than the limit of {limits.max_footer_bytes} "
            "(too many columns or row groups)",
        )
    return length


def _flat(field_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(field_type):
        return _flat(field_type.value_type)
    return not (pa.types.is_nested(field_type) or isinstance(field_type, pa.ExtensionType))


def _check_metadata(parquet: pq.ParquetFile, limits: ReadLimits) -> None:
    metadata = parquet.metadata
    limits.check_columns(metadata.num_columns)
    schema = parquet.schema_arrow
    limits.check_columns(len(schema))
    nested = [field.name for field in schema if not _flat(field.type)]
    if nested:
        raise _error(
            "unreadable_file",
            f"nested columns are not accepted: {', '.join(map(repr, nested[:5]))}",
        )
    limits.check_rows(metadata.num_rows)
    # Row-group totals only: pyarrow's per-column-chunk accessor (RowGroupMetaData.column) aborts the
    # whole process on some malformed chunk metadata (a C++ exception it does not translate), whereas
    # reading raises a clean error. The row group's total_byte_size is its uncompressed column data.
    declared = 0
    rows = 0
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        rows += group.num_rows
        limits.check_rows(rows)
        size = max(group.total_byte_size, 0)
        cap = group.num_columns * (max(group.num_rows, 0) * limits.max_cell_bytes + _CHUNK_SLACK)
        if size > cap:
            raise _error(
                "too_much_data",
                f"row group {g} declares {size} bytes for {group.num_rows} rows of {group.num_columns} "
                f"columns, more than {limits.max_cell_bytes} bytes a cell",
            )
        declared += size
        limits.check_bytes(declared, "declared uncompressed size")
    if rows != metadata.num_rows:
        raise _error("unreadable_file", "the parquet footer's row count disagrees with its row groups")


def _batch_cost(batch: pa.RecordBatch) -> int:
    cost = batch.nbytes
    for column in batch.columns:
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not (pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_boolean(kind)):
            cost += _OBJECT_CELL_BYTES * len(column)
    return cost


def _hidden_index(name: str) -> bool:
    return name.startswith("__index_level_") and name.endswith("__")


def read_parquet_table(
    data: bytes, limits: ReadLimits, *, check_header: HeaderCheck | None = None
) -> pd.DataFrame:
    """A parquet file as a table, its footer checked against ``limits`` before any page is decoded.

    ``check_header`` sees the column names (a named pandas index included, an unnamed one left
    out) before any row is decoded.
    """
    _footer_length(data, limits)
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
    except Exception as exc:
        raise _error("unreadable_file", f"the file is not a readable parquet file: {exc}") from None
    names = [str(name) for name in parquet.schema_arrow.names]
    limits.check_columns(len(names))
    if check_header is not None:
        check_header([name for name in names if not _hidden_index(name)])
    _check_metadata(parquet, limits)
    batches: list[pa.RecordBatch] = []
    spent = 0
    try:
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, use_pandas_metadata=True):
            batch.validate(full=True)
            spent += _batch_cost(batch)
            limits.check_bytes(spent, "decoded table")
            batches.append(batch)
        table = pa.Table.from_batches(batches, schema=parquet.schema_arrow)
    except SubmissionError:
        raise
    except pa.ArrowInvalid as exc:
        text = str(exc)
        if "UTF8" in text.upper() or "UTF-8" in text.upper():
            raise _error("invalid_text", f"a text column is not valid UTF-8: {text}") from None
        raise _error("unreadable_file", f"the file is not a readable parquet file: {text}") from None
    except Exception as exc:
        raise _error("unreadable_file", f"the file is not a readable parquet file: {exc}") from None
    limits.check_rows(table.num_rows)
    try:
        return table.to_pandas()
    except Exception as exc:
        raise _error("unreadable_file", f"the parquet table cannot be converted: {exc}") from None
