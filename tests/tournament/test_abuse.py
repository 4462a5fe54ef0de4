"""The abuse catalogue against the parser: every hostile file is refused with its own code, and the
bounded reader's pieces agree with plain references."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kardashev.errors import ConfigError, SubmissionError
from kardashev.tournament.bounded_table import ReadLimits, scan_lines
from kardashev.tournament.submission_file import examples, read_submission_table
from kardashev.tournament.validation import ERROR_CODES, ValidationConfig, validate_classic, validate_signals
from tests.abuse import HOSTILE_FILES, hostile

IDS = [f"n{i:04d}" for i in range(120)]
FILES = [entry for entry in HOSTILE_FILES if not entry.http_only]


@pytest.mark.parametrize("entry", FILES, ids=lambda e: e.name)
def test_each_hostile_file_is_refused_with_its_code(entry):
    with pytest.raises(SubmissionError) as info:
        validate_classic(hostile(entry.name), live_ids=IDS)
    assert info.value.code == entry.code, info.value.message
    assert info.value.code in ERROR_CODES
    assert len(info.value.message) < 1000  # never echoes the hostile content back


@pytest.mark.parametrize("entry", FILES, ids=lambda e: e.name)
def test_each_hostile_file_is_refused_by_signals_with_a_code(entry):
    tickers = [f"T{i:03d}" for i in range(150)]
    with pytest.raises(SubmissionError) as info:
        validate_signals(hostile(entry.name), universe=tickers, config=ValidationConfig(min_tickers=10))
    assert info.value.code in ERROR_CODES
    assert len(info.value.message) < 1000


def test_invalid_utf8_in_a_signals_ticker_column_is_invalid_text():
    tickers = pa.array([b"AAPL", b"\xff\xfe"], type=pa.binary()).view(pa.string())
    sink = io.BytesIO()
    pq.write_table(pa.table({"ticker": tickers, "signal": [0.1, 0.2]}), sink)
    with pytest.raises(SubmissionError) as info:
        validate_signals(sink.getvalue(), universe=["AAPL", "MSFT"])
    assert info.value.code == "invalid_text"


def _parquet(frame: pd.DataFrame, **options) -> bytes:
    sink = io.BytesIO()
    frame.to_parquet(sink, **options)
    return sink.getvalue()


def test_wrong_columns_are_refused_from_the_parquet_schema_before_decoding(monkeypatch):
    data = _parquet(pd.DataFrame({"id": IDS, "prediction": 0.5, "extra": 1.0}), index=False)

    def no_decoding(*args, **kwargs):
        raise AssertionError("rows were decoded")

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", no_decoding)
    with pytest.raises(SubmissionError) as info:
        validate_classic(data, live_ids=IDS)
    assert info.value.code == "wrong_headers" and "'extra'" in info.value.message


def test_limits_are_applied_exactly_at_their_bounds():
    frame = pd.DataFrame({"id": IDS[:10], "prediction": [0.1 * i for i in range(10)]})
    for data in (frame.to_csv(index=False).encode(), _parquet(frame, index=False)):
        assert len(read_submission_table(data, limits=ReadLimits(max_rows=10, max_columns=2))) == 10
        with pytest.raises(SubmissionError, match="10 rows") as info:
            read_submission_table(data, limits=ReadLimits(max_rows=9))
        assert info.value.code == "too_many_rows"
        with pytest.raises(SubmissionError) as info:
            read_submission_table(data, limits=ReadLimits(max_columns=1))
        assert info.value.code == "too_many_columns"
    with pytest.raises(SubmissionError) as info:
        read_submission_table(_parquet(frame, index=False), limits=ReadLimits(max_decoded_bytes=100))
    assert info.value.code == "too_much_data"
    with pytest.raises(SubmissionError) as info:
        read_submission_table(b"id,prediction\n" + b"a" * 3000 + b",0.5\n")
    assert info.value.code == "too_much_data"


def test_a_quoted_csv_is_still_bounded_by_rows():
    data = b'"id","prediction"\n' + b'"a","0.5"\n' * 30
    assert len(read_submission_table(data, limits=ReadLimits(max_rows=30))) == 30
    with pytest.raises(SubmissionError) as info:
        read_submission_table(data, limits=ReadLimits(max_rows=29))
    assert info.value.code == "too_many_rows"


def test_a_named_index_still_counts_as_a_column_and_a_hidden_one_does_not():
    frame = pd.DataFrame({"prediction": [0.2, 0.8]}, index=pd.Index(["n0000", "n0001"], name="id"))
    table = read_submission_table(_parquet(frame))
    assert table["id"].tolist() == ["n0000", "n0001"]
    unnamed = pd.DataFrame({"id": ["a", "b"], "prediction": [0.2, 0.8]}, index=[5, 7])
    assert list(read_submission_table(_parquet(unnamed)).columns) == ["id", "prediction"]


def test_invalid_utf8_in_a_dictionary_column_is_invalid_text():
    ids = pa.array([b"\xff", b"ok"], type=pa.binary()).view(pa.string()).dictionary_encode()
    sink = io.BytesIO()
    pq.write_table(pa.table({"id": ids, "prediction": [0.1, 0.2]}), sink)
    with pytest.raises(SubmissionError) as info:
        read_submission_table(sink.getvalue())
    assert info.value.code == "invalid_text"


def test_examples_never_quote_a_long_value_in_full():
    text = examples(["x" * 10_000, "y"], 2, 5)
    assert len(text) < 100 and text.endswith("'y'")


def test_bad_limits_are_config_errors():
    with pytest.raises(ConfigError):
        ReadLimits(max_columns=0)
    with pytest.raises(ConfigError):
        ValidationConfig(max_rows=0)


def _reference_lines(data: bytes) -> tuple[int, int]:
    lines = re.split(rb"\r\n|\r|\n", data)
    # "\r\n" is one break for pandas but two separators for the scan: lengths agree, counts of
    # non-blank lines agree either way
    pieces = re.split(rb"[\r\n]", data)
    return sum(1 for line in lines if line), max((len(p) for p in pieces), default=0)


@given(st.lists(st.sampled_from([b"a", b"bc", b"\n", b"\r", b"\r\n", b",", b"\n\n"]), max_size=60))
def test_scan_lines_matches_a_plain_split(parts):
    data = b"".join(parts)
    assert scan_lines(data) == _reference_lines(data)


def test_scan_lines_across_chunks():
    data = (b"x" * 100_000 + b"\n") * 5 + b"\r\n" * 70_000 + b"tail"
    assert scan_lines(data) == _reference_lines(data) == (6, 100_000)


def test_classic_files_far_longer_than_the_universe_are_refused_unparsed(monkeypatch):
    rows = "".join(f"x{i},0.5\n" for i in range(2 * len(IDS) + 1001))
    extra = "".join(f"{i},0.{k % 9 + 1}\n" for k, i in enumerate([*IDS, "zzz"]))
    with pytest.raises(SubmissionError) as info:
        validate_classic(("id,prediction\n" + extra).encode(), live_ids=IDS)
    assert info.value.code == "unknown_ids"  # a few extra rows keep their precise code

    def no_parsing(*args, **kwargs):
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(pd, "read_csv", no_parsing)
    with pytest.raises(SubmissionError) as info:
        validate_classic(("id,prediction\n" + rows).encode(), live_ids=IDS)
    assert info.value.code == "too_many_rows"


_VALID_PARQUET = _parquet(
    pd.DataFrame({"id": IDS[:20], "prediction": [i / 20 for i in range(20)]}), index=False, compression="zstd"
)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_parquet_raises_only_submission_errors(data):
    raw = bytearray(_VALID_PARQUET)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, 3))
    mutated = bytes(raw[: len(raw) - cut] if cut else raw)
    try:
        table = read_submission_table(mutated)
    except SubmissionError as exc:
        assert exc.code in ERROR_CODES
    else:
        assert len(table) <= 20 and table.shape[1] <= 2


def test_a_footer_that_aborts_pyarrow_metadata_accessors_is_refused_in_process():
    # found by the mutation test: pyarrow 26's RowGroupMetaData.column() aborts the whole process on
    # this footer (a level histogram of the wrong size); the reader must not touch that accessor
    path = Path(__file__).with_name("data") / "parquet_level_histogram_mismatch.parquet"
    script = (
        "import sys\n"
        "from kardashev.errors import SubmissionError\n"
        "from kardashev.tournament.submission_file import read_submission_table\n"
        "try:\n"
        f"    read_submission_table({str(path)!r})\n"
        "except SubmissionError as exc:\n"
        "    print(exc.code)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() in ERROR_CODES
