import json

import numpy as np
from typer.testing import CliRunner

from kardashev.cli.main import app
from kardashev.data.numerai import iter_classic, iter_meta_model, iter_predictions, read_features_json


def test_data_synth_writes_a_numerai_dataset(tmp_path):
    out = tmp_path / "ds"
    result = CliRunner().invoke(
        app,
        ["data", "synth", "--stocks", "60", "--eras", "5", "--models", "9", "--seed", "4", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "wrote 300 rows" in result.output
    eras = dict(iter_classic(out / "train.parquet"))
    assert list(eras) == ["0001", "0002", "0003", "0004", "0005"]
    features = read_features_json(out / "features.json")["all"]
    assert all(eras["0001"][name].dtype == np.int8 for name in features)
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["models"]) == 9 and manifest["market"]["seed"] == 4
    (_, predictions), *_ = iter_predictions(out / "predictions.parquet")
    assert predictions.shape == (60, 10)
    assert len(list(iter_meta_model(out / "meta_model.parquet"))) == 5


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
