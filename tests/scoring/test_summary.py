"""Summary statistics on hand-checkable series and against brute-force formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kardashev.errors import InvalidInputError
from kardashev.scoring import (
    DIAGNOSTIC_KEYS,
    apy,
    autocorrelation,
    diagnostics,
    hit_rate,
    max_drawdown,
    max_drawdown_compounded,
    newey_west_t_statistic,
    sharpe_ratio,
    smart_sharpe,
    summarize,
    summarize_series,
)


def test_hand_checked_statistics() -> None:
    scores = [1.0, -1.0, 2.0, 0.0]
    # mean 0.5; deviations ±0.5, ±1.5 → variance (0.25+2.25+2.25+0.25)/4 = 1.25
    assert sharpe_ratio(scores) == pytest.approx(0.5 / math.sqrt(1.25))
    # cumulative sum 1, 0, 2, 2: the worst fall from a peak is 1 → 0
    assert max_drawdown(scores) == -1.0
    # value 1.1, 0.99, 1.188, 1.188: worst relative fall (1.1 - 0.99) / 1.1 = 0.1
    assert max_drawdown_compounded([0.1, -0.1, 0.2, 0.0]) == pytest.approx(-0.1)
    assert hit_rate(scores) == 0.5
    # lag-1 pairs (1,-1), (-1,2), (2,0)
    assert autocorrelation(scores) == pytest.approx(np.corrcoef([1, -1, 2], [-1, 2, 0])[0, 1])
    assert apy([0.01] * 52) == pytest.approx(1.01**52 - 1)
    assert apy([0.01] * 26, eras_per_year=52) == pytest.approx(1.01**52 - 1)


def test_nan_eras_are_skipped_and_degenerate_series_give_nan() -> None:
    assert sharpe_ratio([0.1, np.nan, 0.3]) == pytest.approx(sharpe_ratio([0.1, 0.3]))
    assert math.isnan(sharpe_ratio([0.2, 0.2]))
    assert math.isnan(sharpe_ratio([]))
    assert math.isnan(autocorrelation([1.0, 2.0]))
    assert math.isnan(smart_sharpe([1.0, 2.0]))


def test_smart_sharpe_matches_its_formula() -> None:
    scores = np.array([0.02, 0.03, -0.01, 0.04, 0.01, 0.0, 0.05])
    n = len(scores)
    rho = abs(np.corrcoef(scores[:-1], scores[1:])[0, 1])
    penalty = math.sqrt(1 + 2 * sum((n - i) / n * rho**i for i in range(1, n)))
    assert smart_sharpe(scores) == pytest.approx(scores.mean() / (scores.std(ddof=1) * penalty))


def _brute_force_newey_west(scores: np.ndarray, lag: int) -> float:
    """Var(mean) = (1/n²) Σ_s Σ_t w(|s-t|) d_s d_t with Bartlett weights w(k) = 1 - k/(lag+1)."""
    n = len(scores)
    deviations = scores - scores.mean()
    distance = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    weights = np.where(distance <= lag, 1 - distance / (lag + 1), 0.0)
    variance_of_mean = deviations @ weights @ deviations / n**2
    return scores.mean() / math.sqrt(variance_of_mean)


@pytest.mark.parametrize("lag", [0, 1, 3, 7])
def test_newey_west_matches_brute_force(lag: int) -> None:
    rng = np.random.default_rng(lag)
    noise = rng.normal(0.01, 0.03, 80)
    overlapping = np.convolve(noise, np.ones(4) / 4, mode="valid")  # 4-era overlapping targets
    assert newey_west_t_statistic(overlapping, lag=lag) == pytest.approx(
        _brute_force_newey_west(overlapping, lag)
    )


def test_newey_west_lag_zero_is_the_plain_t_statistic_and_overlap_shrinks_it() -> None:
    rng = np.random.default_rng(1)
    scores = rng.normal(0.01, 0.03, 200)
    plain = scores.mean() / (scores.std() / math.sqrt(len(scores)))
    assert newey_west_t_statistic(scores, lag=0) == pytest.approx(plain)
    overlapping = np.convolve(rng.normal(0.005, 0.03, 203), np.ones(4) / 4, mode="valid")
    naive = newey_west_t_statistic(overlapping, lag=0)
    corrected = newey_west_t_statistic(overlapping, lag=3)
    assert abs(corrected) < abs(naive)
    with pytest.raises(InvalidInputError):
        newey_west_t_statistic(scores, lag=-1)


def _per_era_table() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    eras = [f"{i:04d}" for i in range(1, 21)]
    rows = []
    for era in eras:
        for model, skill in (("good", 0.03), ("bad", -0.01)):
            rows.append(
                {
                    "era": era,
                    "model": model,
                    "corr": skill + rng.normal(0, 0.02),
                    "mmc": skill / 2 + rng.normal(0, 0.01),
                    "fnc": skill + rng.normal(0, 0.02),
                    "feature_exposure_max": abs(rng.normal(0.1, 0.02)),
                }
            )
    return pd.DataFrame(rows)


def test_summarize_per_model_and_metric() -> None:
    table = _per_era_table()
    summary = summarize(table, target_horizon_eras=4)
    assert list(summary.index) == ["good", "bad"]
    good = table[table["model"] == "good"]["corr"].to_numpy()
    expected = summarize_series(good, lag=3)
    assert summary.loc["good", "corr_mean"] == pytest.approx(good.mean())
    assert summary.loc["good", "corr_std"] == pytest.approx(good.std())
    assert summary.loc["good", "corr_t_statistic"] == pytest.approx(expected.t_statistic)
    assert summary.loc["good", "corr_t_statistic"] == pytest.approx(newey_west_t_statistic(good, lag=3))
    assert summary.loc["good", "corr_n_eras"] == 20
    explicit = summarize(table, lag=0)
    assert explicit.loc["good", "corr_t_statistic"] == pytest.approx(newey_west_t_statistic(good, lag=0))


def test_summarize_rejects_bad_tables() -> None:
    with pytest.raises(InvalidInputError, match="lacks column"):
        summarize(pd.DataFrame({"model": ["a"], "corr": [0.1]}))
    with pytest.raises(InvalidInputError, match="unknown metric"):
        summarize(_per_era_table(), metrics=["tc"])
    with pytest.raises(InvalidInputError, match="target_horizon_eras"):
        summarize(_per_era_table(), target_horizon_eras=0)


def test_diagnostics_use_numerapi_names() -> None:
    table = _per_era_table()
    report = diagnostics(table)
    good = report["good"]
    summary = summarize(table.assign(corr_plus_mmc=table["corr"] + table["mmc"]))
    for key in (
        "validationCorrMean",
        "validationCorrSharpe",
        "validationMmcMean",
        "validationFeatureNeutralCorrMean",
        "validationMaxDrawdown",
        "validationFeatureCorrMax",
        "validationCorrPlusMmcSharpe",
    ):
        metric, statistic = DIAGNOSTIC_KEYS[key]
        assert good[key] == pytest.approx(summary.loc["good", f"{metric}_{statistic}"]), key
    assert good["validationMaxDrawdown"] <= 0
    assert "validationBmcMean" not in good  # no benchmark was scored
    assert good["validationCorrTStat"] == pytest.approx(summary.loc["good", "corr_t_statistic"])
