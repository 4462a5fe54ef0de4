"""Scoring inputs from files laid out exactly as Numerai's downloads (Classic v5, Signals v2.1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numerai_tools import scoring as nt

from kardashev.errors import DataFormatError
from kardashev.scoring import score_era
from kardashev.scoring.io import live_universe, open_scoring_inputs
from kardashev.tournament.validation import validate_submission
from tests.scoring.numerai_files import (
    FIRST_ERA,
    N_ERAS,
    UNRESOLVED_20,
    UNRESOLVED_60,
    write_classic,
    write_signals,
)

ERAS = [f"{FIRST_ERA + e:04d}" for e in range(N_ERAS)]


@pytest.fixture(scope="module")
def classic(tmp_path_factory) -> dict[str, Path]:
    return write_classic(tmp_path_factory.mktemp("classic"))


@pytest.fixture(scope="module")
def signals(tmp_path_factory) -> dict[str, Path]:
    return write_signals(tmp_path_factory.mktemp("signals"))


def test_unresolved_eras_are_skipped_and_listed(classic) -> None:
    inputs = open_scoring_inputs(classic["example"], classic["validation"], feature_set="small")
    assert inputs.target_eras["target"] == tuple(ERAS[: N_ERAS - UNRESOLVED_20])
    assert inputs.unresolved["target"] == tuple(ERAS[N_ERAS - UNRESOLVED_20 :])
    eras = list(inputs.iter_eras())
    assert [e.era for e in eras] == ERAS[: N_ERAS - UNRESOLVED_20]
    data = pd.read_parquet(classic["validation"])
    predictions = pd.read_parquet(classic["example"])
    first = data[data["era"] == ERAS[0]]
    scores = score_era(eras[0].predictions, eras[0].target, features=eras[0].features)
    expected = nt.numerai_corr(predictions.loc[first.index, ["prediction"]], first["target"])["prediction"]
    assert scores.corr[0] == pytest.approx(expected, abs=1e-12)


def test_several_targets_are_read_in_one_pass(classic) -> None:
    targets = ["target_cyrusd_20", "target_teager2b_60"]
    inputs = open_scoring_inputs(classic["example"], classic["validation"], target=targets)
    seen = [(era.inputs.era, era.target) for era in inputs.iter_scoring_eras()]
    assert [e for e, t in seen if t == targets[0]] == ERAS[: N_ERAS - UNRESOLVED_20]
    assert [e for e, t in seen if t == targets[1]] == ERAS[: N_ERAS - UNRESOLVED_60]
    assert inputs.unresolved[targets[1]] == tuple(ERAS[N_ERAS - UNRESOLVED_60 :])
    data = pd.read_parquet(classic["validation"])
    era = next(e for e in inputs.iter_scoring_eras() if e.target == targets[1])
    expected = data.loc[data["era"] == era.inputs.era, targets[1]].to_numpy(dtype=float)
    np.testing.assert_array_equal(era.inputs.target, expected)


def test_benchmark_column_follows_the_target_or_is_chosen(classic) -> None:
    inputs = open_scoring_inputs(
        classic["example"],
        classic["validation"],
        benchmark_path=classic["benchmark"],
        target=["target", "target_teager2b_60"],
    )
    # `target` is Numerai's alias of target_cyrusd_20; a 60-day target takes its 20-day benchmark
    assert inputs.benchmark_columns == {
        "target": "v52_lgbm_cyrusd20",
        "target_teager2b_60": "v52_lgbm_teager2b20",
    }
    era = next(inputs.iter_scoring_eras())
    bench = pd.read_parquet(classic["benchmark"])
    data = pd.read_parquet(classic["validation"])
    rows = data[data["era"] == era.inputs.era]
    np.testing.assert_array_equal(era.inputs.benchmark, bench.loc[rows.index, "v52_lgbm_cyrusd20"].to_numpy())
    bmc = score_era(era.inputs.predictions, era.inputs.target, benchmark=era.inputs.benchmark).bmc[0]
    predictions = pd.read_parquet(classic["example"]).loc[rows.index, ["prediction"]]
    expected = nt.correlation_contribution(
        predictions, bench.loc[rows.index, "v52_lgbm_cyrusd20"], rows["target"]
    )
    assert bmc == pytest.approx(expected["prediction"], abs=1e-12)
    chosen = open_scoring_inputs(
        classic["example"],
        classic["validation"],
        benchmark_path=classic["benchmark"],
        benchmark_column="v52_lgbm_teager2b20",
    )
    assert chosen.benchmark_columns == {"target": "v52_lgbm_teager2b20"}
    with pytest.raises(DataFormatError, match="v52_lgbm_nope") as error:
        open_scoring_inputs(
            classic["example"],
            classic["validation"],
            benchmark_path=classic["benchmark"],
            benchmark_column="v52_lgbm_nope",
        )
    assert "validation_benchmark_models.parquet" in error.value.message and "\n" not in error.value.message


def test_data_type_selects_rows(classic, tmp_path: Path) -> None:
    data = pd.read_parquet(classic["validation"])
    data.loc[data["era"].isin(ERAS[:3]), "data_type"] = "train"
    data.to_parquet(tmp_path / "train_and_validation.parquet")
    inputs = open_scoring_inputs(
        classic["example"], tmp_path / "train_and_validation.parquet", data_type="validation"
    )
    assert inputs.eras == tuple(ERAS[3 : N_ERAS - UNRESOLVED_20])
    assert (
        sum(len(e.target) for e in inputs.iter_eras()) == (data["data_type"] == "validation").sum() - 2 * 80
    )
    with pytest.raises(
        DataFormatError, match=r"no rows with data_type 'test' \(found \['train', 'validation'\]\)"
    ):
        open_scoring_inputs(classic["example"], tmp_path / "train_and_validation.parquet", data_type="test")


def test_unknown_target_lists_the_targets_of_features_json(classic) -> None:
    with pytest.raises(DataFormatError, match="target_cyrusd_60") as error:
        open_scoring_inputs(classic["example"], classic["validation"], target="target_cyrusd_60")
    assert "target_teager2b_60" in error.value.message and error.value.code == "missing_column"


def test_a_live_file_validates_a_submission(classic) -> None:
    with pytest.raises(DataFormatError) as error:
        open_scoring_inputs(classic["live_example"], classic["live"])
    assert error.value.code == "no_targets"
    kind, ids = live_universe(classic["live"])
    assert kind == "classic" and ids == pd.read_parquet(classic["live"]).index.tolist()
    validated = validate_submission(classic["live_example"], kind=kind, universe=ids)
    assert validated.n_submitted == len(ids)


def test_signals_v21_with_side_files(signals) -> None:
    inputs = open_scoring_inputs(
        signals["example"],
        signals["validation"],
        target=["target", "target_chili_60"],
        feature_set="all",
        neutralizer_path=signals["neutralizer"],
        sample_weights_path=signals["sample_weights"],
    )
    assert inputs.layout.id_column == "numerai_ticker" and inputs.layout.era_column == "date"
    assert inputs.feature_names == tuple(f"feature_f{j}" for j in range(5))  # not the text feature_country
    assert inputs.eras[0] == "2024-01-05" and len(inputs.unresolved["target_chili_60"]) == UNRESOLVED_60
    era = next(inputs.iter_scoring_eras())
    data = pd.read_parquet(signals["validation"])
    rows = data[data["date"] == pd.Timestamp("2024-01-05")].set_index("numerai_ticker")
    neutral = pd.read_parquet(signals["neutralizer"])
    neutral = (
        neutral[neutral["date"] == pd.Timestamp("2024-01-05")]
        .set_index("numerai_ticker")
        .drop(columns="date")
    )
    weights = pd.read_parquet(signals["sample_weights"])
    weights = weights[weights["date"] == pd.Timestamp("2024-01-05")].set_index("numerai_ticker")[
        "sample_weight"
    ]
    np.testing.assert_array_equal(era.neutralizers, neutral.loc[rows.index].to_numpy())
    np.testing.assert_array_equal(era.sample_weights, weights.loc[rows.index].to_numpy())
    example = pd.read_parquet(signals["example"])
    example = example[example["date"] == pd.Timestamp("2024-01-05")].set_index("numerai_ticker")
    np.testing.assert_array_equal(era.inputs.predictions[:, 0], example.loc[rows.index, "signal"].to_numpy())


def test_signals_keys_composite_figi_and_legacy_friday_date(signals, tmp_path: Path) -> None:
    example = pd.read_parquet(signals["example"])
    reference = open_scoring_inputs(signals["example"], signals["validation"])
    legacy = example.drop(columns="numerai_ticker").rename(columns={"date": "friday_date"})
    legacy["friday_date"] = legacy["friday_date"].dt.strftime("%Y%m%d").astype(int)
    legacy.to_parquet(tmp_path / "legacy.parquet", index=False)
    inputs = open_scoring_inputs(tmp_path / "legacy.parquet", signals["validation"])
    assert inputs.layout.id_column == "composite_figi"  # the data keyed by the predictions' ticker
    assert inputs.eras == reference.eras
    for ours, theirs in zip(inputs.iter_eras(), reference.iter_eras(), strict=True):
        np.testing.assert_array_equal(ours.predictions, theirs.predictions)
    # side files keyed by numerai_ticker are joined through the data's numerai_ticker column
    sides = {"neutralizer_path": signals["neutralizer"], "sample_weights_path": signals["sample_weights"]}
    by_figi = open_scoring_inputs(tmp_path / "legacy.parquet", signals["validation"], **sides)
    by_ticker = open_scoring_inputs(signals["example"], signals["validation"], **sides)
    for ours, theirs in zip(by_figi.iter_scoring_eras(), by_ticker.iter_scoring_eras(), strict=True):
        np.testing.assert_array_equal(ours.neutralizers, theirs.neutralizers)
        np.testing.assert_array_equal(ours.sample_weights, theirs.sample_weights)
    example.drop(columns="composite_figi").rename(columns={"numerai_ticker": "bloomberg_ticker"}).to_parquet(
        tmp_path / "bloomberg.parquet", index=False
    )
    with pytest.raises(
        DataFormatError, match=r"keyed by 'bloomberg_ticker', which validation\.parquet lacks"
    ):
        open_scoring_inputs(tmp_path / "bloomberg.parquet", signals["validation"])


def test_diagnostics_of_a_numerai_file_in_python(classic) -> None:
    from kardashev.scoring import diagnostics, score_eras

    inputs = open_scoring_inputs(
        classic["example"], classic["validation"], meta_model_path=classic["meta_model"], feature_set="all"
    )
    per_era = score_eras(inputs.iter_eras(), model_names=inputs.model_names)
    assert per_era["era"].tolist() == ERAS[: N_ERAS - UNRESOLVED_20]
    report = diagnostics(per_era)["prediction"]
    assert report["validationCorrMean"] == pytest.approx(per_era["corr"].mean())
    assert report["validationMmcMean"] == pytest.approx(per_era["mmc"].mean())


def test_legacy_friday_date_in_the_data_file(signals, tmp_path: Path) -> None:
    data = pd.read_parquet(signals["validation"]).rename(columns={"date": "friday_date"})
    data["friday_date"] = data["friday_date"].dt.strftime("%Y%m%d").astype(int)
    data.to_parquet(tmp_path / "legacy_validation.parquet", index=False)
    inputs = open_scoring_inputs(signals["example"], tmp_path / "legacy_validation.parquet")
    reference = open_scoring_inputs(signals["example"], signals["validation"])
    assert inputs.layout.era_column == "friday_date" and inputs.eras == reference.eras
    for ours, theirs in zip(inputs.iter_eras(), reference.iter_eras(), strict=True):
        np.testing.assert_array_equal(ours.predictions, theirs.predictions)
        np.testing.assert_array_equal(ours.target, theirs.target)
