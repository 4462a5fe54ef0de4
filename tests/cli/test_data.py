import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from kardashev.cli.main import app
from kardashev.data.numerai import iter_classic, iter_meta_model, iter_predictions, read_features_json


def test_data_synth_writes_numerais_layouts(tmp_path):
    out = tmp_path / "ds"
    result = CliRunner().invoke(
        app,
        [
            "data",
            "synth",
            "--stocks",
            "60",
            "--eras",
            "12",
            "--models",
            "9",
            "--seed",
            "4",
            "--out",
            str(out),
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "wrote 720 rows" in result.output and "signals/validation_neutralizer.parquet" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    splits = manifest["splits"]
    assert splits["live"] == ["0012"] and splits["validation"] == ["0010", "0011"]
    eras = dict(iter_classic(out / "train.parquet"))
    assert list(eras) == splits["train"]
    features = read_features_json(out / "features.json")
    assert all(eras["0001"][name].dtype == np.int8 for name in features["all"])
    assert features["targets"] == manifest["target_names"]
    assert len(manifest["models"]) == 9 and manifest["market"]["seed"] == 4
    (_, predictions), *_ = iter_predictions(out / "validation_predictions.parquet")
    assert predictions.shape == (60, 10)
    assert [era for era, _ in iter_meta_model(out / "meta_model.parquet")] == splits["validation"]
    validation = pd.read_parquet(out / "validation.parquet")
    # the newest validation era: no horizon (2 to 8 eras) has passed yet
    newest = validation[validation["era"] == "0011"]
    assert newest[manifest["target_names"]].isna().all().all()
    live = pd.read_parquet(out / "live.parquet")
    assert set(live["data_type"]) == {"live"} and live[manifest["target_names"]].isna().all().all()
    bench = pd.read_parquet(out / "validation_benchmark_models.parquet")
    assert set(manifest["benchmark_columns"].values()) <= set(bench.columns)
    signals = pd.read_parquet(out / "signals" / "validation.parquet")
    assert {"numerai_ticker", "composite_figi", "date", "data_type"} <= set(signals.columns)
    for name in ("validation_neutralizer", "validation_sample_weights", "validation_example_preds"):
        side = pd.read_parquet(out / "signals" / f"{name}.parquet")
        assert {"numerai_ticker", "date"} <= set(side.columns) and len(side) == len(signals)


def test_data_synth_is_reproducible(tmp_path):
    args = ["data", "synth", "--stocks", "40", "--eras", "2", "--models", "7", "--seed", "1", "--out"]
    runner = CliRunner()
    assert runner.invoke(app, [*args, str(tmp_path / "a")]).exit_code == 0
    assert runner.invoke(app, [*args, str(tmp_path / "b")]).exit_code == 0
    a = dict(iter_classic(tmp_path / "a" / "train.parquet"))
    b = dict(iter_classic(tmp_path / "b" / "train.parquet"))
    assert all(a[k].equals(b[k]) for k in a)


def test_data_synth_rejects_bad_sizes(tmp_path):
    result = CliRunner().invoke(app, ["data", "synth", "--stocks", "5", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "--stocks" in result.output


def test_data_synth_refuses_a_file_as_output(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    result = CliRunner().invoke(app, ["data", "synth", "--stocks", "40", "--eras", "2", "--out", str(target)])
    assert result.exit_code != 0
    assert "not a folder" in str(result.exception)
    assert target.read_text() == "keep me"
