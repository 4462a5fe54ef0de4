"""``kardashev score`` on good and bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numerai_tools import scoring as nt
from typer.testing import CliRunner

from kardashev.cli.main import app, main
from kardashev.errors import DataFormatError
from kardashev.scoring.io import read_table
from tests.scoring.test_io import write_dataset


@pytest.fixture
def dataset(tmp_path: Path) -> dict[str, Path]:
    return write_dataset(tmp_path)


def test_score_prints_a_summary_and_writes_per_era_scores(dataset: dict[str, Path], tmp_path: Path) -> None:
    out, report = tmp_path / "scores.csv", tmp_path / "diagnostics.json"
    result = CliRunner().invoke(
        app,
        [
            "score",
            str(dataset["predictions"]),
            "--data",
            str(dataset["data"]),
            "--meta-model",
            str(dataset["meta_model"]),
            "--features",
            "small",
            "--out",
            str(out),
            "--diagnostics",
            str(report),
        ],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    assert "model_a" in result.output and "CORR" in result.output and "FNC" in result.output
    per_era = pd.read_csv(out, dtype={"era": str})
    assert len(per_era) == 3 * 2
    assert {"era", "model", "corr", "mmc", "fnc", "cwmm", "feature_exposure_max"} <= set(per_era.columns)
    # the per-era CORR and MMC are numerai-tools' numbers
    data, predictions = read_table(dataset["data"]), read_table(dataset["predictions"])
    meta = read_table(dataset["meta_model"])
    first = data[data["era"] == "0002"].set_index("id")
    model = predictions.set_index("id").loc[first.index, ["model_a"]]
    row = per_era[(per_era["era"] == "0002") & (per_era["model"] == "model_a")].iloc[0]
    targets = first["target"].astype(float)
    assert row["corr"] == pytest.approx(nt.numerai_corr(model, targets)["model_a"], abs=1e-9)
    meta_model = meta.set_index("id").loc[first.index, "numerai_meta_model"]
    assert row["mmc"] == pytest.approx(
        nt.correlation_contribution(model, meta_model, targets)["model_a"], abs=1e-9
    )
    diagnostics = json.loads(report.read_text())
    assert diagnostics["model_a"]["validationCorrMean"] == pytest.approx(
        per_era[per_era["model"] == "model_a"]["corr"].mean()
    )


def test_parquet_output_and_raw_returns(dataset: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    result = CliRunner().invoke(
        app,
        [
            "score",
            str(dataset["predictions"]),
            "--data",
            str(dataset["data"]),
            "--raw-returns",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(out)["corr"].notna().all()


def test_bad_file_is_a_domain_error(dataset: dict[str, Path], tmp_path: Path) -> None:
    bad = read_table(dataset["predictions"])
    bad.loc[5, "id"] = "ghost"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    result = CliRunner().invoke(app, ["score", str(tmp_path / "bad.csv"), "--data", str(dataset["data"])])
    assert isinstance(result.exception, DataFormatError)
    assert result.exception.code == "unknown_ids"


def test_main_prints_one_line_instead_of_a_trace(
    dataset: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = read_table(dataset["predictions"])
    pd.concat([bad, bad.iloc[:1]]).to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["score", str(tmp_path / "dup.csv"), "--data", str(dataset["data"])])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "duplicate_ids" in error and "dup.csv" in error and "Traceback" not in error


def test_unknown_output_suffix(dataset: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "score",
            str(dataset["predictions"]),
            "--data",
            str(dataset["data"]),
            "--out",
            str(tmp_path / "x.txt"),
        ],
    )
    assert isinstance(result.exception, DataFormatError)
    assert not np.any([p.name == "x.txt" for p in tmp_path.iterdir()])
