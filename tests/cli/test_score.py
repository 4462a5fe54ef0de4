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
from tests.scoring.numerai_files import N_ERAS, UNRESOLVED_20, UNRESOLVED_60, write_classic, write_signals
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


# ---------------------------------------------------------------- Numerai's own files, as downloaded


@pytest.fixture(scope="module")
def numerai(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("numerai")
    return {
        **write_classic(root / "v5.0"),
        **{f"signals_{k}": v for k, v in write_signals(root / "signals" / "v2.1").items()},
    }


def test_numerai_validation_file_with_several_targets_and_benchmarks(numerai, tmp_path: Path) -> None:
    out, report = tmp_path / "scores.csv", tmp_path / "diagnostics.json"
    args = ["score", str(numerai["example"]), "--data", str(numerai["validation"])]
    args += ["--meta-model", str(numerai["meta_model"]), "--benchmark", str(numerai["benchmark"])]
    args += ["--features", "small", "--target", "target", "--target", "target_teager2b_60"]
    args += ["--out", str(out), "--diagnostics", str(report)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert f"skipped {UNRESOLVED_20} unresolved era(s) of 'target'" in result.output
    assert f"skipped {UNRESOLVED_60} unresolved era(s) of 'target_teager2b_60'" in result.output
    assert "BMC of 'target' against benchmark column 'v52_lgbm_cyrusd20'" in result.output
    assert "BMC of 'target_teager2b_60' against benchmark column 'v52_lgbm_teager2b20'" in result.output
    per_era = pd.read_csv(out, dtype={"era": str})
    counts = per_era.groupby("target").size().to_dict()
    assert counts == {"target": N_ERAS - UNRESOLVED_20, "target_teager2b_60": N_ERAS - UNRESOLVED_60}
    # BMC of the 60-day target on its benchmark column is numerai-tools' number
    data = pd.read_parquet(numerai["validation"])
    bench = pd.read_parquet(numerai["benchmark"])
    predictions = pd.read_parquet(numerai["example"])
    row = per_era[per_era["target"] == "target_teager2b_60"].iloc[0]
    rows = data[data["era"] == row["era"]]
    expected = nt.correlation_contribution(
        predictions.loc[rows.index, ["prediction"]],
        bench.loc[rows.index, "v52_lgbm_teager2b20"],
        rows["target_teager2b_60"],
    )["prediction"]
    assert row["bmc"] == pytest.approx(expected, abs=1e-9)
    diagnostics = json.loads(report.read_text())
    assert set(diagnostics) == {"target", "target_teager2b_60"}
    assert diagnostics["target"]["prediction"]["validationCorrMean"] == pytest.approx(
        per_era.loc[per_era["target"] == "target", "corr"].mean()
    )


def test_benchmark_column_option_and_data_type(numerai, tmp_path: Path) -> None:
    data = pd.read_parquet(numerai["validation"])
    data.loc[data["era"] == data["era"].iloc[0], "data_type"] = "train"
    data.to_parquet(tmp_path / "mixed.parquet")
    args = ["score", str(numerai["example"]), "--data", str(tmp_path / "mixed.parquet")]
    args += ["--benchmark", str(numerai["benchmark"]), "--benchmark-column", "v52_lgbm_teager2b20"]
    args += ["--data-type", "validation", "--out", str(tmp_path / "s.csv")]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "rows with data_type 'validation' only" in result.output
    assert "against benchmark column 'v52_lgbm_teager2b20'" in result.output
    per_era = pd.read_csv(tmp_path / "s.csv", dtype={"era": str})
    assert len(per_era) == N_ERAS - UNRESOLVED_20 - 1 and data["era"].iloc[0] not in set(per_era["era"])


def test_live_file_validates_the_submission(numerai, tmp_path: Path, capsys) -> None:
    result = CliRunner().invoke(app, ["score", str(numerai["live_example"]), "--data", str(numerai["live"])])
    assert result.exit_code == 0, result.output
    assert "validated live_example_preds.parquet as a live classic submission" in result.output.replace(
        "\n", " "
    )
    short = pd.read_parquet(numerai["live_example"]).iloc[:-3]
    short.to_parquet(tmp_path / "short.parquet")
    with pytest.raises(SystemExit) as exit_info:
        main(["score", str(tmp_path / "short.parquet"), "--data", str(numerai["live"])])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "missing_ids" in error and "Traceback" not in error


def test_signals_alpha_with_the_side_files(numerai, tmp_path: Path) -> None:
    out = tmp_path / "signals.csv"
    args = ["score", str(numerai["signals_example"]), "--data", str(numerai["signals_validation"])]
    args += ["--neutralizer", str(numerai["signals_neutralizer"])]
    args += ["--sample-weights", str(numerai["signals_sample_weights"]), "--out", str(out)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Alpha" in result.output and f"skipped {UNRESOLVED_20} unresolved era(s)" in result.output
    per_era = pd.read_csv(out)
    first = per_era.iloc[0]
    date = pd.Timestamp(first["era"])

    def on_date(key: str) -> pd.DataFrame:
        frame = pd.read_parquet(numerai[key])
        return frame[frame["date"] == date].set_index("numerai_ticker").drop(columns="date")

    data, example = on_date("signals_validation"), on_date("signals_example")
    neutral, weights = on_date("signals_neutralizer"), on_date("signals_sample_weights")
    expected = nt.alpha(
        example.loc[data.index, ["signal"]],
        neutral.loc[data.index],
        weights.loc[data.index, "sample_weight"],
        data["target"],
    )["signal"]
    assert first["alpha"] == pytest.approx(expected, abs=1e-12)
    assert first["corr"] == pytest.approx(
        nt.numerai_corr(example.loc[data.index, ["signal"]], data["target"])["signal"], abs=1e-9
    )
    live = ["score", str(numerai["signals_live_example"]), "--data", str(numerai["signals_live"])]
    result = CliRunner().invoke(app, live, env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "live signals submission" in result.output


def test_numerai_file_errors_are_one_line(numerai, capsys) -> None:
    args = ["score", str(numerai["example"]), "--data", str(numerai["validation"])]
    for extra, words in (
        (["--benchmark", str(numerai["benchmark"]), "--benchmark-column", "nope"], "no column 'nope'"),
        (["--target", "target_nope"], "target_teager2b_60"),
        (["--data-type", "test"], "no rows with data_type 'test'"),
        (["--neutralizer", str(numerai["signals_neutralizer"])], "--sample-weights"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main([*args, *extra])
        assert exit_info.value.code == 2
        error = capsys.readouterr().err
        assert words in error.replace("\n", " ") and "Traceback" not in error


def test_a_synthetic_dataset_scores_like_numerais(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    runner = CliRunner()
    synth = ["data", "synth", "--out", str(out), "--stocks", "60", "--eras", "20", "--models", "4"]
    assert runner.invoke(app, synth).exit_code == 0
    args = ["score", str(out / "validation_predictions.parquet"), "--data", str(out / "validation.parquet")]
    args += ["--meta-model", str(out / "meta_model.parquet")]
    args += ["--benchmark", str(out / "validation_benchmark_models.parquet"), "--features", "small"]
    args += ["--target", "target", "--target", "target_short", "--out", str(tmp_path / "s.csv")]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "unresolved era(s) of 'target'" in result.output
    assert "benchmark column 'v1_lgbm_short'" in result.output
    per_era = pd.read_csv(tmp_path / "s.csv")
    assert set(per_era["target"]) == {"target", "target_short"} and per_era["bmc"].notna().all()
    signals = out / "signals"
    args = [
        "score",
        str(signals / "validation_example_preds.parquet"),
        "--data",
        str(signals / "validation.parquet"),
    ]
    args += ["--target", "target_short", "--neutralizer", str(signals / "validation_neutralizer.parquet")]
    args += ["--sample-weights", str(signals / "validation_sample_weights.parquet")]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    live = ["score", str(out / "live_example_preds.parquet"), "--data", str(out / "live.parquet")]
    assert "live classic submission" in runner.invoke(app, live).output


def test_live_rows_of_a_combined_file(numerai, tmp_path: Path) -> None:
    """Validation and live rows in one file (Numerai's old tournament file): --data-type picks them."""
    combined = pd.concat([pd.read_parquet(numerai["validation"]), pd.read_parquet(numerai["live"])])
    combined.to_parquet(tmp_path / "tournament.parquet")
    args = ["score", str(numerai["live_example"]), "--data", str(tmp_path / "tournament.parquet")]
    result = CliRunner().invoke(app, [*args, "--data-type", "live"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "live classic submission (80 of 80 ids)" in result.output
    result = CliRunner().invoke(app, args)  # without it the live era is just not resolved: nothing to score
    assert isinstance(result.exception, DataFormatError) and result.exception.code == "no_targets"
    scored = ["score", str(numerai["example"]), "--data", str(tmp_path / "tournament.parquet")]
    result = CliRunner().invoke(app, [*scored, "--data-type", "validation"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and f"skipped {UNRESOLVED_20} unresolved era(s)" in result.output
