"""Parquet bytes for what the tournament stores as blobs: universes, predictions, meta models."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kardashev.errors import DataFormatError

__all__ = ["decode_ids", "decode_vector", "encode_ids", "encode_vector", "sha256_hex"]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _to_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    # Deterministic bytes for equal content: no timestamps in the file, fixed compression.
    pq.write_table(table, sink, compression="zstd", store_schema=False)
    return sink.getvalue()


def encode_ids(ids: np.ndarray) -> bytes:
    """A universe of stock ids as parquet bytes (column ``id``)."""
    return _to_bytes(pa.table({"id": pa.array([str(i) for i in ids], type=pa.string())}))


def decode_ids(data: bytes) -> np.ndarray:
    table = pq.read_table(io.BytesIO(data))
    return np.asarray(table.column("id").to_pylist(), dtype=object)


def encode_vector(values: pd.Series, *, name: str) -> bytes:
    """A per-stock vector (index = ids) as parquet bytes with columns ``id`` and ``name``."""
    ids = pa.array([str(i) for i in values.index], type=pa.string())
    column = pa.array(np.asarray(values.to_numpy(), dtype=np.float64))
    return _to_bytes(pa.table({"id": ids, name: column}))


def decode_vector(data: bytes) -> pd.Series:
    """Inverse of :func:`encode_vector`: a float Series indexed by id, named after its column."""
    table = pq.read_table(io.BytesIO(data))
    names = [n for n in table.column_names if n != "id"]
    if "id" not in table.column_names or len(names) != 1:
        raise DataFormatError(f"stored vector has columns {table.column_names}, expected id + one value")
    index = pd.Index(table.column("id").to_pylist(), name="id")
    return pd.Series(
        np.asarray(table.column(names[0]).to_numpy(), dtype=np.float64), index=index, name=names[0]
    )
