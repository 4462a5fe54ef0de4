"""The signals' mean correlation matches numpy's per-era correlation averaged by hand."""

from __future__ import annotations

import numpy as np
import pytest

from kardashev.demo.signals import SignalCorrelation
from kardashev.errors import InvalidInputError


def test_mean_of_per_era_correlations() -> None:
    rng = np.random.default_rng(0)
    eras = [rng.normal(size=(50, 4)) for _ in range(3)]
    eras[1][:, 3] = eras[1][:, 0] * 2 + 1  # perfectly correlated in one era
    likeness = SignalCorrelation(4)
    for era in eras:
        likeness.add(era)
    expected = np.mean([np.corrcoef(era, rowvar=False) for era in eras], axis=0)
    np.testing.assert_allclose(likeness.matrix(), expected, atol=1e-12)


def test_constant_signal_is_skipped_not_poisoning_the_mean() -> None:
    likeness = SignalCorrelation(2)
    first = np.column_stack([np.arange(5.0), np.arange(5.0)])
    likeness.add(first)
    likeness.add(np.column_stack([np.arange(5.0), np.ones(5)]))  # model 1 constant in era 2
    np.testing.assert_allclose(likeness.matrix()[0, 1], 1.0)
    with pytest.raises(InvalidInputError, match="predictions must be"):
        likeness.add(np.zeros((5, 3)))
