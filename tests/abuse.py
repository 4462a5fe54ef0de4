"""The abuse catalogue: hostile files a participant with an ordinary upload key could send.

Each entry builds its bytes (deterministically) and names the 4xx status and error code the service
must answer with. Used by the catalogue tests (``tests/tournament/test_abuse.py``,
``tests/api/test_abuse.py``) and by ``bench/abuse.py``, which measures the server's CPU time and peak
RSS growth for each.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["HOSTILE_FILES", "HOSTILE_REQUESTS", "HostileFile", "HostileRequest", "hostile"]


@dataclass(frozen=True)
class HostileFile:
    """A hostile upload: ``build()`` gives its bytes; ``status`` and ``code`` are the expected answer."""

    name: str
    what: str
    build: Callable[[], bytes]
    status: int
    code: str
    content_type: str = "application/octet-stream"
    http_only: bool = False  # the HTTP layer refuses it before any parser sees a file


def _multipart_many_fields() -> bytes:
    part = b'--XB\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n'
    return part * 10_000 + b"--XB--\r\n"


def _multipart_huge_field() -> bytes:
    return (
        b'--XB\r\nContent-Disposition: form-data; name="note"\r\n\r\n'
        + b"x" * (4 * 1024 * 1024)
        + b"\r\n--XB--\r\n"
    )


def _parquet(table: pa.Table, **options: object) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    return sink.getvalue()


def _wide_csv_header(n_columns: int) -> bytes:
    header = ",".join(f"c{i}" for i in range(n_columns))
    return (header + "\n" + ",".join("1" for _ in range(n_columns)) + "\n").encode()


def _duplicate_headers() -> bytes:
    return (",".join(["id"] * 40 + ["prediction"] * 20) + "\n" + ",".join(["1"] * 60) + "\n").encode()


def _endless_header() -> bytes:
    return b"id," + b"x" * (2 * 1024 * 1024)


def _many_rows_csv() -> bytes:
    return b"id,prediction\n" + b"a,0.5\n" * 1_100_000


def _many_quoted_rows_csv() -> bytes:
    return b'"id","prediction"\n' + b'"a","0.5"\n' * 1_100_000


def _giant_cell_csv() -> bytes:
    return b"id,prediction\n" + b"n" * (8 * 1024 * 1024) + b",0.5\n"


def _invalid_utf8_csv() -> bytes:
    return b"id,prediction\nn0000,0.5\n\xff\xfe\xfa,0.5\n"


def _parquet_40m_rows() -> bytes:
    # one repeated id, dictionary encoded and zstd compressed: a few hundred KB declaring 40 M rows
    n = 40_000_000
    ids = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array(["n0000"]))
    values = pa.array(np.full(n, 0.5))
    table = pa.table({"id": ids, "prediction": values})
    return _parquet(table, compression="zstd", use_dictionary=True, row_group_size=4_000_000)


def _parquet_wide(n_columns: int) -> bytes:
    columns = {f"c{i}": pa.array([0.5], type=pa.float64()) for i in range(n_columns)}
    return _parquet(pa.table(columns), compression="zstd", write_statistics=False)


def _parquet_invalid_utf8() -> bytes:
    ids = pa.array([b"n0000", b"\xff\xfe\xfa"], type=pa.binary()).view(pa.string())
    table = pa.table({"id": ids, "prediction": pa.array([0.25, 0.75])})
    return _parquet(table)


def _parquet_huge_cell() -> bytes:
    # one 64 MB string that zstd shrinks to a few KB
    ids = pa.array(["n" * (64 * 1024 * 1024), "n0001"])
    table = pa.table({"id": ids, "prediction": pa.array([0.25, 0.75])})
    return _parquet(table, compression="zstd", use_dictionary=False)


def _parquet_nested() -> bytes:
    table = pa.table({"id": pa.array([["a"] * 1000] * 2), "prediction": pa.array([0.1, 0.2])})
    return _parquet(table)


def _parquet_truncated() -> bytes:
    good = _parquet(pa.table({"id": ["a", "b"], "prediction": [0.1, 0.2]}))
    return good[:-20] + good[-8:]


def _parquet_lying_footer_length() -> bytes:
    good = _parquet(pa.table({"id": ["a", "b"], "prediction": [0.1, 0.2]}))
    return good[:-8] + (2**31 - 1).to_bytes(4, "little") + b"PAR1"


def _binary_garbage() -> bytes:
    return np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()


HOSTILE_FILES: tuple[HostileFile, ...] = (
    HostileFile(
        "csv_200k_columns",
        "CSV whose header has 200,000 columns (1.9 MB)",
        functools.partial(_wide_csv_header, 200_000),
        422,
        "header_too_large",
        "text/csv",
    ),
    HostileFile(
        "csv_5k_columns",
        "CSV header of 5,000 short columns (fits the header cap)",
        functools.partial(_wide_csv_header, 5_000),
        422,
        "too_many_columns",
        "text/csv",
    ),
    HostileFile(
        "csv_duplicate_headers",
        "CSV with 40 'id' and 20 'prediction' columns",
        _duplicate_headers,
        422,
        "wrong_headers",
        "text/csv",
    ),
    HostileFile(
        "csv_endless_header",
        "2 MB header line without a line break",
        _endless_header,
        422,
        "header_too_large",
        "text/csv",
    ),
    HostileFile(
        "csv_1.1m_rows",
        "CSV with 1.1 M rows (over the 1 M row limit)",
        _many_rows_csv,
        422,
        "too_many_rows",
        "text/csv",
    ),
    HostileFile(
        "csv_1.1m_quoted_rows",
        "CSV with 1.1 M quoted rows (a quoted cell may hold a line break)",
        _many_quoted_rows_csv,
        422,
        "too_many_rows",
        "text/csv",
    ),
    HostileFile(
        "csv_8mb_cell", "CSV whose one id cell is 8 MB", _giant_cell_csv, 422, "too_much_data", "text/csv"
    ),
    HostileFile(
        "csv_invalid_utf8",
        "CSV with invalid UTF-8 in an id",
        _invalid_utf8_csv,
        422,
        "invalid_text",
        "text/csv",
    ),
    HostileFile(
        "parquet_40m_rows",
        "parquet of ~300 KB declaring 40 M rows (dictionary + zstd)",
        _parquet_40m_rows,
        422,
        "too_many_rows",
    ),
    HostileFile(
        "parquet_20k_columns",
        "parquet with 20,000 columns",
        functools.partial(_parquet_wide, 20_000),
        422,
        "too_many_columns",
    ),
    HostileFile(
        "parquet_invalid_utf8",
        "parquet string column holding invalid UTF-8",
        _parquet_invalid_utf8,
        422,
        "invalid_text",
    ),
    HostileFile(
        "parquet_64mb_cell",
        "parquet whose one id is a 64 MB string zstd shrinks to a few KB",
        _parquet_huge_cell,
        422,
        "too_much_data",
    ),
    HostileFile("parquet_nested", "parquet with a list column", _parquet_nested, 422, "unreadable_file"),
    HostileFile("parquet_truncated", "parquet with a cut footer", _parquet_truncated, 422, "unreadable_file"),
    HostileFile(
        "parquet_footer_length_2gb",
        "parquet whose footer length field claims 2 GB",
        _parquet_lying_footer_length,
        422,
        "unreadable_file",
    ),
    HostileFile("binary_garbage", "4 KB of random bytes", _binary_garbage, 422, "unreadable_file"),
    HostileFile(
        "multipart_10k_fields",
        "multipart form with 10,000 fields",
        _multipart_many_fields,
        400,
        "malformed_request",
        "multipart/form-data; boundary=XB",
        http_only=True,
    ),
    HostileFile(
        "multipart_4mb_field",
        "multipart form with a 4 MB text field",
        _multipart_huge_field,
        400,
        "malformed_request",
        "multipart/form-data; boundary=XB",
        http_only=True,
    ),
)
"""Every hostile file of the catalogue, for a Classic round whose universe is ``n0000 …``."""


@functools.cache
def hostile(name: str) -> bytes:
    """The bytes of the catalogue entry ``name`` (built once per process)."""
    for entry in HOSTILE_FILES:
        if entry.name == name:
            return entry.build()
    raise KeyError(name)


@dataclass(frozen=True)
class HostileRequest:
    """A hostile JSON request of a participant (``{model}`` in ``path`` is their model's name)."""

    name: str
    what: str
    path: str
    build: Callable[[], bytes]
    status: int
    code: str
    content_type: str = "application/json"


HOSTILE_REQUESTS: tuple[HostileRequest, ...] = (
    HostileRequest(
        "json_40mb_list",
        "a 40 MB JSON list as a stake amount",
        "/v1/models/{model}/stake/increase",
        lambda: b"[" + b"0," * 20_000_000 + b"0]",
        413,
        "payload_too_large",
    ),
    HostileRequest(
        "json_40mb_name",
        "a model name of 40 MB",
        "/v1/models",
        lambda: b'{"name": "' + b"a" * 40_000_000 + b'"}',
        413,
        "payload_too_large",
    ),
    HostileRequest(
        "json_deep_nesting",
        "30,000 nested JSON lists (60 KB)",
        "/v1/models/{model}/stake/increase",
        lambda: b"[" * 30_000 + b"]" * 30_000,
        400,
        "bad_request",
    ),
    HostileRequest(
        "json_huge_amount",
        "an amount of 10^4000 tokens",
        "/v1/models/{model}/stake/increase",
        lambda: b'{"amount": ' + b"9" * 4000 + b"}",
        422,
        "invalid_request",
    ),
    HostileRequest(
        "json_invalid_utf8",
        "a JSON body that is not UTF-8",
        "/v1/models/{model}/stake/increase",
        lambda: b'{"amount": "\xff\xfe"}',
        400,
        "bad_request",
    ),
)
"""Hostile JSON bodies; none may reach the ledger."""
