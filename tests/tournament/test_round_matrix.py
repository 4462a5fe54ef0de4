"""The round's prediction matrix stored at close: one blob, read back as a zero-copy view."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kardashev.errors import DataFormatError
from kardashev.tournament.round_matrix import decode_round_matrix, encode_round_matrix, matrix_from_vectors


def test_round_trip_is_exact_deterministic_and_copy_free():
    rng = np.random.default_rng(0)
    ids = np.array([f"n{i}" for i in range(50)], dtype=object)
    values = rng.random((50, 7))
    values[3, 2] = np.nan
    data = encode_round_matrix(ids, [11, 12, 13, 14, 15, 16, 17], values)
    assert encode_round_matrix(ids, [11, 12, 13, 14, 15, 16, 17], values) == data
    stored = decode_round_matrix(data)
    np.testing.assert_array_equal(stored.values, values)
    assert list(stored.ids) == list(ids) and list(stored.submission_ids) == [11, 12, 13, 14, 15, 16, 17]
    assert not stored.values.flags.writeable and stored.values.flags.f_contiguous  # a view of the bytes
    assert list(stored.columns_for([13, 11])) == [2, 0] and stored.columns_for([99]) is None


def test_vectors_are_stacked_over_the_universe():
    ids = np.array(["a", "b", "c"], dtype=object)
    vectors = [pd.Series([0.1, 0.2], index=["c", "a"]), pd.Series([0.5, 0.6, 0.7], index=["a", "b", "c"])]
    np.testing.assert_array_equal(matrix_from_vectors(ids, vectors), [[0.2, 0.5], [np.nan, 0.6], [0.1, 0.7]])


def test_damaged_bytes_are_a_data_format_error():
    with pytest.raises(DataFormatError):
        decode_round_matrix(b"not arrow at all")
