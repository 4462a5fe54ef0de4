import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata

from kardashev.data.binning import bin_features, bin_targets, percentile_rank


def test_percentile_rank_hand_checked():
    assert np.allclose(percentile_rank(np.array([3.0, 1.0, 2.0, 2.0])), [0.875, 0.125, 0.5, 0.5])


def test_feature_bins_are_equal_quintiles():
    values = np.random.default_rng(0).normal(size=(1000, 3))
    binned = bin_features(values)
    assert binned.dtype == np.int8
    for column in binned.T:
        assert np.bincount(column, minlength=5).tolist() == [200] * 5


def test_target_bins_are_5_20_50_20_5_percent():
    values = np.random.default_rng(1).standard_t(3, size=2000)
    binned = bin_targets(values)
    shares = [np.mean(binned == v) for v in (0, 0.25, 0.5, 0.75, 1)]
    assert np.allclose(shares, [0.05, 0.20, 0.50, 0.20, 0.05])


def test_nan_features_are_refused():
    with pytest.raises(ValueError, match="NaN"):
        bin_features(np.array([1.0, np.nan, 2.0]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=5, max_size=200))
def test_binning_is_monotone_in_rank(values):
    x = np.array(values)
    binned = bin_features(x)
    ranks = rankdata(x)
    order = np.argsort(ranks, kind="stable")
    assert np.all(np.diff(binned[order]) >= 0)
    assert binned.min() >= 0 and binned.max() <= 4
