"""Reading scoring inputs in Numerai's conventions, and the errors bad files get."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kardashev.errors import ConfigError, DataFormatError, NotFoundError
from kardashev.scoring.io import open_scoring_inputs, read_table

N_ERAS, N_STOCKS, N_FEATURES = 3, 60, 6


def write_dataset(directory: Path, *, unique_ids: bool = True) -> dict[str, Path]:
    """A tiny Numerai-style dataset: data (id index), features.json, predictions, meta model."""
    rng = np.random.default_rng(0)
    rows = []
    for era in range(1, N_ERAS + 1):
        for stock in range(N_STOCKS):
            rows.append({"id": f"n{era}_{stock:03d}" if unique_ids else f"s{stock:03d}", "era": f"{era:04d}"})
    data = pd.DataFrame(rows)
    features = [f"feature_{name}" for name in ("alpha", "beta", "gamma", "delta", "eps", "zeta")]
    for name in features:
        data[name] = rng.integers(0, 5, len(data)).astype(np.int8)
    signal = data[features].to_numpy() @ rng.normal(size=N_FEATURES) + rng.normal(size=len(data)) * 2
    data["target"] = (np.digitize(signal, np.quantile(signal, [0.2, 0.4, 0.6, 0.8])) / 4).astype(np.float32)
    data["target_other"] = rng.random(len(data)).astype(np.float32)
    paths = {"data": directory / "train.parquet"}
    data.set_index("id").to_parquet(paths["data"])
    paths["features"] = directory / "features.json"
    paths["features"].write_text(json.dumps({"feature_sets": {"small": features[:3], "all": features}}))
    predictions = data[["id", "era"]].copy()
    predictions["model_a"] = rng.random(len(data)) + 0.1 * signal
    predictions["model_b"] = rng.integers(0, 5, len(data)) / 4
    paths["predictions"] = directory / "predictions.parquet"
    predictions.set_index("id").to_parquet(paths["predictions"])
    meta = data[["id", "era"]].assign(numerai_meta_model=rng.random(len(data)) + 0.05 * signal)
    paths["meta_model"] = directory / "meta_model.parquet"
    meta.to_parquet(paths["meta_model"], index=False)
    return paths


@pytest.fixture
def dataset(tmp_path: Path) -> dict[str, Path]:
    return write_dataset(tmp_path)


def test_eras_stream_row_aligned_arrays(dataset: dict[str, Path]) -> None:
    inputs = open_scoring_inputs(
        dataset["predictions"], dataset["data"], meta_model_path=dataset["meta_model"], feature_set="small"
    )
    assert inputs.model_names == ("model_a", "model_b")
    assert inputs.eras == ("0001", "0002", "0003")
    assert inputs.target_name == "target"
    assert len(inputs.feature_names) == 3
    eras = list(inputs.iter_eras())
    data = read_table(dataset["data"])
    predictions = read_table(dataset["predictions"])
    first = data[data["era"] == "0001"]
    assert eras[0].predictions.shape == (N_STOCKS, 2) and eras[0].features.shape == (N_STOCKS, 3)
    np.testing.assert_array_equal(eras[0].target, first["target"].to_numpy(dtype=float))
    expected = predictions.set_index("id").loc[first["id"], "model_a"].to_numpy()
    np.testing.assert_array_equal(eras[0].predictions[:, 0], expected)


def test_predictions_without_era_and_a_single_prediction_column(
    dataset: dict[str, Path], tmp_path: Path
) -> None:
    classic = read_table(dataset["predictions"])[["id", "model_a"]].rename(columns={"model_a": "prediction"})
    path = tmp_path / "submission.csv"
    classic.sample(frac=1.0, random_state=0).to_csv(path, index=False)
    inputs = open_scoring_inputs(path, dataset["data"], feature_set="all")
    assert inputs.model_names == ("prediction",)
    assert len(inputs.feature_names) == N_FEATURES
    assert sum(len(era.target) for era in inputs.iter_eras()) == N_ERAS * N_STOCKS


def test_long_table_is_pivoted(dataset: dict[str, Path], tmp_path: Path) -> None:
    wide = read_table(dataset["predictions"])
    long = wide.melt(id_vars=["id", "era"], var_name="model", value_name="prediction")
    path = tmp_path / "long.parquet"
    long.to_parquet(path, index=False)
    inputs = open_scoring_inputs(path, dataset["data"])
    assert set(inputs.model_names) == {"model_a", "model_b"}


def test_csv_data_keeps_era_labels(dataset: dict[str, Path], tmp_path: Path) -> None:
    read_table(dataset["data"]).to_csv(tmp_path / "data.csv", index=False)
    inputs = open_scoring_inputs(dataset["predictions"], tmp_path / "data.csv", target="target_other")
    assert inputs.eras == ("0001", "0002", "0003") and inputs.target_name == "target_other"
    assert len(list(inputs.iter_eras())) == 3


def _bad_predictions(dataset: dict[str, Path], tmp_path: Path, change) -> Path:
    frame = read_table(dataset["predictions"])
    path = tmp_path / "bad.csv"
    change(frame).to_csv(path, index=False)
    return path


def _set(frame: pd.DataFrame, row: int, column: str, value: object) -> pd.DataFrame:
    frame = frame.astype({column: object})
    frame.loc[row, column] = value
    return frame


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        (lambda f: f.drop(columns="id"), "missing_column", "'id'"),
        (lambda f: _set(f, 3, "id", None), "nan_ids", "no id"),
        (lambda f: _set(f, 3, "id", "nobody"), "unknown_ids", "nobody"),
        (lambda f: pd.concat([f, f.iloc[:2]]), "duplicate_ids", "duplicated"),
        (lambda f: _set(f, 0, "era", "0003"), "wrong_era", "wrong era"),
        (lambda f: _set(f, 0, "era", "0042"), "wrong_era", "0042"),
        (lambda f: f[["id", "era"]], "missing_column", "no prediction column"),
        (lambda f: f.assign(model_a="high"), "wrong_dtype", "model_a"),
    ],
)
def test_bad_predictions_get_a_clear_error(dataset, tmp_path, change, code: str, words: str) -> None:
    path = _bad_predictions(dataset, tmp_path, change)
    with pytest.raises(DataFormatError) as error:
        open_scoring_inputs(path, dataset["data"])
    assert error.value.code == code
    assert words in error.value.message and "bad.csv" in error.value.message


def test_ids_repeating_across_eras_need_an_era_column(tmp_path: Path) -> None:
    paths = write_dataset(tmp_path, unique_ids=False)
    frame = read_table(paths["predictions"]).drop(columns="era")
    frame.iloc[:N_STOCKS].to_csv(tmp_path / "no_era.csv", index=False)
    with pytest.raises(DataFormatError, match="'era'"):
        open_scoring_inputs(tmp_path / "no_era.csv", paths["data"])
    inputs = open_scoring_inputs(paths["predictions"], paths["data"])  # with era it works
    assert len(list(inputs.iter_eras())) == N_ERAS


def test_bad_data_and_options(dataset: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        open_scoring_inputs(dataset["predictions"], tmp_path / "missing.parquet")
    with pytest.raises(DataFormatError, match=r"\.parquet or \.csv"):
        open_scoring_inputs(dataset["predictions"], dataset["features"])
    with pytest.raises(DataFormatError, match="target_nope"):
        open_scoring_inputs(dataset["predictions"], dataset["data"], target="target_nope")
    with pytest.raises(ConfigError, match="'huge'"):
        open_scoring_inputs(dataset["predictions"], dataset["data"], feature_set="huge")
    (tmp_path / "garbage.parquet").write_bytes(b"not a parquet file")
    with pytest.raises(DataFormatError, match="cannot be read"):
        open_scoring_inputs(dataset["predictions"], tmp_path / "garbage.parquet")
    no_target = read_table(dataset["data"]).drop(columns=["target", "target_other"])
    no_target.to_parquet(tmp_path / "no_target.parquet", index=False)
    with pytest.raises(DataFormatError, match="no target"):
        open_scoring_inputs(dataset["predictions"], tmp_path / "no_target.parquet")


def test_meta_model_file_needs_one_value_column(dataset: dict[str, Path], tmp_path: Path) -> None:
    meta = read_table(dataset["meta_model"]).rename(columns={"numerai_meta_model": "x"}).assign(y=1.0)
    meta.to_parquet(tmp_path / "meta.parquet", index=False)
    with pytest.raises(DataFormatError, match="one value column"):
        open_scoring_inputs(
            dataset["predictions"], dataset["data"], meta_model_path=tmp_path / "meta.parquet"
        )


def test_id_as_a_plain_parquet_column(dataset: dict[str, Path], tmp_path: Path) -> None:
    read_table(dataset["data"]).to_parquet(tmp_path / "plain.parquet", index=False)
    read_table(dataset["predictions"]).to_parquet(tmp_path / "predictions.parquet", index=False)
    inputs = open_scoring_inputs(tmp_path / "predictions.parquet", tmp_path / "plain.parquet")
    eras = list(inputs.iter_eras())
    assert len(eras) == N_ERAS and not np.isnan(eras[0].predictions).any()
