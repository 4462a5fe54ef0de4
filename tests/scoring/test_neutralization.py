"""Neutralization agrees with numpy's lstsq (numerai-tools' method), also when rank-deficient."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numerai_tools import scoring as nt

from kardashev.errors import InvalidInputError
from kardashev.scoring import neutralize, neutralizer_basis


def _lstsq_neutralize(values: np.ndarray, neutralizers: np.ndarray, proportion: float = 1.0) -> np.ndarray:
    augmented = np.hstack([neutralizers, np.ones((len(neutralizers), 1))])
    beta = np.linalg.lstsq(augmented, values, rcond=1e-6)[0]
    return values - proportion * augmented @ beta


@pytest.mark.parametrize(
    "kind", ["plain", "duplicated_column", "constant_column", "collinear", "wide", "scaled", "one_row_more"]
)
def test_matches_lstsq(kind: str) -> None:
    rng = np.random.default_rng(0)
    n = 50
    neutralizers = rng.integers(0, 5, (n, 6)).astype(float)
    if kind == "duplicated_column":
        neutralizers[:, 3] = neutralizers[:, 1]
    elif kind == "constant_column":
        neutralizers[:, 2] = 3.0
    elif kind == "collinear":
        neutralizers[:, 4] = 2 * neutralizers[:, 0] - neutralizers[:, 5] + 1
    elif kind == "wide":
        neutralizers = rng.normal(size=(n, 80))
    elif kind == "scaled":
        neutralizers = neutralizers * np.array([1e-3, 1, 1e3, 1, 1, 1e5])
    elif kind == "one_row_more":
        neutralizers = rng.normal(size=(8, 7))
        n = 8
    values = rng.normal(size=(n, 3))
    np.testing.assert_allclose(
        neutralize(values, neutralizers), _lstsq_neutralize(values, neutralizers), atol=1e-9
    )
    np.testing.assert_allclose(
        neutralize(values, neutralizers, proportion=0.3),
        _lstsq_neutralize(values, neutralizers, 0.3),
        atol=1e-9,
    )


def test_ill_conditioned_neutralizers_fall_back_to_truncation() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=(60, 3))
    nearly = np.column_stack([base, base[:, 0] + 1e-9 * rng.normal(size=60)])  # σ_min/σ_max ≪ 1e-6
    values = rng.normal(size=(60, 2))
    np.testing.assert_allclose(neutralize(values, nearly), _lstsq_neutralize(values, nearly), atol=1e-8)


def test_basis_is_reusable_and_one_dimensional_input() -> None:
    rng = np.random.default_rng(2)
    features = rng.integers(0, 5, (40, 4)).astype(float)
    basis = neutralizer_basis(features)
    values = rng.normal(size=(40, 5))
    np.testing.assert_allclose(neutralize(values, basis), neutralize(values, features), atol=1e-12)
    np.testing.assert_allclose(neutralize(values[:, 1], basis), neutralize(values, basis)[:, 1], atol=1e-12)
    frame = pd.DataFrame(values)
    np.testing.assert_allclose(
        neutralize(values, features), nt.neutralize(frame, pd.DataFrame(features)), atol=1e-9
    )


def test_errors() -> None:
    rng = np.random.default_rng(3)
    with pytest.raises(InvalidInputError, match="NaN"):
        neutralize(np.array([1.0, np.nan, 2.0]), rng.normal(size=(3, 1)))
    with pytest.raises(InvalidInputError, match="NaN"):
        neutralize(np.array([1.0, 0.0, 2.0]), np.array([[1.0], [np.nan], [0.0]]))
    with pytest.raises(InvalidInputError, match="rows"):
        neutralize(np.ones(4), neutralizer_basis(rng.normal(size=(5, 2))))


def test_fast_path_for_ordinary_features_exact_path_when_lstsq_truncates() -> None:
    rng = np.random.default_rng(4)
    features = rng.integers(0, 5, (500, 30)).astype(float)
    assert neutralizer_basis(features).with_mean  # Cholesky of the small Gram matrix
    duplicated = np.column_stack([features, features[:, :1]])
    assert not neutralizer_basis(duplicated).with_mean  # lstsq would cut a direction: exact SVD path
    badly_scaled = features * np.logspace(-4, 4, 30)
    assert not neutralizer_basis(badly_scaled).with_mean


def test_small_integer_gram_is_exact_and_refused_when_it_could_round() -> None:
    from kardashev.scoring.neutralization import _small_integer_gram

    rng = np.random.default_rng(5)
    features = rng.integers(0, 5, (3000, 40))
    sums, gram = _small_integer_gram(features.astype(float))
    np.testing.assert_array_equal(sums, features.sum(axis=0))
    np.testing.assert_array_equal(gram, features.T.astype(np.int64) @ features)
    signed = rng.integers(-3, 4, (200, 7))
    np.testing.assert_array_equal(_small_integer_gram(signed.astype(float))[1], signed.T @ signed)
    fractional = features.astype(float)
    fractional[7, 3] = 2.5
    assert _small_integer_gram(fractional) is None
    out_of_int8 = features.astype(float)
    out_of_int8[0, 0] = 300.0
    assert _small_integer_gram(out_of_int8) is None
    with_nan = features.astype(float)
    with_nan[1, 1] = np.nan
    assert _small_integer_gram(with_nan) is None
    # n·M² = 2000·100² ≥ 2²⁴: a float32 partial sum could round
    large = rng.integers(0, 101, (2000, 3)).astype(float)
    large[0, 0] = 100.0
    assert _small_integer_gram(large) is None
    assert _small_integer_gram(large[:1600]) is not None  # 1600·100² < 2²⁴


@pytest.mark.parametrize("kind", ["integer", "float", "integer_collinear"])
def test_fast_paths_match_lstsq_and_residual_rows_may_overwrite(kind: str) -> None:
    rng = np.random.default_rng(6)
    n, k = 400, 25
    neutralizers = rng.integers(0, 5, (n, k)).astype(float)
    if kind == "float":
        neutralizers += rng.normal(scale=0.1, size=(n, k))
    elif kind == "integer_collinear":
        neutralizers[:, 4] = neutralizers[:, 2]
    basis = neutralizer_basis(neutralizers)
    assert (basis.centers is not None) == (kind == "integer")
    assert basis.with_mean == (kind != "integer_collinear")
    values = rng.normal(size=(n, 9))
    expected = _lstsq_neutralize(values, neutralizers)
    np.testing.assert_allclose(neutralize(values, basis), expected, atol=1e-11)
    rows = np.ascontiguousarray(values.T)
    residual = basis.residual_rows(rows)
    np.testing.assert_allclose(residual, expected.T, atol=1e-11)
    np.testing.assert_array_equal(rows, values.T)  # not overwritten by default
    overwritten = basis.residual_rows(rows, overwrite=True)
    np.testing.assert_allclose(overwritten, residual, atol=1e-13)
