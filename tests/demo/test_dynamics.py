"""Stake dynamics: total preserved, stake flows to the best recent score, hand-checkable cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kardashev.demo.dynamics import StakeDynamics, apply_payouts, reallocate_stakes, recent_mean_scores
from kardashev.errors import ConfigError, InvalidInputError


def test_softmax_reallocation_by_hand() -> None:
    stakes = np.array([10.0, 10.0, 0.0])
    scores = np.array([1.0, -1.0, 0.0])  # z-scores: ±1.2247, 0
    dynamics = StakeDynamics(fraction=0.5, temperature=1.0)
    z = (scores - scores.mean()) / scores.std()
    pi = np.exp(z) / np.exp(z).sum()
    expected = 0.5 * stakes + 0.5 * 20.0 * pi
    np.testing.assert_allclose(reallocate_stakes(stakes, scores, dynamics), expected, rtol=1e-12)


def test_unstaked_model_with_best_score_gains_stake() -> None:
    stakes = np.array([5.0, 5.0, 5.0, 0.0])
    scores = np.array([0.0, 0.01, -0.01, 0.05])
    new = reallocate_stakes(stakes, scores, StakeDynamics(fraction=0.2))
    gains = new - stakes
    assert gains[3] > 0 and np.argmax(gains) == 3  # the best recent score gains the most stake
    assert gains[2] < 0  # the worst loses stake
    assert np.isclose(new.sum(), stakes.sum())


def test_proportional_rule_gives_nothing_to_below_average() -> None:
    stakes = np.array([1.0, 1.0, 1.0])
    scores = np.array([3.0, 1.0, 2.0])
    new = reallocate_stakes(stakes, scores, StakeDynamics(fraction=1.0, rule="proportional"))
    np.testing.assert_allclose(new, [3.0, 0.0, 0.0])


def test_no_scores_or_no_fraction_leave_stakes_unchanged() -> None:
    stakes = np.array([1.0, 2.0, 3.0])
    assert np.array_equal(reallocate_stakes(stakes, np.full(3, np.nan), StakeDynamics()), stakes)
    assert np.array_equal(reallocate_stakes(stakes, np.arange(3.0), StakeDynamics(fraction=0.0)), stakes)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 1e6), min_size=2, max_size=30),
    st.floats(0, 1),
    st.floats(0.05, 5),
    st.integers(0, 2**31 - 1),
)
def test_reallocation_conserves_stake_and_stays_non_negative(stakes, fraction, temperature, seed) -> None:
    stakes = np.asarray(stakes)
    scores = np.random.default_rng(seed).normal(size=stakes.size)
    new = reallocate_stakes(stakes, scores, StakeDynamics(fraction=fraction, temperature=temperature))
    assert np.all(new >= 0)
    assert np.isclose(new.sum(), stakes.sum(), rtol=1e-9, atol=1e-6)


def test_recent_mean_ignores_nan_and_uses_window() -> None:
    history = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, 4.0]])
    np.testing.assert_allclose(recent_mean_scores(history, window=2), [2.5, 4.0])
    assert np.isnan(recent_mean_scores(history[:2], window=2)[1])


def test_payouts_clip_and_skip_nan() -> None:
    stakes = np.array([100.0, 100.0, 100.0])
    new = apply_payouts(stakes, np.array([0.5, -0.01, np.nan]), cap=0.05)
    np.testing.assert_allclose(new, [105.0, 99.0, 100.0])


def test_bad_inputs_raise_clear_errors() -> None:
    with pytest.raises(ConfigError, match="fraction"):
        StakeDynamics(fraction=1.5)
    with pytest.raises(ConfigError, match="rule"):
        StakeDynamics(rule="greedy")
    with pytest.raises(InvalidInputError, match="non-negative"):
        reallocate_stakes(np.array([-1.0, 2.0]), np.array([0.0, 1.0]), StakeDynamics())
    with pytest.raises(InvalidInputError, match="same length"):
        reallocate_stakes(np.array([1.0, 2.0]), np.array([0.0]), StakeDynamics())
