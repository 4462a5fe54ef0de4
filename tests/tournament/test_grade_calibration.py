"""Grades calibrated on planted nulls: overlapping targets, slowly drifting scores, many models.

References not written here: Student's one-sample t-test (scipy) for the EWC statistic with every
cosine, and planted null series (overlapping sums of shocks plus a persistent AR(1) drift, mean 0)
for the size of the whole grading procedure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kardashev.errors import ConfigError
from kardashev.tournament.grades import GradeConfig, ewc_t_statistic, grade_models

HORIZON, N_ERAS, N_NULL, N_REAL = 4, 52, 15, 5


def planted_season(rng: np.random.Generator, *, edge: float = 1.5) -> pd.DataFrame:
    """Per-era TC of ``N_NULL`` null models (mean 0) and ``N_REAL`` real ones (mean ``edge``)."""
    n_models = N_NULL + N_REAL
    shocks = rng.standard_t(5, size=(N_ERAS + HORIZON - 1, n_models))
    overlap = np.lib.stride_tricks.sliding_window_view(shocks, HORIZON, axis=0).sum(axis=-1) / 2.0
    drift = np.zeros((N_ERAS + 50, n_models))
    innovations = rng.standard_normal(drift.shape) * np.sqrt(1 - 0.9**2)
    for t in range(1, drift.shape[0]):
        drift[t] = 0.9 * drift[t - 1] + innovations[t]
    values = overlap + drift[50:]
    values[:, N_NULL:] += edge
    return pd.DataFrame(
        {
            "model": np.repeat([f"model_{k:02d}" for k in range(n_models)], N_ERAS),
            "era": np.tile([f"{t:04d}" for t in range(N_ERAS)], n_models),
            "tc": values.T.reshape(-1),
        }
    )


def type_iii_rates(config: GradeConfig, *, seasons: int = 60) -> tuple[float, float]:
    """Share of null models graded Type III and of real ones; the Type IV verdict is checked to be
    the same family (the fund's significant models are exactly the Type III ones)."""
    rng = np.random.default_rng(7)
    null_hits = real_hits = 0.0
    for _ in range(seasons):
        grades = grade_models(planted_season(rng), config=config)
        passed = np.array([grade.type_iii.significant for grade in grades.models])
        null_hits += passed[:N_NULL].mean()
        real_hits += passed[N_NULL:].mean()
        if config.family == "models":
            graded = tuple(grade.model for grade in grades.models if grade.type_iii.significant)
            assert grades.fund.significant_models == graded
            assert grades.fund.type_iv == (not graded)
    return null_hits / seasons, real_hits / seasons


def test_ewc_with_every_cosine_is_students_t_test() -> None:
    values = np.random.default_rng(1).normal(0.3, 1.0, 30)
    t, df = ewc_t_statistic(values, df=29)
    assert df == 29
    assert t == pytest.approx(stats.ttest_1samp(values, 0.0).statistic, rel=1e-10)


def test_ewc_is_sized_on_iid_series() -> None:
    rng = np.random.default_rng(2)
    p_values = []
    for _ in range(400):
        t, df = ewc_t_statistic(rng.standard_normal(N_ERAS), df=5)
        p_values.append(stats.t.sf(t, df=df))
    assert stats.kstest(p_values, "uniform").pvalue > 0.01


def test_noise_models_are_rarely_graded_type_iii_and_real_ones_sometimes_are() -> None:
    null_rate, real_rate = type_iii_rates(GradeConfig(target_horizon_eras=HORIZON))
    assert null_rate <= 0.05
    assert real_rate > 2 * null_rate and real_rate > 0.1


def test_the_uncorrected_tests_fail_that_calibration() -> None:
    """The previous grading (Newey–West with the overlap's lag, each model alone) over-rejects nulls."""
    old = GradeConfig(target_horizon_eras=HORIZON, lag=HORIZON - 1, method="newey_west", family="none")
    null_rate, _ = type_iii_rates(old)
    assert null_rate > 0.05


def test_bad_test_settings_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match="method"):
        GradeConfig(method="bootstrap")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="ewc_df"):
        GradeConfig(ewc_df=0)
    with pytest.raises(ConfigError, match="family"):
        GradeConfig(family="all")  # type: ignore[arg-type]
