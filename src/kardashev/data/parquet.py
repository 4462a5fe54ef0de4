"""Era-by-era parquet reading and writing, so a laptop never loads a whole dataset.

Writing: :class:`EraParquetWriter` appends one row group per era. Reading:
:func:`iter_eras` yields one era at a time, reading only the requested columns and only the
row groups that hold that era. Which row groups hold which era is found from the row-group
statistics of the era column when they are exact (files written era by era, like Numerai's),
else from one pass over the era column alone. :func:`read_eras` reads a set of eras with a
pyarrow filter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from kardashev.data.layout import era_labels
from kardashev.errors import DataFormatError, NotFoundError

__all__ = ["EraParquetWriter", "era_row_groups", "iter_eras", "list_eras", "read_eras"]


class EraParquetWriter:
    """Stream a table to parquet one era (one row group) at a time.

    ``index`` names the column restored as the pandas index on read (Numerai's ``id``).
    Use as a context manager; each :meth:`write` must match the schema of the first one.
    """

    def __init__(self, path: str | Path, schema: pa.Schema, *, index: str | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        metadata = dict(schema.metadata or {})
        if index is not None:
            frame = pd.DataFrame({f.name: pd.Series([], dtype=f.type.to_pandas_dtype()) for f in schema})
            metadata.update(pa.Schema.from_pandas(frame.set_index(index)).metadata or {})
        self.schema = schema.with_metadata(metadata)
        # statistics only where readers prune row groups: keeps the footer (held in memory until
        # close, one entry per column per era) small
        keys = [name for name in ("era", "date") if name in self.schema.names]
        self._writer = pq.ParquetWriter(
            self.path, self.schema, compression="zstd", write_statistics=keys or False
        )
        self.n_rows = 0

    def write(self, columns: Mapping[str, object]) -> None:
        """Write one era given as ``{column: array}`` (all columns of the schema) as one row group."""
        missing = [f.name for f in self.schema if f.name not in columns]
        if missing:
            raise DataFormatError(f"{self.path.name}: missing column(s) {missing}", code="missing_column")
        arrays = [pa.array(columns[f.name], type=f.type) for f in self.schema]
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self.n_rows += table.num_rows

    def close(self) -> None:
        """Finish the file (writes the footer)."""
        self._writer.close()

    def __enter__(self) -> EraParquetWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _open(path: str | Path) -> pq.ParquetFile:
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"no such file: {path}")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataFormatError(
            f"{path.name} is not a readable parquet file: {exc}", code="not_parquet"
        ) from None


def _check_columns(parquet: pq.ParquetFile, columns: Sequence[str], path: str | Path) -> None:
    names = set(parquet.schema_arrow.names)
    missing = [c for c in columns if c not in names]
    if missing:
        raise DataFormatError(f"{Path(path).name}: missing column(s) {missing}", code="missing_column")


def era_row_groups(path: str | Path, *, era_column: str = "era") -> dict[str, list[int]]:
    """Map each era (as str, in file order) to the row groups holding it."""
    parquet = _open(path)
    _check_columns(parquet, [era_column], path)
    position = parquet.schema_arrow.get_field_index(era_column)
    leaf = parquet.schema.names.index(era_column) if era_column in parquet.schema.names else position
    groups: dict[str, list[int]] = {}
    metadata = parquet.metadata
    for g in range(metadata.num_row_groups):
        stats = metadata.row_group(g).column(leaf).statistics
        if stats is not None and stats.has_min_max and stats.min == stats.max and stats.null_count == 0:
            eras = era_labels(pd.Series([stats.min])).tolist()
        else:
            values = parquet.read_row_group(g, columns=[era_column]).column(0)
            if values.null_count:
                raise DataFormatError(
                    f"{Path(path).name}: column {era_column!r} has missing values", code="nan_eras"
                )
            eras = era_labels(pc.unique(values).to_pandas()).tolist()
        for key in eras:
            groups.setdefault(str(key), []).append(g)
    return groups


def list_eras(path: str | Path, *, era_column: str = "era") -> list[str]:
    """The eras of a file, in file order (reads only metadata or the era column)."""
    return list(era_row_groups(path, era_column=era_column))


def iter_eras(
    path: str | Path,
    *,
    columns: Sequence[str] | None = None,
    eras: Sequence[str] | None = None,
    era_column: str = "era",
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Yield ``(era, frame)`` one era at a time, reading only ``columns`` (plus the era column).

    The pandas index stored with the file (e.g. Numerai's ``id``) is restored.
    """
    parquet = _open(path)
    groups = era_row_groups(path, era_column=era_column)
    wanted = list(groups) if eras is None else [str(e) for e in eras]
    unknown = [e for e in wanted if e not in groups]
    if unknown:
        raise NotFoundError(f"{Path(path).name}: no era(s) {unknown[:5]}")
    read_columns = None
    if columns is not None:
        read_columns = list(dict.fromkeys([*columns, era_column]))
        _check_columns(parquet, read_columns, path)
    for era in wanted:
        table = parquet.read_row_groups(groups[era], columns=read_columns, use_pandas_metadata=True)
        era_values = table.column(era_column)
        if pa.types.is_string(era_values.type) or pa.types.is_large_string(era_values.type):
            keep = pc.equal(era_values, era)
        else:  # dates and numbers: compared as their labels ("2024-01-05" for a timestamp)
            keep = pa.array(era_labels(era_values.to_pandas()) == era)
        if not pc.all(keep).as_py():
            table = table.filter(keep)
        yield era, table.to_pandas()


def read_eras(
    path: str | Path,
    eras: Sequence[str],
    *,
    columns: Sequence[str] | None = None,
    era_column: str = "era",
) -> pd.DataFrame:
    """Read the rows of some eras with a pyarrow dataset filter (row groups of other eras are skipped)."""
    parquet = _open(path)
    if columns is not None:
        _check_columns(parquet, [*columns, era_column], path)
    dataset = ds.dataset(Path(path), format="parquet")
    era_type = dataset.schema.field(era_column).type
    values = (
        pa.array([str(e) for e in eras]).cast(era_type) if not pa.types.is_string(era_type) else list(eras)
    )
    read_columns = None if columns is None else list(dict.fromkeys([*columns, era_column]))
    index_columns = _pandas_index_columns(parquet)
    if read_columns is not None:
        read_columns = list(dict.fromkeys([*read_columns, *index_columns]))
    table = dataset.to_table(columns=read_columns, filter=ds.field(era_column).isin(values))
    frame = table.to_pandas()
    present = [c for c in index_columns if c in frame.columns]
    return frame.set_index(present) if present else frame


def _pandas_index_columns(parquet: pq.ParquetFile) -> list[str]:
    pandas_meta = parquet.schema_arrow.pandas_metadata or {}
    return [c for c in pandas_meta.get("index_columns", []) if isinstance(c, str)]
