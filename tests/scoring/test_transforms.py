"""Array core of the numerai-tools helpers: ranks, transforms and neutral churn on plain arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numerai_tools import scoring as nt
from numerai_tools import signals as nts

from kardashev.errors import AlignmentError, InvalidInputError
from kardashev.scoring import neutral_churn, neutral_churn_penalty, neutral_signal, transforms


def _matrix(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = np.column_stack([rng.random(60), rng.integers(0, 4, 60) / 3, np.full(60, 0.5)])
    values[rng.choice(60, 5, replace=False), 0] = np.nan
    return values


@pytest.mark.parametrize("method", transforms.RANK_METHODS)
def test_rank_methods_match_pandas_column_by_column(method: str) -> None:
    values = _matrix(0)
    expected = pd.DataFrame(values).apply(lambda s: (s.rank(method=method) - 0.5) / s.count()).to_numpy()
    np.testing.assert_allclose(transforms.rank(values, method=method), expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(transforms.rank(values[:, 0], method=method), expected[:, 0], atol=1e-15)
    with pytest.raises(InvalidInputError):
        transforms.rank(values, method="ordinal")  # type: ignore[arg-type]


def test_normalizations_skip_nan_as_pandas_does() -> None:
    values = _matrix(1)
    frame = pd.DataFrame(values)
    for ours, reference in (
        (transforms.center, lambda f: f - f.mean()),
        (transforms.min_max_normalize, lambda f: (f - f.min()) / (f.max() - f.min())),
        (transforms.weight_normalize, lambda f: f / f.abs().sum(axis=0)),
        (transforms.variance_normalize, lambda f: f / f.std(ddof=0)),
    ):
        np.testing.assert_allclose(ours(values), reference(frame).to_numpy(), rtol=0, atol=1e-12)
    before = values.copy()
    transforms.standardize(values)
    np.testing.assert_array_equal(values, before)  # inputs are not modified


def test_gaussian_is_scipy_norm_ppf_of_raw_values() -> None:
    values = np.array([0.0, 1e-300, 0.3, 0.5, 1.0, -0.1, 1.1, np.nan])
    frame = pd.DataFrame({"x": values}, index=[f"i{k}" for k in range(values.size)])
    np.testing.assert_array_equal(transforms.gaussian(values), nt.gaussian(frame)["x"].to_numpy())


def test_neutral_churn_core_matches_numerai_tools_on_aligned_rows() -> None:
    rng = np.random.default_rng(2)
    n = 120
    ids = pd.Index([f"T{i:03d}" for i in range(n)])
    first, second = rng.random(n), np.round(rng.random(n) * 5) / 5
    second[[4, 9]] = np.nan
    n1, n2 = rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
    expected = nts.neutral_churn(
        pd.Series(first, index=ids, name="a"),
        pd.Series(second, index=ids, name="b"),
        pd.DataFrame(n1, index=ids),
        pd.DataFrame(n2, index=ids),
    )
    assert neutral_churn(first, second, n1, n2) == pytest.approx(expected, abs=1e-12)
    assert np.isnan(neutral_signal(second, n2)[[4, 9]]).all()
    with pytest.raises(AlignmentError):
        neutral_churn(np.full(n, 0.5), second, n1, n2)  # a constant signal neutralizes to NaN


def test_neutral_churn_penalty_array_equals_scalars() -> None:
    churns = np.array([0.0, 0.1, 0.15, 0.5, 2.0])
    kept = neutral_churn_penalty(churns)
    assert kept.tolist() == pytest.approx([nts.neutral_churn_penalty(c) for c in churns], abs=1e-15)
    assert neutral_churn_penalty(0.3, 0.1, 1e6) == nts.neutral_churn_penalty(0.3, 0.1, 1e6)
    with pytest.raises(InvalidInputError):
        neutral_churn_penalty(np.array([0.1, np.nan]))
