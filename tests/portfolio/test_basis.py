"""The per-exposure-matrix cache of equality bases, Newton rows and the all-names Gram."""

from __future__ import annotations

import numpy as np

from kardashev.portfolio.basis import (
    all_names_gram,
    clear_cache,
    constraint_rows,
    low_precision_rows,
    weighted_rows,
)


def _gram(W: np.ndarray, size: int, h: np.ndarray) -> np.ndarray:
    rows = W[:, :size] / np.sqrt(h)[:, None]
    return rows.T @ rows


def test_the_kept_gram_follows_the_rows_when_the_factor_rows_change() -> None:
    """Same exposures and curvatures, other factor rows: the rows are rebuilt and so is the Gram
    (it used to return the Gram of the previous rows)."""
    clear_cache()
    rng = np.random.default_rng(3)
    n = 50
    exposures = rng.standard_normal((n, 3))
    h = rng.uniform(0.5, 2.0, n)
    first_v, second_v = rng.standard_normal((n, 2)), rng.standard_normal((n, 2))
    _, w1, _ = constraint_rows(exposures, True, first_v, h)
    size = w1.shape[1] - 2
    np.testing.assert_allclose(all_names_gram(w1, size, h), _gram(w1, size, h), rtol=1e-12, atol=1e-12)
    _, w2, _ = constraint_rows(exposures.copy(), True, second_v, h)
    assert not np.array_equal(w1, w2)
    np.testing.assert_allclose(all_names_gram(w2, size, h), _gram(w2, size, h), rtol=1e-12, atol=1e-12)
    clear_cache()


def test_a_gram_of_rows_no_longer_kept_is_not_stored_under_the_new_rows() -> None:
    """A Gram asked for with the previous rows (another thread's solve still running on them) is
    computed afresh or skipped, never stored for the entry's new rows."""
    clear_cache()
    rng = np.random.default_rng(4)
    n = 40
    exposures = rng.standard_normal((n, 2))
    h = rng.uniform(0.5, 2.0, n)
    _, w1, _ = constraint_rows(exposures, False, rng.standard_normal((n, 2)), h)
    _, w2, _ = constraint_rows(exposures, False, rng.standard_normal((n, 2)), h)
    size = w1.shape[1] - 2
    assert all_names_gram(w1, size, h) is None  # the entry now holds w2
    np.testing.assert_allclose(all_names_gram(w2, size, h), _gram(w2, size, h), rtol=1e-12, atol=1e-12)
    clear_cache()


def test_the_kept_row_copies_follow_the_rows_and_the_curvatures() -> None:
    """The float32 copy and the row-scaled rows are those of the entry's current W (rebuilt with
    new factor rows), the scaled rows for the curvatures asked for; nothing for rows not cached."""
    clear_cache()
    rng = np.random.default_rng(5)
    n = 60
    exposures = rng.standard_normal((n, 3))
    h = rng.uniform(0.5, 2.0, n)
    first_v, second_v = rng.standard_normal((n, 2)), rng.standard_normal((n, 2))
    _, w1, _ = constraint_rows(exposures, True, first_v, h)
    size = w1.shape[1] - 2
    low = low_precision_rows(w1, size)
    assert low is not None and low.dtype == np.float32 and not low.flags.writeable
    np.testing.assert_array_equal(low, w1[:, :size].astype(np.float32))
    scaled = weighted_rows(w1, size, h)
    assert scaled is not None and not scaled.flags.writeable
    # bit for bit the rows the Newton matrix's Gram gathers and scales itself
    np.testing.assert_array_equal(scaled, w1[:, :size] * np.sqrt(1.0 / h)[:, None])
    other_h = h * 1.5
    assert weighted_rows(w1, size, other_h) is None  # the kept rows are for h, not replaced
    _, w2, _ = constraint_rows(exposures.copy(), True, second_v, h)
    assert low_precision_rows(w1, size) is None and weighted_rows(w1, size, h) is None
    np.testing.assert_array_equal(low_precision_rows(w2, size), w2[:, :size].astype(np.float32))
    np.testing.assert_array_equal(weighted_rows(w2, size, h), w2[:, :size] * np.sqrt(1.0 / h)[:, None])
    clear_cache()
    assert low_precision_rows(w2, size) is None
