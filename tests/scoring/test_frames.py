"""Every score agrees with numerai-tools 0.7.2 (to 1e-9) through the pandas wrappers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numerai_tools import scoring as nt
from numerai_tools import signals as nts

from kardashev.errors import AlignmentError, DataFormatError, InvalidInputError
from kardashev.scoring import frames

from .conftest import Case, make_case

TOLERANCE = 1e-9


def assert_series_close(ours: pd.Series, reference: pd.Series) -> None:
    assert list(ours.index) == list(reference.index)
    np.testing.assert_allclose(ours.to_numpy(), reference.to_numpy(dtype=float), rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("target_pow15", [True, False])
def test_numerai_corr(case: Case, target_pow15: bool) -> None:
    ours = frames.numerai_corr(case.predictions, case.targets, target_pow15=target_pow15)
    reference = nt.numerai_corr(case.predictions, case.targets, target_pow15=target_pow15)
    assert_series_close(ours, reference)


def test_numerai_corr_constant_column_is_nan() -> None:
    case = make_case(5, constant=True)
    ours = frames.numerai_corr(case.predictions, case.targets)
    assert_series_close(ours, nt.numerai_corr(case.predictions, case.targets))
    assert np.isnan(ours["constant"])


def test_correlation_contribution(case: Case) -> None:
    ours = frames.correlation_contribution(case.predictions, case.meta_model, case.targets)
    reference = nt.correlation_contribution(case.predictions, case.meta_model, case.targets)
    assert_series_close(ours, reference)


def test_correlation_contribution_constant_column() -> None:
    case = make_case(6, constant=True)
    ours = frames.correlation_contribution(case.predictions, case.meta_model, case.targets)
    assert_series_close(ours, nt.correlation_contribution(case.predictions, case.meta_model, case.targets))


def test_neutral_contribution(case: Case) -> None:
    ours = frames.neutral_contribution(case.predictions, case.meta_model, case.features, case.targets)
    reference = nt.neutral_contribution(case.predictions, case.meta_model, case.features, case.targets)
    assert_series_close(ours, reference)


def test_feature_neutral_corr(case: Case) -> None:
    predictions = case.predictions.dropna().sort_index()
    features = case.features.loc[predictions.index]
    ours = frames.feature_neutral_corr(predictions, features, case.targets)
    reference = nt.feature_neutral_corr(predictions, features, case.targets)
    assert_series_close(ours, reference)


def test_feature_neutral_corr_constant_column_is_an_error_as_numerai_tools_asserts() -> None:
    case = make_case(7, constant=True, nan=False)
    predictions = case.predictions.sort_index()
    features = case.features.loc[predictions.index]
    with pytest.raises(AssertionError):
        nt.feature_neutral_corr(predictions, features, case.targets)
    with pytest.raises(InvalidInputError, match="constant"):
        frames.feature_neutral_corr(predictions, features, case.targets)
    others = predictions.drop(columns="constant")
    assert_series_close(
        frames.feature_neutral_corr(others, features, case.targets),
        nt.feature_neutral_corr(others, features, case.targets),
    )


def test_neutral_correlation(case: Case) -> None:
    ours = frames.neutral_correlation(case.predictions, case.features, case.targets)
    reference = nt.neutral_correlation(case.predictions, case.features, case.targets)
    assert_series_close(ours, reference)


@pytest.mark.parametrize("proportion", [1.0, 0.5, 0.0])
def test_neutralize(case: Case, proportion: float) -> None:
    predictions = case.predictions.dropna()
    features = case.features.loc[predictions.index]
    ours = frames.neutralize(predictions, features, proportion)
    reference = nt.neutralize(predictions, features, proportion)
    np.testing.assert_allclose(ours.to_numpy(), reference.to_numpy(), rtol=0, atol=TOLERANCE)


def test_neutralize_constant_column_is_nan() -> None:
    case = make_case(8, constant=True, nan=False)
    ours = frames.neutralize(case.predictions, case.features)
    reference = nt.neutralize(case.predictions, case.features)
    np.testing.assert_allclose(ours.to_numpy(), reference.to_numpy(), rtol=0, atol=TOLERANCE)
    assert ours["constant"].isna().all()


def test_rank_transforms(case: Case) -> None:
    predictions = case.predictions.sort_index()
    np.testing.assert_array_equal(frames.tie_kept_rank(predictions), nt.tie_kept_rank(predictions))
    np.testing.assert_array_equal(frames.gaussianize(predictions), nt.gaussian(nt.tie_kept_rank(predictions)))
    np.testing.assert_array_equal(frames.gaussian(predictions), nt.gaussian(predictions))
    clean = predictions.dropna()
    np.testing.assert_array_equal(
        frames.tie_kept_rank__gaussianize__pow_1_5(clean), nt.tie_kept_rank__gaussianize__pow_1_5(clean)
    )


def test_max_feature_correlation_and_exposures(case: Case) -> None:
    predictions = case.predictions.dropna().sort_index()
    features = case.features.loc[predictions.index]
    for column in predictions.columns:
        name, value = frames.max_feature_correlation(predictions[column], features)
        reference_name, reference_value = nt.max_feature_correlation(predictions[column], features)
        assert name == reference_name
        assert abs(value - reference_value) < TOLERANCE
    exposures = frames.feature_exposures(predictions, features)
    expected = features.apply(lambda f: predictions.corrwith(f))
    np.testing.assert_allclose(exposures.to_numpy(), expected.to_numpy().T, atol=TOLERANCE)


def test_pairwise_correlations_match_pandas(case: Case) -> None:
    ours = frames.pairwise_correlations(case.predictions)
    np.testing.assert_allclose(ours.to_numpy(), case.predictions.dropna().corr().to_numpy(), atol=TOLERANCE)


def test_stake_weight(case: Case) -> None:
    stakes = pd.Series([3.0, 1.0, 0.5], index=["signal", "continuous", "tied"])
    ours = frames.stake_weight(case.predictions, stakes)
    reference = nt.stake_weight(case.predictions, stakes)
    np.testing.assert_allclose(ours.to_numpy(), reference.to_numpy(), rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("top_bottom", [None, 10])
def test_churn_and_turnover(top_bottom: int | None) -> None:
    rng = np.random.default_rng(11)
    ids = [f"t{i:03d}" for i in range(120)]
    first = pd.Series(rng.random(120), index=ids)
    second = first + rng.normal(scale=0.2, size=120)
    second.iloc[:5] = np.nan
    if top_bottom is None:
        assert abs(frames.churn(first, second) - nts.churn(first, second)) < TOLERANCE
        assert abs(frames.turnover(first, second) - nts.turnover(first, second)) < TOLERANCE
    else:
        clean = second.dropna()
        ours = frames.churn(first, clean, top_bottom=top_bottom)
        assert abs(ours - nts.churn(first, clean, top_bottom=top_bottom)) < TOLERANCE


def _signals_inputs(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    n = 150
    ids = [f"T{i:03d}" for i in range(n)]
    predictions = pd.DataFrame(
        {"a": rng.random(n), "b": rng.integers(0, 10, n) / 9, "c": rng.normal(size=n)}, index=ids
    )
    neutralizers = pd.DataFrame(rng.normal(size=(n, 4)) / np.sqrt(n), index=ids)
    sample_weights = pd.Series(rng.random(n), index=ids)
    targets = pd.Series(rng.normal(scale=0.05, size=n), index=ids, name="target")
    targets.iloc[[3, 9]] = np.nan
    stakes = pd.Series([2.0, 0.0, 5.0], index=["c", "b", "a"])
    return predictions, neutralizers, sample_weights, targets, stakes


@pytest.mark.parametrize("seed", [0, 1])
def test_alpha_and_mpc(seed: int) -> None:
    predictions, neutralizers, sample_weights, targets, stakes = _signals_inputs(seed)
    assert_series_close(
        frames.alpha(predictions, neutralizers, sample_weights, targets),
        nt.alpha(predictions, neutralizers, sample_weights, targets),
    )
    assert_series_close(
        frames.meta_portfolio_contribution(predictions, stakes, neutralizers, sample_weights, targets),
        nt.meta_portfolio_contribution(predictions, stakes, neutralizers, sample_weights, targets),
    )


def test_too_many_ids_lost_is_alignment_error() -> None:
    case = make_case(9, nan=False)
    half = case.targets.iloc[: len(case.targets) // 2]
    with pytest.raises(AlignmentError, match="overlapping ids"):
        frames.numerai_corr(case.predictions, half)
    with pytest.raises(AssertionError):
        nt.numerai_corr(case.predictions, half)  # where numerai-tools asserts, we raise


def test_duplicated_ids_are_rejected() -> None:
    case = make_case(10, nan=False)
    doubled = pd.concat([case.predictions, case.predictions.iloc[:1]])
    with pytest.raises(DataFormatError, match="duplicated ids"):
        frames.numerai_corr(doubled, case.targets)


def test_inputs_are_not_mutated(case: Case) -> None:
    before = [case.predictions.copy(), case.targets.copy(), case.meta_model.copy(), case.features.copy()]
    frames.numerai_corr(case.predictions, case.targets)
    frames.correlation_contribution(case.predictions, case.meta_model, case.targets)
    frames.neutral_contribution(case.predictions, case.meta_model, case.features, case.targets)
    clean = case.predictions.dropna().sort_index()
    frames.feature_neutral_corr(clean, case.features.loc[clean.index], case.targets)
    frames.neutral_correlation(case.predictions, case.features, case.targets)
    after = [case.predictions, case.targets, case.meta_model, case.features]
    for original, current in zip(before, after, strict=True):
        assert original.equals(current)


@pytest.mark.parametrize("top_bottom", [5, 20])
def test_top_bottom_variants(case: Case, top_bottom: int) -> None:
    assert_series_close(
        frames.numerai_corr(case.predictions, case.targets, top_bottom=top_bottom),
        nt.numerai_corr(case.predictions, case.targets, top_bottom=top_bottom),
    )
    assert_series_close(
        frames.correlation_contribution(case.predictions, case.meta_model, case.targets, top_bottom),
        nt.correlation_contribution(case.predictions, case.meta_model, case.targets, top_bottom),
    )
    assert_series_close(
        frames.neutral_contribution(
            case.predictions, case.meta_model, case.features, case.targets, top_bottom
        ),
        nt.neutral_contribution(case.predictions, case.meta_model, case.features, case.targets, top_bottom),
    )
    assert_series_close(
        frames.neutral_correlation(case.predictions, case.features, case.targets, top_bottom=top_bottom),
        nt.neutral_correlation(case.predictions, case.features, case.targets, top_bottom=top_bottom),
    )
    predictions = case.predictions.dropna().sort_index()
    features = case.features.loc[predictions.index]
    assert_series_close(
        frames.feature_neutral_corr(predictions, features, case.targets, top_bottom),
        nt.feature_neutral_corr(predictions, features, case.targets, top_bottom),
    )
    name, value = frames.max_feature_correlation(predictions["signal"], features, top_bottom)
    reference_name, reference_value = nt.max_feature_correlation(predictions["signal"], features, top_bottom)
    assert name == reference_name and abs(value - reference_value) < TOLERANCE


def test_top_bottom_larger_than_half_is_refused(case: Case) -> None:
    with pytest.raises(InvalidInputError, match="top_bottom"):
        frames.numerai_corr(case.predictions, case.targets, top_bottom=len(case.targets))
