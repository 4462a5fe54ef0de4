"""Every function numerai-tools 0.7.2 exports in ``scoring``, ``signals`` and ``submissions`` has a
Kardashev namesake returning its numbers (or a KardashevError where it asserts).

Inputs: string ids, sorted and shuffled, ties, NaNs and constant columns.
"""

from __future__ import annotations

import inspect
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numerai_tools import scoring as nt
from numerai_tools import signals as nts
from numerai_tools import submissions as ntsub

from kardashev.scoring import frames
from kardashev.scoring import submissions as ksub

from .parity import compare

COUNTERPARTS: list[tuple[ModuleType, ModuleType]] = [(nt, frames), (nts, frames), (ntsub, ksub)]


def _exports(module: ModuleType) -> list[str]:
    return sorted(
        name
        for name, value in inspect.getmembers(module, inspect.isfunction)
        if value.__module__ == module.__name__ and not name.startswith("_")
    )


@pytest.mark.parametrize("reference, ours", COUNTERPARTS, ids=lambda m: m.__name__)
def test_every_export_has_a_namesake_with_the_same_parameters(
    reference: ModuleType, ours: ModuleType
) -> None:
    names = _exports(reference)
    assert len(names) >= 6
    missing = [name for name in names if not callable(getattr(ours, name, None))]
    assert not missing, f"{ours.__name__} lacks {missing}"
    for name in names:
        expected = list(inspect.signature(getattr(reference, name)).parameters)
        actual = list(inspect.signature(getattr(ours, name)).parameters)
        assert actual[: len(expected)] == expected, f"{name}: {actual} != {expected}"
        assert name in ours.__all__


def test_submission_constants_are_numerai_tools() -> None:
    constants = [name for name in dir(ntsub) if name.isupper() and not name.startswith("_")]
    assert len(constants) >= 9
    for name in constants:
        assert getattr(ksub, name) == getattr(ntsub, name), name


# --------------------------------------------------------------------------- inputs

VARIANTS = ["plain", "ties", "nan", "unsorted", "ties_nan_unsorted", "constant"]


def _ids(n: int, rng: np.random.Generator, *, unsorted: bool) -> list[str]:
    ids = [f"id_{i:04d}" for i in range(n)]
    return [ids[i] for i in rng.permutation(n)] if unsorted else ids


def make_series(variant: str, seed: int = 0, *, n: int = 150, name: str = "prediction") -> pd.Series:
    rng = np.random.default_rng(seed)
    values = rng.random(n)
    if "ties" in variant:
        values = rng.integers(0, 5, n) / 4
    if variant == "constant":
        values = np.full(n, 0.5)
    if "nan" in variant:
        values[rng.choice(n, 6, replace=False)] = np.nan
    return pd.Series(values, index=_ids(n, rng, unsorted="unsorted" in variant), name=name)


def make_frame(variant: str, seed: int = 0, *, n: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "continuous": rng.normal(size=n),
            "tied": rng.integers(0, 5, n) / 4,
            "uniform": rng.random(n),
        },
        index=_ids(n, rng, unsorted="unsorted" in variant),
    )
    if variant == "constant":
        frame["constant"] = 0.5
    if "nan" in variant:
        frame.iloc[rng.choice(n, 4, replace=False), 1] = np.nan
    return frame


def make_targets(index: pd.Index, seed: int = 1, *, nan: bool = False, buckets: bool = True) -> pd.Series:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 5, len(index)) / 4 if buckets else rng.normal(scale=0.05, size=len(index))
    if nan:
        values[rng.choice(len(index), 3, replace=False)] = np.nan
    return pd.Series(values, index=index, name="target")


def make_neutralizers(index: pd.Index, seed: int = 2, k: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(len(index), k)) / np.sqrt(len(index)), index=index).add_prefix("n")


# --------------------------------------------------------------------------- numerai_tools.scoring


@pytest.mark.parametrize("variant", VARIANTS)
def test_alignment_helpers(variant: str) -> None:
    s1, s2 = make_series(variant, 0), make_series(variant, 1)
    assert compare(frames.filter_sort_index, nt.filter_sort_index, s1, s2) == "same"
    assert compare(frames.filter_sort_index, nt.filter_sort_index, s1, s2.iloc[:100]) == "asserts"
    frame = make_frame(variant)
    many = [s1, frame, make_targets(s1.index, nan=True)]
    assert compare(frames.filter_sort_index_many, nt.filter_sort_index_many, many) == "same"
    assert (
        compare(frames.filter_sort_index_many, nt.filter_sort_index_many, [*many, s2.iloc[:60]]) == "asserts"
    )
    for top_bottom in (1, 7, 40):
        for name in ("filter_sort_top_bottom", "filter_sort_top_bottom_concat"):
            assert compare(getattr(frames, name), getattr(nt, name), s1, top_bottom) == "same"


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("method", ["average", "min", "max", "first", "dense"])
def test_ranks(variant: str, method: str) -> None:
    series, frame = make_series(variant), make_frame(variant)
    expected = "asserts" if "unsorted" in variant else "same"
    assert compare(frames.rank_series, nt.rank_series, series, method) == expected
    assert compare(frames.rank, nt.rank, frame, method) == expected
    assert compare(frames.rank, nt.rank, series, method=method) == expected


@pytest.mark.parametrize("variant", VARIANTS)
def test_rank_shortcuts_and_normalizations(variant: str) -> None:
    series, frame = make_series(variant), make_frame(variant)
    expected = "asserts" if "unsorted" in variant else "same"
    assert compare(frames.tie_broken_rank, nt.tie_broken_rank, frame) == expected
    assert compare(frames.tie_kept_rank, nt.tie_kept_rank, frame) == expected
    assert compare(frames.tie_kept_rank, nt.tie_kept_rank, series) == expected
    for name in ("min_max_normalize", "weight_normalize", "center"):
        assert compare(getattr(frames, name), getattr(nt, name), series) == "same"
        assert compare(getattr(frames, name), getattr(nt, name), frame) == "same"
    for name in ("variance_normalize", "standardize"):
        assert compare(getattr(frames, name), getattr(nt, name), frame) == "same"
    assert compare(frames.sharpe_ratio, nt.sharpe_ratio, series) == "same"


@pytest.mark.parametrize("variant", VARIANTS)
def test_correlations(variant: str) -> None:
    predictions = make_series(variant)
    targets = make_targets(predictions.index, nan="nan" in variant)
    for name in ("correlation", "spearman_correlation", "tie_broken_rank_correlation", "pearson_correlation"):
        outcome = compare(getattr(frames, name), getattr(nt, name), targets, predictions)
        assert outcome == ("same" if variant in ("plain", "ties", "constant") else "asserts"), name
    clean = predictions.dropna().sort_index()
    clean_targets = make_targets(clean.index)
    for name in ("correlation", "spearman_correlation", "tie_broken_rank_correlation", "pearson_correlation"):
        assert compare(getattr(frames, name), getattr(nt, name), clean_targets, clean) == "same"
    for top_bottom in (5, 30):
        assert compare(
            frames.pearson_correlation, nt.pearson_correlation, targets, predictions, top_bottom
        ) in (
            "same",
            "asserts",
        )
        assert (
            compare(frames.pearson_correlation, nt.pearson_correlation, clean_targets, clean, top_bottom)
            == "same"
        )


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("p", [0.5, 1.0, 1.5, 2.0, 3.0])
def test_power(variant: str, p: float) -> None:
    frame = make_frame(variant)
    outcome = compare(frames.power, nt.power, frame, p)
    if "nan" in variant or "unsorted" in variant:
        assert outcome == "asserts"
    elif variant == "constant":  # pandas' std of a constant power can be 1e-16: then it asserts
        assert outcome in ("same", "asserts")
    else:
        assert outcome == ("same" if p <= 2 else outcome)  # a cube may decorrelate: both then refuse
    skewed = pd.DataFrame({"x": np.r_[np.linspace(0, 1, 50), 40.0]}, index=[f"i{k:03d}" for k in range(51)])
    assert compare(frames.power, nt.power, skewed, p) == "same"
    assert compare(frames.power, nt.power, skewed, p / 10) in ("same", "asserts")
    assert compare(frames.power, nt.power, skewed, 0.05) == "asserts"  # decorrelates


@pytest.mark.parametrize("variant", VARIANTS)
def test_gaussian_is_the_normal_quantile_of_raw_values(variant: str) -> None:
    frame = make_frame(variant).clip(-0.5, 1.5)
    frame.iloc[:3, 2] = [0.0, 1.0, 0.5]
    assert compare(frames.gaussian, nt.gaussian, frame) == ("asserts" if "unsorted" in variant else "same")
    ranked = frames.tie_kept_rank(frame.sort_index())
    assert compare(frames.gaussian, nt.gaussian, ranked) == "same"
    np.testing.assert_array_equal(frames.gaussianize(frame.sort_index()), frames.gaussian(ranked))


@pytest.mark.parametrize("variant", VARIANTS)
def test_transform_chains(variant: str) -> None:
    frame = make_frame(variant)
    neutralizers = make_neutralizers(frame.index)
    expected = "same" if variant in ("plain", "ties", "constant") else "asserts"
    assert compare(
        frames.tie_kept_rank__gaussianize__pow_1_5, nt.tie_kept_rank__gaussianize__pow_1_5, frame
    ) == (expected)
    name = "tie_kept_rank__gaussianize__neutralize__variance_normalize"
    assert compare(getattr(frames, name), getattr(nt, name), frame, neutralizers) == expected


def test_orthogonalize_and_contribution_scores() -> None:
    rng = np.random.default_rng(3)
    v, u = rng.normal(size=(80, 3)), rng.normal(size=80)
    assert compare(frames.orthogonalize, nt.orthogonalize, v, u) == "same"
    assert compare(frames.orthogonalize, nt.orthogonalize, v[:, 0], u) == "same"
    frame = make_frame("ties", n=80)
    for buckets in (True, False):
        for nan in (False, True):
            targets = make_targets(frame.index, buckets=buckets, nan=nan)
            for top_bottom in (None, 10):
                if nan and top_bottom:
                    continue  # numerai-tools mis-shapes its product then
                outcome = compare(
                    frames.contribution_scores, nt.contribution_scores, v, targets, frame, top_bottom
                )
                assert outcome == "same"


@pytest.mark.parametrize("variant", VARIANTS)
def test_scores_on_every_variant(variant: str) -> None:
    predictions = make_frame(variant)
    targets = make_targets(predictions.index, nan=True)
    meta_model = make_series("ties" if variant == "constant" else variant, 5, name="meta_model")
    meta_model.index = predictions.index
    neutralizers = make_neutralizers(predictions.index)
    for top_bottom in (None, 10):
        assert (
            compare(frames.numerai_corr, nt.numerai_corr, predictions, targets, top_bottom=top_bottom)
            == "same"
        )
        outcome = compare(
            frames.correlation_contribution,
            nt.correlation_contribution,
            predictions,
            meta_model,
            targets,
            top_bottom,
        )
        assert outcome == "same"
        outcome = compare(
            frames.neutral_contribution,
            nt.neutral_contribution,
            predictions,
            meta_model,
            neutralizers,
            targets,
            top_bottom,
        )
        assert outcome == ("asserts" if variant == "constant" and top_bottom else "same")
        outcome = compare(
            frames.neutral_correlation,
            nt.neutral_correlation,
            predictions,
            neutralizers,
            targets,
            top_bottom=top_bottom,
        )
        assert outcome == ("asserts" if variant == "constant" else "same")  # NaN after neutralizing
    assert compare(
        frames.stake_weight, nt.stake_weight, predictions, pd.Series([1.0, 2.0], ["tied", "uniform"])
    ) == ("same")


@pytest.mark.parametrize("variant", ["plain", "ties", "unsorted", "nan", "constant"])
def test_neutralize_and_feature_scores(variant: str) -> None:
    predictions = make_frame(variant)
    neutralizers = make_neutralizers(predictions.index)
    expected = "asserts" if "nan" in variant else "same"
    assert compare(frames.neutralize, nt.neutralize, predictions, neutralizers) == expected
    assert compare(frames.neutralize, nt.neutralize, predictions, neutralizers, 0.5) == expected
    assert compare(frames.neutralize, nt.neutralize, predictions, neutralizers.iloc[::-1]) in ("asserts",)
    targets = make_targets(predictions.index)
    if variant != "constant":  # numerai-tools asserts inside; Kardashev scores the column NaN (documented)
        assert compare(
            frames.feature_neutral_corr, nt.feature_neutral_corr, predictions, neutralizers, targets
        ) in (
            "same",
            "asserts",
        )
    for column in ("continuous", "tied"):
        outcome = compare(
            frames.max_feature_correlation, nt.max_feature_correlation, predictions[column], neutralizers
        )
        assert outcome in ("same", "asserts")


def test_one_hot_encode() -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {
            "sector": rng.choice(["tech", "energy", "bank"], 40),
            "bucket": rng.integers(0, 4, 40),
            "level": rng.choice([0.25, 0.5, np.nan], 40),
            "keep": rng.normal(size=40),
        },
        index=_ids(40, rng, unsorted=True),
    )
    with_missing = frame.assign(sector=frame["sector"].where(rng.random(40) > 0.2, None))
    for data, columns in (
        (frame, ["sector"]),
        (frame, ["bucket", "sector"]),
        (frame, ["level"]),
        (with_missing, ["sector"]),
    ):
        assert compare(frames.one_hot_encode, nt.one_hot_encode, data, columns) == "same"
        assert compare(frames.one_hot_encode, nt.one_hot_encode, data, columns, np.float32) == "same"


def _signals_inputs(variant: str, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    predictions = make_frame(variant, seed)
    rng = np.random.default_rng(seed + 10)
    neutralizers = make_neutralizers(predictions.index, seed + 11)
    sample_weights = pd.Series(rng.random(len(predictions)), index=predictions.index)
    targets = make_targets(predictions.index, seed + 12, nan=True, buckets=False)
    return predictions, neutralizers, sample_weights, targets


@pytest.mark.parametrize("variant", VARIANTS)
def test_signals_scores(variant: str) -> None:
    predictions, neutralizers, sample_weights, targets = _signals_inputs(variant)
    expected = "asserts" if "nan" in variant else "same"
    for center_and_normalize in (False, True):
        outcome = compare(
            frames.generate_neutralized_weights,
            nt.generate_neutralized_weights,
            predictions,
            neutralizers,
            sample_weights,
            center_and_normalize,
        )
        assert outcome == ("asserts" if "nan" in variant or "unsorted" in variant else "same")
    assert compare(frames.alpha, nt.alpha, predictions, neutralizers, sample_weights, targets) == "same"
    stakes = pd.Series([2.0, np.nan, 5.0], index=["uniform", "tied", "continuous"])
    # the unstaked-with-NaN case: "tied" holds the NaNs in the "nan" variants
    staked = pd.Series([2.0, 5.0], index=["uniform", "continuous"])
    for stake in (stakes, staked):
        outcome = compare(
            frames.meta_portfolio_contribution,
            nt.meta_portfolio_contribution,
            predictions,
            stake,
            neutralizers,
            sample_weights,
            targets,
        )
        assert outcome == "same"
    del expected


# --------------------------------------------------------------------------- numerai_tools.signals


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("top_bottom", [None, 0, 1, 10])
def test_churn_and_turnover(variant: str, top_bottom: int | None) -> None:
    first = make_series(variant, 0)
    second = (first + np.random.default_rng(1).normal(scale=0.3, size=len(first))).rename("other")
    if "nan" in variant:
        second.iloc[[3, 20, 40]] = np.nan
    second = second.sample(frac=1.0, random_state=2) if "unsorted" in variant else second
    expected = "asserts" if variant == "constant" and not top_bottom else "same"
    assert compare(frames.churn, nts.churn, first, second, top_bottom) == expected
    assert compare(frames.churn, nts.churn, first, second.iloc[:90], top_bottom) in ("same", "asserts")
    assert compare(frames.turnover, nts.turnover, first, second) == "same"


@pytest.mark.parametrize("variant", ["plain", "ties", "nan", "unsorted", "constant"])
def test_neutral_churn(variant: str) -> None:
    first, second = make_series(variant, 0), make_series(variant, 1)
    second.index = first.index
    n1, n2 = make_neutralizers(first.index, 3), make_neutralizers(first.index, 4)
    expected = "asserts" if variant == "constant" else "same"
    assert compare(frames.neutral_churn, nts.neutral_churn, first, second, n1, n2) == expected
    assert compare(frames.neutral_churn, nts.neutral_churn, first, second, n1, n2.iloc[:60]) == "asserts"


def test_neutral_churn_penalty() -> None:
    for churn_value in (0.0, 0.05, 0.1, 0.10001, 0.3, 1.0, 2.0, -0.1, 2.1, float("nan"), float("inf")):
        for threshold in (0.0, 0.1, 1.0, 2.0, -1.0, float("nan")):
            for scaling in (1.0, 10.0, 1e6, 0.0, -1.0, float("inf")):
                outcome = compare(
                    frames.neutral_churn_penalty, nts.neutral_churn_penalty, churn_value, threshold, scaling
                )
                assert outcome in ("same", "asserts")
    assert compare(frames.neutral_churn_penalty, nts.neutral_churn_penalty, 0.3) == "same"


def _era(seed: int, n_universe: int = 160, n_submitted: int = 140, *, ticker: str = "ticker"):
    rng = np.random.default_rng(seed)
    universe = [f"T{i:03d}" for i in rng.permutation(220)[:n_universe]]
    sample_weight = pd.Series(rng.random(n_universe), index=pd.Index(universe, name=ticker))
    neutralizers = pd.DataFrame(
        rng.normal(size=(n_universe, 3)) / np.sqrt(n_universe), index=sample_weight.index
    ).add_prefix("n")
    tickers = [*rng.choice(universe, n_submitted, replace=False).tolist(), "UNKNOWN1", "UNKNOWN2"]
    values = rng.random(len(tickers))
    if seed % 2:
        values = np.round(values * 4) / 4
    submission = pd.Series(values, index=pd.Index(tickers, name=ticker), name="signal")
    return submission, neutralizers, sample_weight


@pytest.mark.parametrize("n_previous", [0, 1, 3])
def test_mean_neutral_churn_and_max_churn_and_turnover(n_previous: int) -> None:
    current = _era(0)
    previous = {f"2026-01-{day:02d}": _era(day) for day in range(1, n_previous + 1)}
    args = (
        *current,
        {key: era[0] for key, era in previous.items()},
        {key: era[1] for key, era in previous.items()},
        {key: era[2] for key, era in previous.items()},
    )
    assert compare(frames.calculate_mean_neutral_churn, nts.calculate_mean_neutral_churn, *args) == "same"
    assert (
        compare(frames.calculate_max_churn_and_turnover, nts.calculate_max_churn_and_turnover, *args)
        == "same"
    )
    if n_previous == 0:
        assert frames.calculate_max_churn_and_turnover(*args) == (1.0, 1.0)
        assert frames.calculate_mean_neutral_churn(*args) == 1.0


def test_max_churn_skips_an_era_with_too_few_common_tickers() -> None:
    current = _era(0)
    far = _era(7, n_universe=160)
    far_submission = far[0].copy()
    far_submission.index = pd.Index([f"X{i:03d}" for i in range(len(far_submission))], name="ticker")
    far_weights = far[2].copy()
    far_weights.index = pd.Index([f"X{i:03d}" for i in range(len(far_weights))], name="ticker")
    far_neutralizers = far[1].set_axis(far_weights.index)
    args = (*current, {"a": far_submission}, {"a": far_neutralizers}, {"a": far_weights})
    assert compare(frames.calculate_max_churn_and_turnover, nts.calculate_max_churn_and_turnover, *args) in (
        "same",
        "asserts",
    )


# --------------------------------------------------------------------------- random small inputs

_cells = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 0.1, 0.9, np.nan])


@settings(max_examples=80, deadline=None)
@given(
    first=st.lists(_cells, min_size=4, max_size=30),
    second=st.lists(_cells, min_size=4, max_size=30),
    top_bottom=st.integers(1, 6),
    seed=st.integers(0, 1000),
)
def test_churn_top_bottom_on_random_ties_and_nans(first, second, top_bottom, seed) -> None:
    rng = np.random.default_rng(seed)
    s1 = pd.Series(first, index=_ids(len(first), rng, unsorted=True))
    s2 = pd.Series(second, index=_ids(len(second), rng, unsorted=True))
    assert compare(frames.churn, nts.churn, s1, s2, top_bottom) == "same"


@settings(max_examples=80, deadline=None)
@given(
    values=st.lists(_cells, min_size=1, max_size=30),
    method=st.sampled_from(["average", "min", "max", "first", "dense"]),
)
def test_rank_methods_on_random_ties_and_nans(values, method) -> None:
    series = pd.Series(values, index=[f"i{k:03d}" for k in range(len(values))], name="p")
    assert compare(frames.rank, nt.rank, series, method) == "same"
    assert compare(frames.rank, nt.rank, series.to_frame(), method) == "same"
