"""A round's prediction matrix, stored once at close in a columnar form read with one copy-free decode.

At close the on-time submissions are decoded once and stored together as an Arrow IPC file: one row
per submission (``submission_id``) holding that model's predictions as a fixed-size list over the
round's universe (NaN where the model skipped a stock), and the universe's ids in the schema metadata.
Each scoring day reads that one blob; its values are a zero-copy view of the bytes reshaped to
``(n_models, n_stocks)``, so no per-model decoding or copying happens on scoring days. Late submissions
(after the close) are decoded individually and appended.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from kardashev.errors import DataFormatError

__all__ = ["RoundMatrix", "decode_round_matrix", "encode_round_matrix", "matrix_from_vectors"]

_IDS_KEY = b"kardashev.ids"


@dataclass(frozen=True, eq=False)
class RoundMatrix:
    """``values`` ``(n_stocks, n_models)`` over ``ids``; column ``j`` is submission ``submission_ids[j]``."""

    ids: np.ndarray
    submission_ids: np.ndarray
    values: np.ndarray

    def columns_for(self, submission_ids: Sequence[int]) -> np.ndarray | None:
        """Column positions of ``submission_ids`` in this matrix, or None if one is not in it."""
        position = {int(s): j for j, s in enumerate(self.submission_ids)}
        try:
            return np.asarray([position[int(s)] for s in submission_ids], dtype=np.intp)
        except KeyError:
            return None


def matrix_from_vectors(ids: np.ndarray, vectors: Sequence[pd.Series]) -> np.ndarray:
    """Stack per-submission Series (indexed by id) into ``(n_stocks, n_models)`` over ``ids``."""
    index = pd.Index([str(i) for i in ids])
    values = np.full((len(index), len(vectors)), np.nan)
    for j, vector in enumerate(vectors):
        values[:, j] = vector.reindex(index).to_numpy(dtype=np.float64)
    return values


def encode_round_matrix(ids: np.ndarray, submission_ids: Sequence[int], values: np.ndarray) -> bytes:
    """The matrix as Arrow IPC bytes (deterministic for equal content)."""
    values = np.asarray(values, dtype=np.float64)
    n_stocks, n_models = values.shape
    if len(ids) != n_stocks or len(submission_ids) != n_models:
        raise DataFormatError(
            f"round matrix {values.shape} does not fit {len(ids)} ids × {len(submission_ids)}"
        )
    flat = pa.array(np.ascontiguousarray(values.T).reshape(-1), type=pa.float64())
    rows = (
        pa.FixedSizeListArray.from_arrays(flat, n_stocks)
        if n_stocks
        else pa.array([], pa.list_(pa.float64()))
    )
    schema = pa.schema(
        [("submission_id", pa.int64()), ("predictions", rows.type)],
        metadata={_IDS_KEY: json.dumps([str(i) for i in ids]).encode()},
    )
    table = pa.Table.from_arrays([pa.array(np.asarray(submission_ids, dtype=np.int64)), rows], schema=schema)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def decode_round_matrix(data: bytes) -> RoundMatrix:
    """Inverse of :func:`encode_round_matrix`; the values are a read-only view of ``data``."""
    try:
        table = pa.ipc.open_file(pa.py_buffer(data)).read_all()
        ids = np.asarray(json.loads(table.schema.metadata[_IDS_KEY]), dtype=object)
        submission_ids = table.column("submission_id").to_numpy()
        column = table.column("predictions").combine_chunks()
    except (pa.ArrowException, KeyError, ValueError, TypeError) as exc:
        raise DataFormatError(f"stored round matrix is unreadable: {exc}") from exc
    n_models, n_stocks = len(submission_ids), len(ids)
    flat = column.values.to_numpy(zero_copy_only=True) if n_models else np.zeros(0)
    if flat.size != n_models * n_stocks:
        raise DataFormatError(f"stored round matrix has {flat.size} values for {n_stocks} × {n_models}")
    return RoundMatrix(ids=ids, submission_ids=submission_ids, values=flat.reshape(n_models, n_stocks).T)
