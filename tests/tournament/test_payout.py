"""Payout rule: hand-checked amounts, rounding toward zero, caps, payout factor, churn rule."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kardashev.errors import ConfigError, InvalidInputError
from kardashev.tournament.payout import (
    FRACTION_SCALE,
    UNITS_PER_TOKEN,
    ChurnRule,
    PayoutConfig,
    compute_payouts,
    max_churn_and_turnover,
    payout_factor,
)

TOKEN = UNITS_PER_TOKEN


def test_classic_default_rule_by_hand():
    config = PayoutConfig()
    assert dict(config.score_multipliers) == {"corr": 0.5, "mmc": 2.0} and config.cap == 0.05
    stakes = np.array([1000 * TOKEN, 1000 * TOKEN, 200 * TOKEN])
    scores = {"corr": [0.02, -0.04, 0.2], "mmc": [0.01, 0.0, -0.01]}
    result = compute_payouts(stakes, scores, config=config)
    # 0.5·0.02 + 2·0.01 = 0.03 → 30 tokens; 0.5·(−0.04) = −0.02 → −20 tokens;
    # 0.5·0.2 − 2·0.01 = 0.08, capped at 0.05 → 10 tokens.
    assert result.payouts.tolist() == [30 * TOKEN, -20 * TOKEN, 10 * TOKEN]
    np.testing.assert_allclose(result.payout_fraction, [0.03, -0.02, 0.05])
    assert result.payout_factor == 1.0 and result.total_at_risk == 2200 * TOKEN
    assert result.total_minted == 40 * TOKEN and result.total_burned == 20 * TOKEN
    assert result.scored.all() and not result.churn_violation.any()


def test_cap_is_symmetric():
    config = PayoutConfig(score_multipliers={"TC": 1.0}, cap=0.05)
    result = compute_payouts([100 * TOKEN] * 2, {"tc": [3.0, -3.0]}, config=config)
    assert result.payouts.tolist() == [5 * TOKEN, -5 * TOKEN]


def test_payout_factor_scales_down_above_threshold():
    assert payout_factor(1000, None) == 1.0
    assert payout_factor(0, 10) == 1.0
    assert payout_factor(800, 1000) == 1.0
    assert payout_factor(4000, 1000) == 0.25
    config = PayoutConfig(payout_threshold=500 * TOKEN)
    stakes = [600 * TOKEN, 400 * TOKEN]
    result = compute_payouts(stakes, {"corr": [0.02, 0.02], "mmc": [0.01, -0.02]}, config=config)
    # factor 500/1000 = 0.5; fractions 0.5·0.03 = 0.015 and 0.5·(−0.03) = −0.015.
    assert result.payout_factor == 0.5
    assert result.payouts.tolist() == [9 * TOKEN, -6 * TOKEN]
    explicit = compute_payouts(
        stakes, {"corr": [0.02, 0.02], "mmc": [0.01, -0.02]}, config=config, total_at_risk=0
    )
    assert explicit.payout_factor == 1.0 and explicit.payouts.tolist() == [18 * TOKEN, -12 * TOKEN]


def test_rounding_is_toward_zero_in_units():
    config = PayoutConfig(score_multipliers={"corr": 1.0})
    stakes = [3, 7, 99, 1_000_001, 1_000_001]
    scores = {"corr": [0.05, -0.05, 0.0101, 0.03, -0.03]}
    result = compute_payouts(stakes, scores, config=config)
    # 0.15 → 0, −0.35 → 0, 0.9999 → 0, 30000.03 → 30000, −30000.03 → −30000
    assert result.payouts.tolist() == [0, 0, 0, 30_000, -30_000]


def test_huge_stakes_do_not_overflow():
    config = PayoutConfig(score_multipliers={"corr": 1.0})
    result = compute_payouts(np.array([10**18, 2**62]), {"corr": [0.05, 0.03]}, config=config)
    assert result.payouts.tolist() == [5 * 10**16, (2**62 * 3) // 100]


def test_missing_score_means_no_payout_and_no_burn():
    config = PayoutConfig(score_multipliers={"corr": 0.5, "tc": 2.0, "fnc": 0.0})
    scores = pd.DataFrame({"CORR": [0.02, np.nan, 0.02], "TC": [0.01, 0.01, -0.2], "FNC": [np.nan, 0.1, 0.1]})
    result = compute_payouts([TOKEN * 10] * 3, scores, config=config)
    assert result.scored.tolist() == [True, False, True]  # NaN FNC does not matter: multiplier 0
    assert result.payouts.tolist() == [TOKEN * 10 * 3 // 100, 0, -TOKEN * 10 * 5 // 100]
    assert np.isnan(result.combined_score[1]) and result.payout_fraction[1] == 0.0
    frame = result.to_frame(["a", "b", "c"])
    assert frame.loc["b", "payout"] == 0 and not frame.loc["b", "scored"]


def test_churn_rule_sets_stake_at_risk_to_zero():
    config = PayoutConfig(score_multipliers={"mpc": 2.0}, churn_rule=ChurnRule())
    stakes = [100 * TOKEN] * 5
    scores = {"mpc": [0.01] * 5}
    result = compute_payouts(
        stakes,
        scores,
        config=config,
        max_churn=[0.10, 0.15, np.nan, 0.2, 0.149],
        max_turnover=[0.30, 0.0, np.nan, np.nan, 0.249],
    )
    # turnover ≥ 0.25, churn ≥ 0.15 (boundary included), no history, churn, just below both
    assert result.churn_violation.tolist() == [True, True, False, True, False]
    assert result.stakes_at_risk.tolist() == [0, 0, 100 * TOKEN, 0, 100 * TOKEN]
    assert result.payouts.tolist() == [0, 0, 2 * TOKEN, 0, 2 * TOKEN]
    assert result.total_at_risk == 200 * TOKEN
    # Without a churn rule in the configuration the measurements are ignored.
    plain = compute_payouts(
        stakes, scores, config=PayoutConfig(score_multipliers={"mpc": 2.0}), max_churn=[1.0] * 5
    )
    assert plain.payouts.tolist() == [2 * TOKEN] * 5


def test_neutral_churn_penalty_scales_positive_payouts_only():
    from numerai_tools.signals import neutral_churn_penalty

    rule = ChurnRule(max_churn=2.0, max_turnover=10.0, neutral_churn_threshold=0.1)
    config = PayoutConfig(score_multipliers={"mpc": 1.0}, churn_rule=rule)
    stakes = [1000 * TOKEN] * 4
    churns = [0.05, 0.2, np.nan, 0.2]
    result = compute_payouts(stakes, {"mpc": [0.02, 0.02, 0.02, -0.02]}, config=config, neutral_churn=churns)
    kept = [neutral_churn_penalty(c) for c in (0.05, 0.2, 1.0)]  # NaN: nothing compared, counts as 1.0
    expected = [int(1000 * TOKEN * round(0.02 * k, 12)) for k in kept] + [-20 * TOKEN]
    assert [abs(a - b) <= 1 for a, b in zip(result.payouts.tolist(), expected, strict=True)] == [True] * 4
    assert result.payouts[0] == 20 * TOKEN and result.payouts[3] == -20 * TOKEN  # burns are not reduced
    assert PayoutConfig.from_dict(config.to_dict()).churn_rule == rule
    with pytest.raises(ConfigError):
        ChurnRule(neutral_churn_threshold=2.5)
    with pytest.raises(ConfigError):
        ChurnRule(neutral_churn_scaling_factor=0.0)


def test_configuration_is_checked_normalized_and_round_trips():
    config = PayoutConfig(score_multipliers={"CORR": 0.5, "Tc": 2}, cap=0.1, payout_threshold=10.0)
    assert dict(config.score_multipliers) == {"corr": 0.5, "tc": 2.0}
    assert config.payout_threshold == 10 and config.scores_used == ("corr", "tc")
    assert PayoutConfig.from_dict(config.to_dict()) == config
    assert hash(PayoutConfig.from_dict(config.to_dict())) == hash(config)
    with_rule = PayoutConfig(churn_rule=ChurnRule(max_churn=0.2))
    assert PayoutConfig.from_dict(with_rule.to_dict()).churn_rule == ChurnRule(max_churn=0.2)
    with pytest.raises(TypeError):
        config.score_multipliers["corr"] = 9.0  # type: ignore[index]
    for bad in (
        {"score_multipliers": {"sharpe": 1.0}},
        {"score_multipliers": {}},
        {"score_multipliers": {"corr": math.nan}},
        {"score_multipliers": {"corr": 1, "CORR": 2}},
        {"cap": 0.0},
        {"cap": 1.5},
        {"payout_threshold": 0},
        {"payout_threshold": 2.5},
    ):
        with pytest.raises(ConfigError):
            PayoutConfig(**bad)
    with pytest.raises(ConfigError):
        ChurnRule(lookback=0)
    with pytest.raises(ConfigError):
        PayoutConfig.from_dict({"cap": 0.05, "multiplier": 1})


def test_bad_inputs_raise_clear_errors():
    config = PayoutConfig()
    with pytest.raises(InvalidInputError, match="'mmc'"):
        compute_payouts([TOKEN], {"corr": [0.1]}, config=config)
    with pytest.raises(InvalidInputError, match="negative"):
        compute_payouts([-1], {"corr": [0.1], "mmc": [0.0]}, config=config)
    with pytest.raises(InvalidInputError, match="integer units"):
        compute_payouts([1.5], {"corr": [0.1], "mmc": [0.0]}, config=config)
    with pytest.raises(InvalidInputError, match="shape"):
        compute_payouts([1, 2], {"corr": [0.1], "mmc": [0.0]}, config=config)
    with pytest.raises(InvalidInputError, match="twice"):
        compute_payouts([1], {"corr": [0.1], "CORR": [0.5], "mmc": [0.0]}, config=config)
    with pytest.raises(InvalidInputError, match="negative"):
        payout_factor(-1, 10)
    empty = compute_payouts(np.zeros(0, dtype=np.int64), {"corr": [], "mmc": []}, config=config)
    assert empty.payouts.shape == (0,) and empty.total_minted == 0 and empty.payout_factor == 1.0


@settings(max_examples=200, deadline=None)
@given(
    stakes=st.lists(st.integers(min_value=0, max_value=10**15), min_size=1, max_size=8),
    corr=st.lists(st.floats(min_value=-1, max_value=1), min_size=8, max_size=8),
    mmc=st.lists(st.floats(min_value=-1, max_value=1), min_size=8, max_size=8),
    threshold=st.one_of(st.none(), st.integers(min_value=1, max_value=10**16)),
)
def test_payouts_match_exact_rational_arithmetic(stakes, corr, mmc, threshold):
    n = len(stakes)
    config = PayoutConfig(payout_threshold=threshold)
    result = compute_payouts(np.array(stakes), {"corr": corr[:n], "mmc": mmc[:n]}, config=config)
    factor = 1.0 if threshold is None or sum(stakes) <= threshold else threshold / sum(stakes)
    for k, stake in enumerate(stakes):
        fraction = min(max(factor * (0.5 * corr[k] + 2.0 * mmc[k]), -0.05), 0.05)
        grid = Fraction(round(fraction * FRACTION_SCALE), FRACTION_SCALE)
        exact = stake * grid
        payout = int(result.payouts[k])
        assert abs(payout) <= abs(exact) < abs(payout) + 1  # truncated toward zero
        assert payout == 0 or (payout > 0) == (exact > 0)
        assert abs(payout) <= stake * Fraction(5, 100)


def test_max_churn_and_turnover_against_scipy_spearman_and_by_hand():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    tickers = [f"T{i}" for i in range(30)]
    current = pd.Series(rng.normal(size=30), index=tickers)
    close = current + rng.normal(scale=0.1, size=30)
    far = pd.Series(rng.normal(size=30), index=tickers)
    shifted = far.iloc[5:]  # covers fewer tickers: compared on the common ones
    rule = ChurnRule(lookback=2)
    max_churn, max_turnover = max_churn_and_turnover(current, [close, shifted, far * 0 + 9], rule=rule)
    expected = 1 - spearmanr(current.iloc[5:], far.iloc[5:]).statistic  # the third is beyond the lookback
    assert max_churn == pytest.approx(expected) and math.isnan(max_turnover)
    # nothing to compare with: churn 1.0, numerai-tools' value for a first submission
    first_churn, first_turnover = max_churn_and_turnover(current, [], rule=rule)
    assert first_churn == 1.0 and math.isnan(first_turnover)  # no weights given: turnover not evaluated
    # A constant earlier signal cannot be compared: skipped rather than fatal.
    assert max_churn_and_turnover(current, [current * 0 + 0.5], rule=rule)[0] == 1.0

    weights = pd.Series([0.5, -0.5, 0.0], index=["a", "b", "c"])
    earlier = [pd.Series([0.25, -0.25, 0.1], index=["a", "b", "d"])]
    _, turnover_value = max_churn_and_turnover(
        current, [close], rule=rule, current_weights=weights, previous_weights=earlier
    )
    # |0.5 − 0.25| + |−0.5 + 0.25| + |0 − 0| + |0 − 0.1| = 0.6 → 0.3 ("d" was traded out)
    assert turnover_value == pytest.approx(0.3)
