"""The closed-form one-dimensional minimizers against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from kardashev.portfolio.pieces import (
    AT_LOWER,
    AT_UPPER,
    KINK_HIGH,
    KINK_LOW,
    separable_minimizer,
    separable_x,
)


def brute_force(b, h, upper, x0, lam, cost):
    grid = np.linspace(-upper, upper, 100_001)
    values = 0.5 * h * grid**2 - b * grid + lam * np.abs(grid) + cost * np.abs(grid - x0)
    return grid[np.argmin(values)]


@pytest.mark.parametrize("cost", [0.0, 0.3])
def test_closed_form_matches_brute_force(cost):
    rng = np.random.default_rng(3)
    n = 40
    b = rng.normal(0, 2, n)
    h = rng.uniform(0.5, 2, n)
    upper = rng.uniform(0.5, 2, n)
    x0 = rng.normal(0, 1, n) if cost else np.zeros(n)
    lam = 0.4
    pieces = separable_minimizer(b, h, upper, x0, lam, cost)
    expected = np.array([brute_force(b[i], h[i], upper[i], x0[i], lam, cost) for i in range(n)])
    np.testing.assert_allclose(pieces.x, expected, atol=2 * 2 * upper.max() / 100_000)
    np.testing.assert_allclose(separable_x(b, h, upper, x0, lam, cost), pieces.x, rtol=0, atol=1e-13)
    assert np.all(np.abs(pieces.x) <= upper)


def test_piece_codes_and_margins():
    h, upper = np.ones(5), np.full(5, 2.0)
    x0 = np.array([0.0, 0.0, 0.0, 1.0, 0.0])
    b = np.array([0.3, 5.0, -5.0, 1.4, 2.5])  # zero, upper, lower, held at x0, free just below U
    pieces = separable_minimizer(b, h, upper, x0, 0.5, 0.25)
    assert pieces.piece[0] in (KINK_LOW, KINK_HIGH) and pieces.x[0] == 0
    assert pieces.piece[1] == AT_UPPER and pieces.x[1] == 2.0
    assert pieces.margin[1] == pytest.approx(5.0 - (2.0 + 0.75))  # the bound's multiplier
    assert pieces.piece[2] == AT_LOWER and pieces.x[2] == -2.0
    assert pieces.piece[3] == KINK_HIGH and pieces.x[3] == 1.0  # not traded: b inside [1.25, 1.75]
    assert pieces.margin[3] == pytest.approx(0.15)
    assert pieces.free[4] and pieces.x[4] == pytest.approx(2.5 - 0.75)
    assert pieces.margin[4] == pytest.approx(2.0 - 1.75)  # slack to the bound


def test_weak_bound_detected():
    pieces = separable_minimizer(np.array([3.0]), np.ones(1), np.array([2.0]), np.zeros(1), 1.0, 0.0)
    assert pieces.x[0] == 2.0
    assert abs(pieces.margin[0]) < 1e-15  # exactly at the bound with zero multiplier


def test_zero_kink_margin_is_the_whole_interval():
    # x0 = 0: the kink at zero spans b ∈ [−λ, λ]; a name with b = 0 is deep inside it
    pieces = separable_minimizer(np.array([0.0, 0.9]), np.ones(2), np.full(2, 5.0), np.zeros(2), 1.0, 0.0)
    assert np.all(pieces.x == 0)
    np.testing.assert_allclose(pieces.margin, [1.0, 0.1])
