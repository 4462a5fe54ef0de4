"""Kardashev grades on planted series: real edges pass, noise does not, overlap is corrected for."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kardashev.errors import ConfigError, InvalidInputError
from kardashev.tournament.grades import (
    GradeConfig,
    adjust_p_values,
    grade_models,
    score_test,
    type_iv_test,
)

N_ERAS = 120


def centered_noise(seed: int, n: int = N_ERAS, scale: float = 0.02) -> np.ndarray:
    values = np.random.default_rng(seed).normal(0.0, scale, n)
    return values - values.mean()  # mean exactly 0: t = 0, p = 0.5


def overlapping(seed: int, mean: float, horizon: int = 4, n: int = N_ERAS) -> np.ndarray:
    """Scores of overlapping targets: each era sums the last ``horizon`` weekly shocks."""
    shocks = np.random.default_rng(seed).normal(0.0, 0.01, n + horizon - 1)
    return mean + np.convolve(shocks, np.ones(horizon), mode="valid")


def test_strong_positive_series_is_significant_and_noise_is_not():
    strong = 0.02 + centered_noise(1)
    test = score_test(strong, score="corr")
    assert test.significant and test.p_value < 1e-6 and test.n_eras == N_ERAS
    assert test.mean == pytest.approx(0.02)
    noise = score_test(centered_noise(2), score="corr")
    assert not noise.significant and noise.p_value == pytest.approx(0.5)
    negative = score_test(-0.02 + centered_noise(3), score="corr")  # one-sided: a negative edge fails
    assert not negative.significant and negative.p_value > 0.99


def test_p_value_is_student_t_of_the_newey_west_statistic():
    series = np.array([0.01, 0.03, -0.01, 0.02, 0.04, 0.0, 0.02, 0.01, -0.02, 0.03])
    config = GradeConfig(lag=0, min_eras=5, method="newey_west")
    test = score_test(series, score="corr", config=config)
    # lag 0: the plain t with the ddof-0 standard deviation
    by_hand = series.mean() / (series.std() / math.sqrt(series.size))
    assert test.t_statistic == pytest.approx(by_hand) and test.naive_t_statistic == pytest.approx(by_hand)
    assert test.p_value == pytest.approx(stats.t.sf(by_hand, df=series.size - 1))


def test_overlap_correction_makes_autocorrelated_series_less_significant():
    config = GradeConfig(target_horizon_eras=4, lag=3, method="newey_west")
    assert config.newey_west_lag == 3
    ratios = []
    for seed in range(5):
        test = score_test(overlapping(seed, mean=0.004), score="corr", config=config)
        assert test.t_statistic < test.naive_t_statistic
        ratios.append(test.t_statistic / test.naive_t_statistic)
    # Sums of 4 overlapping shocks inflate the variance of the mean by up to ~4: t shrinks by ~1/2.
    assert 0.4 < float(np.mean(ratios)) < 0.8
    # A series the naive test calls significant but the corrected one does not.
    found = False
    for seed in range(40):
        series = overlapping(seed, mean=0.003)
        corrected = score_test(series, score="corr", config=config)
        naive = score_test(series, score="corr", config=GradeConfig(lag=0, method="newey_west"))
        if naive.significant and not corrected.significant:
            found = True
            break
    assert found


def test_too_few_eras_and_constant_series():
    short = score_test([0.1, 0.2, 0.3], score="tc")
    assert short.n_eras == 3 and math.isnan(short.t_statistic) and not short.significant
    constant = score_test([0.01] * 10, score="tc")
    assert constant.significant and constant.p_value < 1e-12
    with_gaps = score_test([0.01, np.nan] * 10, score="tc", config=GradeConfig(min_eras=11))
    assert with_gaps.n_eras == 10 and not with_gaps.significant


def test_holm_and_benjamini_hochberg_by_hand():
    p = [0.01, 0.04, 0.03, 0.2, np.nan]
    holm = adjust_p_values(p, method="holm")
    np.testing.assert_allclose(holm[:4], [0.04, 0.09, 0.09, 0.2])
    assert math.isnan(holm[4])
    bh = adjust_p_values(p, method="bh")
    np.testing.assert_allclose(bh[:4], [0.04, 0.16 / 3, 0.16 / 3, 0.2])
    assert np.isnan(adjust_p_values([np.nan, np.nan])).all()
    with pytest.raises(InvalidInputError):
        adjust_p_values([0.5, 1.5])


def test_type_iv_corrects_for_many_models():
    # One p-value of 0.01 among 20 models is not significant after Holm (0.01·20 = 0.2) …
    p_values = {f"m{k}": 0.5 for k in range(19)} | {"lucky": 0.01}
    fund = type_iv_test(p_values)
    assert fund.type_iv and fund.significant_models == () and fund.n_tested == 20
    assert fund.adjusted_p_values["lucky"] == pytest.approx(0.2)
    # … but a strong one is, and then the fund is not Type IV.
    fund = type_iv_test(p_values | {"lucky": 1e-5})
    assert not fund.type_iv and fund.significant_models == ("lucky",)
    assert not type_iv_test({"a": np.nan}).type_iv  # nothing tested: no claim


def per_era_table() -> pd.DataFrame:
    frames = []
    plans = {
        "consensus": (0.02, 0.0, 0.0),  # predictive, but adds nothing after costs or to the fund
        "original": (0.0, 0.01, 0.01),  # low CORR, yet valuable: Type II and III
        "noise": (0.0, 0.0, 0.0),
    }
    for k, (model, (corr, true_return, tc)) in enumerate(plans.items()):
        frames.append(
            pd.DataFrame(
                {
                    "model": model,
                    "era": [f"{e:04d}" for e in range(N_ERAS)],
                    "corr": corr + centered_noise(10 + k),
                    "true_return": true_return + centered_noise(20 + k, scale=0.005),
                    "tc": tc + centered_noise(30 + k, scale=0.005),
                }
            )
        )
    return pd.concat(frames).sample(frac=1.0, random_state=1)


def test_grade_models_on_planted_crowd():
    grades = grade_models(per_era_table())
    by_model = {grade.model: grade for grade in grades.models}
    assert by_model["consensus"].types == ("I",) and by_model["consensus"].grade == 1
    assert by_model["original"].types == ("II", "III") and by_model["original"].grade == 3
    assert by_model["noise"].types == () and by_model["noise"].grade == 0
    assert not grades.fund.type_iv and grades.fund.significant_models == ("original",)
    frame = grades.to_frame()
    assert frame.loc["original", "type_iii"] and not frame.loc["consensus", "type_iii"]
    assert frame.loc["original", "tc_p_adjusted"] < 0.05 and frame.loc["noise", "grade"] == 0
    assert set(frame.columns) >= {"corr_t", "corr_naive_t", "true_return_p", "tc_mean", "types"}

    without_original = per_era_table().query("model != 'original'")
    assert grade_models(without_original).fund.type_iv


def test_era_order_matters_not_row_order_and_bad_tables():
    table = per_era_table()
    first = grade_models(table).to_frame()
    second = grade_models(table.sort_values(["era", "model"])).to_frame()
    pd.testing.assert_frame_equal(first.sort_index(), second.sort_index())
    only_corr = grade_models(table[["model", "era", "corr"]])
    assert all(grade.type_iii.n_eras == 0 for grade in only_corr.models)
    with pytest.raises(InvalidInputError, match="era"):
        grade_models(table.drop(columns=["era"]))
    with pytest.raises(InvalidInputError, match="score columns"):
        grade_models(table[["model", "era"]])
    with pytest.raises(InvalidInputError, match="twice"):
        grade_models(pd.concat([table, table.head(1)]))
    for bad in ({"significance": 0.0}, {"lag": -1}, {"min_eras": 1}, {"correction": "bonferroni"}):
        with pytest.raises(ConfigError):
            GradeConfig(**bad)
