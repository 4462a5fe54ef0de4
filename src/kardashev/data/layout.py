"""Numerai's file layouts, told apart by their columns, and read with column selection era by era.

Classic v5 (``train`` / ``validation`` / ``live.parquet``, ``validation_example_preds``,
``validation_benchmark_models``, ``meta_model.parquet``): key ``id`` (pandas index or column),
``era`` (zero-padded string), optional ``data_type``; ``feature_*`` (int8), ``target*`` (float, NaN
in eras not yet resolved) or value columns (``prediction``, ``numerai_meta_model``, one column per
benchmark model). Signals v2.1: key ``numerai_ticker`` and/or ``composite_figi`` (or
``bloomberg_ticker``), ``date`` (the legacy ``friday_date`` is read as ``date``; an ``era`` column
is kept as a plain column), optional ``data_type``, features, targets or ``signal``; side files
``validation_neutralizer.parquet`` (keys and one column per neutralizer) and
``validation_sample_weights.parquet`` (keys and one weight column).

Only the columns asked for are read, and :func:`iter_key_eras` streams one era at a time: a file
written era by era (one row group per era, as ``kardashev data synth`` writes) holds one era in
memory; a file whose row groups hold many eras (pandas' default: up to 1 Mi rows) is read once in
batches, and then holds one row group's pages of the selected columns (a column's pages span its
row group when the column is small, as int8 features are). Errors are
:class:`~kardashev.errors.DataFormatError` with one short line naming the file and the problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kardashev.data.csv_format import csv_format
from kardashev.errors import DataFormatError, NotFoundError, examples

__all__ = [
    "DATE_COLUMNS",
    "ID_COLUMNS",
    "KEY_COLUMNS",
    "FileLayout",
    "era_labels",
    "file_layout",
    "index_columns",
    "iter_key_eras",
    "match_target_column",
    "numeric_columns",
    "read_table",
    "select_validation_rows",
]

ID_COLUMNS = ("id", "numerai_ticker", "composite_figi", "bloomberg_ticker")
DATE_COLUMNS = ("date", "friday_date")
KEY_COLUMNS = (*ID_COLUMNS, "era", *DATE_COLUMNS, "data_type")
_SUFFIXES = (".parquet", ".pq", ".csv")
_INDEX_NAME = re.compile(r"__index_level_\d+__|Unnamed: \d+|index|level_0|")


def index_columns(columns: Sequence[str]) -> list[str]:
    """Columns that hold a saved pandas index, not values: ``Unnamed: 0`` (``to_csv`` with the
    default ``index=True``), ``index`` / ``level_0`` (``reset_index()``), ``__index_level_0__``
    (parquet), an empty name."""
    return [c for c in columns if _INDEX_NAME.fullmatch(str(c))]


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise NotFoundError(f"no such file: {path}", code="file_not_found")
    if path.suffix.lower() not in _SUFFIXES:
        raise DataFormatError(f"{path.name}: expected a .parquet or .csv file", code="bad_file")


def _is_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv"


def _unreadable(path: Path, exc: Exception) -> DataFormatError:
    """One short line: the reader's message without its line breaks, cut at 160 characters."""
    text = " ".join(str(exc).split())
    text = text if len(text) <= 160 else text[:157] + "..."
    return DataFormatError(f"{path.name}: cannot be read ({text})", code="bad_file")


def _columns_of(path: Path) -> list[str]:
    _check_exists(path)
    options = csv_format(path).read_options() if _is_csv(path) else {}
    try:
        if _is_csv(path):
            return [str(c) for c in pd.read_csv(path, nrows=0, **options).columns]
        return [str(name) for name in pq.read_schema(path).names]
    except (OSError, ValueError, pd.errors.ParserError, pa.ArrowException) as exc:
        raise _unreadable(path, exc) from None


def numeric_columns(path: str | Path, columns: Sequence[str]) -> list[str]:
    """The ``columns`` of a file that hold numbers (Signals' ``feature_country`` does not)."""
    path = Path(path)
    _check_exists(path)
    if _is_csv(path):
        sample = pd.read_csv(path, usecols=list(columns), nrows=1000, **csv_format(path).read_options())
        return [c for c in columns if pd.api.types.is_numeric_dtype(sample[c].dtype)]
    schema = pq.read_schema(path)
    kinds = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
    return [c for c in columns if any(kind(schema.field(c).type) for kind in kinds)]


def read_table(path: str | Path, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a parquet or CSV file (only ``columns`` if given); a pandas index becomes a column.

    Raises :class:`NotFoundError` for a missing file, :class:`DataFormatError` for an unreadable
    one or a missing column.
    """
    path = Path(path)
    available = _columns_of(path)
    if columns is not None:
        missing = [c for c in columns if c not in available]
        if missing:
            raise DataFormatError(
                f"{path.name}: missing column(s) {missing[:5]}"
                + (f" (+{len(missing) - 5} more)" if len(missing) > 5 else ""),
                code="missing_column",
            )
    options = csv_format(path).read_options() if _is_csv(path) else {}
    try:
        if _is_csv(path):
            keys = {c: str for c in KEY_COLUMNS if c != "date"}  # keep "0001"-style labels
            frame = pd.read_csv(
                path, usecols=None if columns is None else list(columns), dtype=keys, **options
            )
        else:
            table = pq.read_table(path, columns=None if columns is None else list(columns))
            frame = table.to_pandas(ignore_metadata=True)
    except (OSError, ValueError, pd.errors.ParserError, pa.ArrowException) as exc:
        raise _unreadable(path, exc) from None
    return frame if columns is None else frame[list(columns)]


def era_labels(values: pd.Series | pd.Index, *, dates: bool = False) -> np.ndarray:
    """Era / date labels as strings: ``"0001"`` stays, dates become ``"2024-01-05"``; NaN stays NaN.

    ``dates`` (a ``date`` / ``friday_date`` column) also reads the legacy ``friday_date`` form,
    an integer or string ``20240105``.
    """
    series = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    if dates and (
        pd.api.types.is_integer_dtype(series.dtype) or series.astype(str).str.fullmatch(r"\d{8}").all()
    ):
        parsed = pd.to_datetime(series.astype("Int64").astype(str), format="%Y%m%d", errors="coerce")
        if parsed.notna().all():
            return parsed.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    text = series.map(lambda v: v if v is None or v is pd.NaT or v != v else _label(v))
    return text.to_numpy(dtype=object)


def _label(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    text = str(value)
    return text[:10] if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]00:00:00", text) else text


@dataclass(frozen=True)
class FileLayout:
    """The roles of a file's columns.

    Attributes
    ----------
    id_column
        ``id`` (Classic) or the ticker column (Signals).
    era_column
        ``era`` (Classic), ``date`` or ``friday_date`` (Signals).
    columns
        Every column of the file (a stored pandas index included).
    """

    path: Path
    columns: tuple[str, ...]
    id_column: str
    era_column: str | None

    @property
    def kind(self) -> str:
        """``"classic"`` or ``"signals"``."""
        return "classic" if self.id_column == "id" else "signals"

    @property
    def has_data_type(self) -> bool:
        return "data_type" in self.columns

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c.startswith("target"))

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c.startswith("feature_"))

    @property
    def values(self) -> tuple[str, ...]:
        """Columns that are neither keys nor ``era`` (prediction, model, weight columns, …)."""
        ignored = set(index_columns(self.columns))
        return tuple(c for c in self.columns if c not in KEY_COLUMNS and c not in ignored)


def file_layout(
    path: str | Path, *, id_column: str | None = None, era_column: str | None = None
) -> FileLayout:
    """Detect a file's layout; ``id_column`` / ``era_column`` pick among several candidates.

    The id is ``id`` if present, else the first of ``numerai_ticker``, ``composite_figi``,
    ``bloomberg_ticker``; the era is ``era`` for Classic, ``date`` / ``friday_date`` / ``era``
    for Signals. ``era_column`` is ``None`` when the file has none (a live submission).
    """
    path = Path(path)
    columns = tuple(_columns_of(path))
    if id_column is None:
        id_column = next((c for c in ID_COLUMNS if c in columns), None)
        if id_column is None:
            unnamed = [repr(c) for c in index_columns(columns)]
            if _is_csv(path) and csv_format(path).unnamed_first_column:
                unnamed = ["the unnamed first column"]
            listed = f"{len(columns)} column(s): {examples(columns)}"
            hint = f"is {unnamed[0]} the ids? name it 'id'" if unnamed else listed
            raise DataFormatError(
                f"{path.name}: missing column(s) ['id'] (or a ticker column); {hint}", code="missing_column"
            )
    elif id_column not in columns:
        raise DataFormatError(f"{path.name}: missing column(s) [{id_column!r}]", code="missing_column")
    if era_column is None:
        order = ("era",) if id_column == "id" else (*DATE_COLUMNS, "era")
        era_column = next((c for c in order if c in columns), None)
    elif era_column not in columns:
        raise DataFormatError(f"{path.name}: missing column(s) [{era_column!r}]", code="missing_column")
    return FileLayout(path=path, columns=columns, id_column=id_column, era_column=era_column)


_BATCH_ROWS = 65_536  # rows decoded at a time (at most)
_BATCH_CELLS = 1 << 22  # … and about this many values (2376 int8 features: 1765 rows)
_NO_ERA = "\x00"  # run label of rows without an era


@dataclass(frozen=True)
class _Run:
    """Rows ``start:stop`` of a file hold era ``label``."""

    label: str
    start: int
    stop: int


def _era_runs(parquet: pq.ParquetFile, column: str, *, dates: bool) -> list[_Run]:
    """The file's eras as runs of consecutive rows, in file order.

    A row group whose statistics say it holds one era is one run (nothing is read); otherwise the
    era column alone of that row group is read.
    """
    leaf = parquet.schema.names.index(column) if column in parquet.schema.names else None
    runs: list[_Run] = []
    offset = 0
    metadata = parquet.metadata
    for g in range(metadata.num_row_groups):
        n_rows = metadata.row_group(g).num_rows
        stats = None if leaf is None else metadata.row_group(g).column(leaf).statistics
        if stats is not None and stats.has_min_max and stats.min == stats.max and stats.null_count == 0:
            pieces = [(str(era_labels(pd.Series([stats.min]), dates=dates)[0]), n_rows)]
        else:
            values = parquet.read_row_group(g, columns=[column]).column(0).to_pandas()
            labels = pd.Series(era_labels(values, dates=dates)).fillna(_NO_ERA).to_numpy(dtype=object)
            change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
            starts, stops = np.r_[0, change], np.r_[change, n_rows]
            pieces = [(str(labels[a]), int(b - a)) for a, b in zip(starts, stops, strict=True) if b > a]
        for label, count in pieces:
            if runs and runs[-1].label == label and runs[-1].stop == offset:
                runs[-1] = _Run(label, runs[-1].start, offset + count)
            else:
                runs.append(_Run(label, offset, offset + count))
            offset += count
    return runs


def _row_group_starts(parquet: pq.ParquetFile) -> np.ndarray:
    sizes = [parquet.metadata.row_group(g).num_rows for g in range(parquet.metadata.num_row_groups)]
    return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])


def _stream_runs(
    parquet: pq.ParquetFile, columns: list[str], ranges: list[tuple[str, int, int]]
) -> Iterator[tuple[str, pa.Table]]:
    """One pass over the file in batches, yielding each ``(era, start, stop)`` range's rows in order.

    Memory holds one era, one batch and the pages being decoded, whatever the file's row groups.
    """
    bounds = _row_group_starts(parquet)
    # the reader reserves a batch's rows for every column: few rows per batch when columns are many
    batch_rows = min(_BATCH_ROWS, max(1024, _BATCH_CELLS // max(len(columns), 1)))
    file_schema = parquet.schema_arrow  # a property that rebuilds the schema on every access
    schema = pa.schema([file_schema.field(c) for c in columns])
    empty = schema.empty_table()
    needed = sorted(
        {
            g
            for _, start, stop in ranges
            for g in range(parquet.metadata.num_row_groups)
            if bounds[g] < stop and bounds[g + 1] > start
        }
    )
    batches = (
        (int(bounds[g]) + offset, batch)
        for g in needed
        for offset, batch in _offsets(
            parquet.iter_batches(batch_size=batch_rows, row_groups=[g], columns=columns)
        )
    )
    index = 0
    pieces: list[pa.RecordBatch] = []
    while index < len(ranges) and ranges[index][2] <= ranges[index][1]:  # empty ranges first
        yield ranges[index][0], empty
        index += 1
    for first, batch in batches:
        last = first + batch.num_rows
        while index < len(ranges):
            era, start, stop = ranges[index]
            lo, hi = max(start, first), min(stop, last)
            if hi > lo:
                pieces.append(batch.slice(lo - first, hi - lo))
            if stop > last:
                break
            yield era, pa.Table.from_batches(pieces, schema=schema) if pieces else empty
            pieces = []
            index += 1
            while index < len(ranges) and ranges[index][2] <= ranges[index][1]:
                yield ranges[index][0], empty
                index += 1
        if index >= len(ranges):
            return
    for era, _, _ in ranges[index:]:
        yield era, pa.Table.from_batches(pieces, schema=schema) if pieces else empty
        pieces = []


def _offsets(batches: Iterator[pa.RecordBatch]) -> Iterator[tuple[int, pa.RecordBatch]]:
    offset = 0
    for batch in batches:
        yield offset, batch
        offset += batch.num_rows


def iter_key_eras(
    layout: FileLayout, columns: Sequence[str], eras: Sequence[str]
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Yield ``(era, frame)`` for each of ``eras`` (file labels) with the id, era and ``columns``.

    Parquet: when each requested era's rows are consecutive and in the requested order (Numerai's
    files are sorted by era), one pass in batches of rows holds one era at a time, whatever the row
    groups; otherwise each era reads the row groups holding it. CSV is read once and grouped. The
    era column holds labels (:func:`era_labels`); an era the file lacks gives an empty frame.
    """
    if layout.era_column is None:
        raise DataFormatError(f"{layout.path.name}: no era or date column", code="missing_column")
    dates = layout.kind == "signals"
    wanted = list(dict.fromkeys([layout.id_column, layout.era_column, *columns]))
    if _is_csv(layout.path):
        frame = read_table(layout.path, columns=wanted)
        frame[layout.era_column] = era_labels(frame[layout.era_column], dates=dates)
        groups = dict(iter(frame.groupby(layout.era_column, sort=False)))
        for era in eras:
            yield era, groups.get(era, frame.iloc[:0])
        return
    parquet = pq.ParquetFile(layout.path)
    runs = _era_runs(parquet, layout.era_column, dates=dates)
    by_era: dict[str, list[_Run]] = {}
    for run in runs:
        by_era.setdefault(run.label, []).append(run)
    ranges = [
        (era, *(lambda r: (r[0].start, r[0].stop) if r else (0, 0))(by_era.get(era, []))) for era in eras
    ]
    starts = [start for _, start, stop in ranges if stop > start]
    streamable = all(len(by_era.get(era, [])) <= 1 for era in eras) and starts == sorted(starts)
    if streamable:
        tables = _stream_runs(parquet, wanted, ranges)
    else:
        bounds = _row_group_starts(parquet)
        tables = (
            (
                era,
                parquet.read_row_groups(
                    sorted(
                        {
                            g
                            for run in by_era.get(era, [])
                            for g in range(parquet.metadata.num_row_groups)
                            if bounds[g] < run.stop and bounds[g + 1] > run.start
                        }
                    ),
                    columns=wanted,
                ),
            )
            for era in eras
        )
    for era, table in tables:
        frame = table.to_pandas(ignore_metadata=True)
        frame[layout.era_column] = era_labels(frame[layout.era_column], dates=dates)
        yield era, frame if streamable else frame[frame[layout.era_column] == era].reset_index(drop=True)


def _tokens(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def match_target_column(columns: Sequence[str], target: str) -> str | None:
    """The column of a multi-column benchmark file made for ``target``, or ``None``.

    ``target_cyrusd_20`` matches ``v52_lgbm_cyrusd20`` (the target's name and horizon end the
    column's name; ``target`` itself matches a column ending in ``target``); failing that, the
    one column naming the target without its horizon.
    """
    name = _tokens(target.removeprefix("target")) or _tokens(target)
    if not name:
        return None
    exact = [c for c in columns if _tokens(c).endswith(name)]
    if len(exact) == 1:
        return exact[0]
    stem = re.sub(r"\d+$", "", name)
    loose = [c for c in columns if stem and stem in _tokens(c)]
    return loose[0] if len(loose) == 1 and not exact else None


def select_validation_rows(
    frame: pd.DataFrame, *, data_type: str = "validation", target: str = "target"
) -> pd.DataFrame:
    """Numerai's Classic file as a validation table: an ``id`` index becomes a column, and only the
    ``data_type`` rows are kept when the frame has a ``data_type`` column holding any.

    ``target`` names the target to use (one of several ``target*`` columns); it is copied to
    ``target``. Other columns are left for the caller to check or ignore; rows of unresolved eras
    stay (their target is NaN).
    """
    if frame.index.name == "id":
        frame = frame.reset_index()
    if "data_type" in frame.columns:
        selected = frame["data_type"].astype(str).to_numpy() == data_type
        if selected.any() and not selected.all():
            frame = frame[selected].reset_index(drop=True)
    if target != "target":
        if target not in frame.columns:
            targets = [str(c) for c in frame.columns if str(c).startswith("target")]
            raise DataFormatError(
                f"validation data: missing column(s) [{target!r}]; targets: {targets[:8]}",
                code="missing_column",
            )
        frame = frame.assign(target=frame[target].to_numpy())
    return frame
