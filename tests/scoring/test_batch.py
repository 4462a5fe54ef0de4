"""The batched scorer gives, per model, numerai-tools' numbers on that model's column alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numerai_tools import scoring as nt

from kardashev.data.era import Era
from kardashev.errors import AlignmentError, InvalidInputError
from kardashev.scoring import METRICS, score_era, score_eras

TOLERANCE = 1e-9


def _era(seed: int, *, raw_returns: bool = False, n_stocks: int = 120) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.integers(0, 5, (n_stocks, 5)).astype(float)
    signal = features @ rng.normal(size=5) / 5 + rng.normal(size=n_stocks)
    if raw_returns:
        targets = signal * 0.03
    else:
        targets = np.digitize(signal, np.quantile(signal, [0.05, 0.25, 0.75, 0.95])) / 4
    predictions = np.column_stack(
        [
            rng.random(n_stocks) + 0.3 * signal,  # continuous
            rng.integers(0, 5, n_stocks) / 4,  # heavy ties
            np.full(n_stocks, 0.5),  # constant
            rng.random(n_stocks),  # gets a few NaNs below
            features[:, 0] + 0.1 * rng.random(n_stocks),  # feature-like
        ]
    )
    predictions[rng.choice(n_stocks, 6, replace=False), 3] = np.nan
    return {
        "predictions": predictions,
        "targets": targets,
        "meta_model": rng.random(n_stocks) + 0.2 * signal,
        "benchmark": rng.random(n_stocks),
        "features": features,
    }


def _reference(era: dict[str, np.ndarray], column: int, *, target_pow15: bool) -> dict[str, float]:
    """numerai-tools on one model column (pandas exposure for the raw feature correlations)."""
    ids = pd.Index([f"id{i:04d}" for i in range(len(era["targets"]))])
    prediction = pd.DataFrame({"model": era["predictions"][:, column]}, index=ids)
    targets = pd.Series(era["targets"], index=ids, name="target")
    meta_model = pd.Series(era["meta_model"], index=ids)
    benchmark = pd.Series(era["benchmark"], index=ids)
    features = pd.DataFrame(era["features"], index=ids)
    reference = {
        "corr": nt.numerai_corr(prediction, targets, target_pow15=target_pow15)["model"],
        "mmc": nt.correlation_contribution(prediction, meta_model, targets)["model"],
        "bmc": nt.correlation_contribution(prediction, benchmark, targets)["model"],
        "cwmm": nt.numerai_corr(prediction, meta_model, target_pow15=False)["model"],
    }
    clean = prediction.dropna()
    if clean["model"].nunique() > 1 and target_pow15:
        reference["fnc"] = nt.feature_neutral_corr(clean, features.loc[clean.index], targets)["model"]
    exposures = features.loc[clean.index].corrwith(clean["model"]).abs()
    reference["feature_exposure_max"] = exposures.max()
    reference["feature_exposure_rms"] = float(np.sqrt((exposures**2).mean()))
    return reference


@pytest.mark.parametrize(("seed", "raw_returns"), [(0, False), (1, False), (2, True)])
def test_score_era_matches_numerai_tools_per_model(seed: int, raw_returns: bool) -> None:
    era = _era(seed, raw_returns=raw_returns)
    scores = score_era(
        era["predictions"],
        era["targets"],
        meta_model=era["meta_model"],
        benchmark=era["benchmark"],
        features=era["features"],
        target_pow15=not raw_returns,
    )
    assert set(scores.metrics()) == set(METRICS)
    for column in range(era["predictions"].shape[1]):
        for metric, expected in _reference(era, column, target_pow15=not raw_returns).items():
            ours = scores.metrics()[metric][column]
            if np.isnan(expected):
                assert np.isnan(ours), (column, metric)
            else:
                assert abs(ours - expected) < TOLERANCE, (column, metric, ours, expected)
    # the constant model: CORR, FNC and exposures are undefined, MMC is zero
    assert np.isnan(scores.corr[2]) and np.isnan(scores.fnc[2])
    assert scores.mmc[2] == pytest.approx(0.0, abs=1e-15)


def test_batch_fnc_matches_core_on_raw_returns() -> None:
    from kardashev.scoring import feature_neutral_corr

    era = _era(3, raw_returns=True)
    scores = score_era(era["predictions"][:, [0, 1, 4]], era["targets"], features=era["features"])
    expected = feature_neutral_corr(era["predictions"][:, [0, 1, 4]], era["features"], era["targets"])
    np.testing.assert_allclose(scores.fnc, expected, atol=TOLERANCE)


def test_rows_with_nan_target_or_features_are_dropped_for_everyone() -> None:
    era = _era(4)
    targets = era["targets"].copy()
    targets[:5] = np.nan
    scores = score_era(era["predictions"][:, :2], targets, meta_model=era["meta_model"])
    expected = score_era(era["predictions"][5:, :2], era["targets"][5:], meta_model=era["meta_model"][5:])
    np.testing.assert_allclose(scores.corr, expected.corr, atol=TOLERANCE)
    np.testing.assert_allclose(scores.mmc, expected.mmc, atol=TOLERANCE)
    assert scores.n_stocks == len(targets) - 5


def test_model_covering_too_few_stocks_scores_nan_that_era() -> None:
    era = _era(5)
    predictions = era["predictions"][:, :2].copy()
    predictions[: len(predictions) // 2, 1] = np.nan
    scores = score_era(predictions, era["targets"])
    assert np.isfinite(scores.corr[0]) and np.isnan(scores.corr[1])


def test_era_losing_too_many_rows_is_an_alignment_error() -> None:
    era = _era(6)
    targets = era["targets"].copy()
    targets[: len(targets) // 3] = np.nan
    with pytest.raises(AlignmentError):
        score_era(era["predictions"], targets)


def test_metric_selection_and_errors() -> None:
    era = _era(7)
    scores = score_era(era["predictions"], era["targets"], meta_model=era["meta_model"], metrics=["mmc"])
    assert list(scores.metrics()) == ["mmc"]
    assert scores.corr is None
    with pytest.raises(InvalidInputError, match="needs meta_model"):
        score_era(era["predictions"], era["targets"], metrics=["mmc"])
    with pytest.raises(InvalidInputError, match="unknown metric"):
        score_era(era["predictions"], era["targets"], metrics=["sharpe"])
    with pytest.raises(InvalidInputError, match="model names"):
        score_era(era["predictions"], era["targets"], model_names=["only_one"])


def test_score_eras_streams_a_generator_into_a_tidy_table() -> None:
    consumed: list[str] = []

    def eras():
        for index in range(3):
            era = _era(10 + index)
            consumed.append(f"e{index}")
            yield Era.build(
                f"e{index}",
                [f"s{i}" for i in range(len(era["targets"]))],
                predictions=era["predictions"],
                target=era["targets"],
                meta_model=era["meta_model"],
                features=era["features"],
            )

    names = ["a", "b", "c", "d", "e"]
    table = score_eras(eras(), model_names=names)
    assert consumed == ["e0", "e1", "e2"]
    assert list(table.columns[:2]) == ["era", "model"]
    assert len(table) == 15 and table["model"].tolist()[:5] == names
    single = score_era(**{k: v for k, v in _era(11).items() if k != "benchmark"}, model_names=names, era="e1")
    np.testing.assert_allclose(
        table[table["era"] == "e1"]["fnc"].to_numpy(), single.fnc, atol=TOLERANCE, equal_nan=True
    )


def test_inputs_are_not_mutated() -> None:
    era = _era(8)
    copies = {k: v.copy() for k, v in era.items()}
    score_era(**era)
    for key, original in copies.items():
        np.testing.assert_array_equal(era[key], original)


def test_models_sharing_missing_stocks_are_scored_like_single_columns() -> None:
    from kardashev.scoring import correlation_contribution, feature_neutral_corr, numerai_corr

    era = _era(9)
    predictions = era["predictions"][:, [0, 1, 3, 4]].copy()
    predictions[:, 3] = era["predictions"][:, 0] * 2 + 1
    shared = np.zeros(len(predictions), dtype=bool)
    shared[[2, 7, 11, 30]] = True
    predictions[shared, 0] = np.nan
    predictions[shared, 1] = np.nan  # same pattern as model 0; model 2 has its own NaNs
    scores = score_era(
        predictions,
        era["targets"],
        meta_model=era["meta_model"],
        features=era["features"],
        metrics=["corr", "mmc", "fnc"],
    )
    for column in range(4):
        prediction = predictions[:, column]
        assert scores.corr[column] == pytest.approx(numerai_corr(prediction, era["targets"]), abs=TOLERANCE)
        expected_mmc = correlation_contribution(prediction, era["meta_model"], era["targets"])
        assert scores.mmc[column] == pytest.approx(expected_mmc, abs=TOLERANCE)
        expected_fnc = feature_neutral_corr(prediction, era["features"], era["targets"])
        assert scores.fnc[column] == pytest.approx(expected_fnc, abs=TOLERANCE, nan_ok=True)
