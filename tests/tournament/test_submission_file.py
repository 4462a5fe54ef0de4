"""Reading submission files: format detection, string cells, number parsing, messages."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from kardashev.errors import SubmissionError
from kardashev.tournament.submission_file import (
    column_names,
    examples,
    parse_ids,
    parse_numbers,
    pick_column,
    read_submission_table,
)


def code_of(fn, *args, **kwargs):
    with pytest.raises(SubmissionError) as info:
        fn(*args, **kwargs)
    return info.value.code


def test_parquet_is_detected_by_content_whatever_the_name():
    buffer = io.BytesIO()
    pd.DataFrame({"id": ["a", "b"], "prediction": [0.1, 0.2]}).to_parquet(buffer, index=False)
    table = read_submission_table(buffer.getvalue(), filename="upload.csv")
    assert table["id"].tolist() == ["a", "b"] and table["prediction"].tolist() == [0.1, 0.2]


def test_csv_cells_stay_strings_and_a_named_index_becomes_a_column():
    table = read_submission_table(b"id,prediction\n007,NA\nNA,0.5\n")
    assert table["id"].tolist() == ["007", "NA"] and table["prediction"].tolist() == ["NA", "0.5"]
    frame = pd.DataFrame({"prediction": [0.1]}, index=pd.Index(["x"], name="id"))
    assert list(read_submission_table(frame).columns) == ["id", "prediction"]
    assert read_submission_table(io.BytesIO(b"a,b\n1,2\n")).shape == (1, 2)


def test_reading_failures_have_codes():
    assert code_of(read_submission_table, b"") == "empty_file"
    assert code_of(read_submission_table, b"a,b\n") == "empty_file"
    assert code_of(read_submission_table, b"a,b\n1,2\n", filename="x.PQ") == "unreadable_file"
    assert code_of(read_submission_table, b"a\n\xff\n") == "invalid_text"
    assert code_of(read_submission_table, b"a,b\n1,2\n3,4\n", max_rows=1) == "too_many_rows"


def test_columns_are_normalized_and_picked():
    frame = pd.DataFrame(columns=[" ID", "Prediction "])
    assert column_names(frame) == ["id", "prediction"]
    assert code_of(column_names, pd.DataFrame(columns=["id", "ID"])) == "wrong_headers"
    assert pick_column(["ticker", "signal"], ("numerai_ticker", "ticker"), "ticker") == "ticker"
    assert code_of(pick_column, ["a"], ("b", "c"), "value") == "wrong_headers"


def test_parse_ids_and_numbers():
    ids = parse_ids(pd.Series([" a ", 7, "b"]), column="id", n_examples=3)
    assert ids.tolist() == ["a", "7", "b"]
    assert code_of(parse_ids, pd.Series(["a", None]), column="id", n_examples=3) == "empty_ids"
    numbers = parse_numbers(pd.Series([" 0.5", "1e-3", "-0"]), ids=ids, column="p", n_examples=3)
    np.testing.assert_array_equal(numbers, [0.5, 0.001, 0.0])
    ints = parse_numbers(pd.Series([1, 0, 1], dtype="Int64"), ids=ids, column="p", n_examples=3)
    assert ints.dtype == np.float64 and ints.tolist() == [1.0, 0.0, 1.0]
    cases = {
        "non_numeric_values": pd.Series(["0.1", "x", "0.2"]),
        "nan_values": pd.Series([0.1, None, 0.2]),
        "out_of_range": pd.Series(["0.1", "-inf", "0.2"]),
    }
    for code, series in cases.items():
        with pytest.raises(SubmissionError) as info:
            parse_numbers(series, ids=ids, column="p", n_examples=3)
        assert info.value.code == code and "'7'" in info.value.message


def test_examples_quote_a_few_and_mark_the_rest():
    assert examples(["a", "b"], 2, 5) == "'a', 'b'"
    assert examples(iter(range(100)), 100, 3) == "0, 1, 2, …"
