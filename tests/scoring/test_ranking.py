"""Rank transforms agree bit for bit with numerai-tools 0.7.2."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numerai_tools import scoring as nt

from kardashev.errors import InvalidInputError
from kardashev.scoring import gaussianize, pow15, tie_kept_rank, tie_kept_rank_gauss_pow15


def _random_matrix(rng: np.random.Generator, kind: str, n: int, m: int) -> np.ndarray:
    if kind == "ties":
        x = rng.integers(0, 5, (n, m)) / 4.0
    elif kind == "continuous":
        x = rng.normal(size=(n, m))
    else:  # mixed: continuous with some exact duplicates and a constant column
        x = rng.random((n, m))
        x[: n // 3, 0] = 0.5
        if m > 1:
            x[:, 1] = 0.25
    if kind != "continuous":
        x[rng.random((n, m)) < 0.1] = np.nan
    return x


@pytest.mark.parametrize("kind", ["ties", "continuous", "mixed"])
@pytest.mark.parametrize("seed", range(4))
def test_matches_numerai_tools_exactly(kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = _random_matrix(rng, kind, int(rng.integers(2, 80)), int(rng.integers(1, 6)))
    frame = pd.DataFrame(x)
    reference_rank = nt.tie_kept_rank(frame).to_numpy()
    reference_gauss = nt.gaussian(nt.tie_kept_rank(frame)).to_numpy()
    np.testing.assert_array_equal(tie_kept_rank(x), reference_rank)
    np.testing.assert_array_equal(gaussianize(x), reference_gauss)
    clean = frame.dropna()
    if len(clean) > 1:
        reference_pow = nt.tie_kept_rank__gaussianize__pow_1_5(clean).to_numpy()
        np.testing.assert_array_equal(tie_kept_rank_gauss_pow15(clean.to_numpy()), reference_pow)


def test_one_dimensional_equals_column() -> None:
    rng = np.random.default_rng(1)
    x = _random_matrix(rng, "mixed", 50, 3)
    for j in range(3):
        np.testing.assert_array_equal(gaussianize(x[:, j]), gaussianize(x)[:, j])
        np.testing.assert_array_equal(tie_kept_rank(x[:, j]), tie_kept_rank(x)[:, j])


def test_hand_checked_ranks() -> None:
    # ranks 1, 2.5, 2.5, 4 → (r - 0.5) / 4
    np.testing.assert_array_equal(tie_kept_rank([3.0, 7.0, 7.0, 9.0]), [0.125, 0.5, 0.5, 0.875])
    np.testing.assert_array_equal(tie_kept_rank([np.nan, 2.0, 1.0]), [np.nan, 0.75, 0.25])
    assert gaussianize([1.0, 1.0, 1.0]).tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_array_equal(pow15([-4.0, 0.0, 4.0, np.nan]), [-8.0, 0.0, 8.0, np.nan])


def test_float32_and_integer_inputs() -> None:
    rng = np.random.default_rng(2)
    x = rng.random((40, 3))
    x32 = x.astype(np.float32)
    reference = nt.gaussian(nt.tie_kept_rank(pd.DataFrame(x32.astype(np.float64)))).to_numpy()
    np.testing.assert_array_equal(gaussianize(x32), reference)
    integers = rng.integers(0, 5, (30, 2))
    np.testing.assert_array_equal(gaussianize(integers), gaussianize(integers.astype(float)))


def test_inputs_not_mutated() -> None:
    rng = np.random.default_rng(3)
    x = _random_matrix(rng, "mixed", 30, 3)
    before = x.copy()
    tie_kept_rank(x)
    gaussianize(x)
    tie_kept_rank_gauss_pow15(x)
    pow15(x)
    np.testing.assert_array_equal(x, before)


def test_bad_shapes_raise_domain_error() -> None:
    with pytest.raises(InvalidInputError):
        gaussianize(np.zeros((2, 2, 2)))
    with pytest.raises(InvalidInputError):
        tie_kept_rank(np.array(["a", "b"]))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(-20, 20), min_size=2, max_size=40),
    st.sampled_from(["exp", "cube", "affine"]),
)
def test_invariant_to_increasing_transforms(values: list[int], transform: str) -> None:
    x = np.array(values, dtype=np.float64)
    transformed = {"exp": np.exp(x / 10), "cube": x**3, "affine": 3 * x + 7}[transform]
    np.testing.assert_array_equal(gaussianize(transformed), gaussianize(x))
    np.testing.assert_array_equal(tie_kept_rank(transformed), tie_kept_rank(x))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30))
def test_ranks_inside_unit_interval_and_sum(values: list[float]) -> None:
    ranks = tie_kept_rank(np.array(values))
    assert np.all((ranks > 0) & (ranks < 1))
    assert np.isclose(ranks.sum(), len(values) / 2)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=True, width=64),
            st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300]),
        ),
        min_size=2,
        max_size=60,
    ),
    st.integers(0, 3),
)
def test_exact_ranks_with_near_equal_signed_zero_and_infinite_values(
    values: list[float], nudges: int
) -> None:
    """Values one ulp apart, ±0 and ±inf rank exactly as pandas ranks them (both sort paths)."""
    x = np.array(values, dtype=np.float64)
    for _ in range(nudges):  # add neighbours one ulp away: they differ only in the lowest bits
        with np.errstate(over="ignore"):  # nextafter(max float) overflows to inf, which is fine here
            x = np.concatenate([x, np.nextafter(x[: len(values)], np.inf)])
    matrix = np.column_stack([x, x[::-1], -x])
    expected = pd.DataFrame(matrix).rank(method="average").to_numpy()
    np.testing.assert_array_equal(tie_kept_rank(matrix), (expected - 0.5) / len(x))


def test_packed_sort_falls_back_only_when_near_equal_values_are_out_of_order() -> None:
    from kardashev.scoring.ranking import _packed_order_and_ties

    one_up = np.nextafter(1.0, 2.0)
    in_order = _packed_order_and_ties(np.array([[1.0, 1.0, 0.5, one_up]]))
    assert in_order is not None
    order, ties = in_order
    assert order[0].tolist() == [2, 0, 1, 3] and ties[0].tolist() == [False, True, False]
    assert _packed_order_and_ties(np.array([[one_up, 1.0, 0.5]])) is None  # caller uses argsort
    np.testing.assert_array_equal(tie_kept_rank([one_up, 1.0, 0.5]), [5 / 6, 1 / 2, 1 / 6])


@pytest.mark.parametrize("kind", ["ties", "continuous", "constant"])
def test_sorted_rows_match_the_element_wise_transforms(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from kardashev.scoring.ranking import sort_rows

    rng = np.random.default_rng(11)
    n, m = 300, 6
    x = rng.integers(0, 7, (n, m)) / 6.0 if kind == "ties" else rng.normal(size=(n, m))
    if kind == "constant":
        x[:, 2] = 0.3
    reference = rng.normal(size=n)
    powered = tie_kept_rank_gauss_pow15(x)
    expected = [
        np.nan if np.ptp(powered[:, j]) == 0 else np.corrcoef(powered[:, j], reference)[0, 1]
        for j in range(m)
    ]
    for block_values in (n, 4 * n, 1 << 17):  # blocks of 1, 4 (the last one shorter) and all rows
        monkeypatch.setattr("kardashev.scoring.ranking._BLOCK_VALUES", block_values)
        gauss_references = np.column_stack([reference, reference**2])
        sorted_rows = sort_rows(  # a transposed view is accepted
            x.T, gauss=True, pow15_references=(reference, 2 * reference), gauss_references=gauss_references
        )
        assert sorted_rows is not None and sorted_rows.gauss is not None
        np.testing.assert_array_equal(sorted_rows.gauss, gaussianize(x).T)
        np.testing.assert_allclose(sorted_rows.gauss_dots, gaussianize(x).T @ gauss_references, atol=1e-12)
        np.testing.assert_array_equal(sorted_rows.constant_rows(), np.ptp(x, axis=0) == 0)
        np.testing.assert_allclose(sorted_rows.correlations[0], expected, atol=1e-13)
        np.testing.assert_allclose(sorted_rows.correlations[1], expected, atol=1e-13)
        halved = sort_rows(x.T * 2.0, pow15_references=(reference,), divisors=np.full(m, 2.0))
        assert halved is not None
        np.testing.assert_allclose(halved.correlations[0], expected, atol=1e-13)
    with_nan = x.T.copy()
    with_nan[0, 0] = np.nan
    assert sort_rows(with_nan) is None
    zero_row = x.T.copy()
    zero_row[1] = 0.0
    assert sort_rows(zero_row, divisors=np.zeros(m)) is None  # 0/0 is NaN
    assert sort_rows(x[:1].T) is None
