"""``kardashev score`` on the files users actually save: every surprise is named, in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kardashev.cli.main import app, main
from kardashev.errors import DataFormatError
from tests.scoring.test_io import write_dataset


@pytest.fixture
def dataset(tmp_path: Path) -> dict[str, Path]:
    return write_dataset(tmp_path)


@pytest.fixture
def predictions(dataset: dict[str, Path]) -> pd.DataFrame:
    return pd.read_parquet(dataset["predictions"]).reset_index()


def _score(path: Path, dataset: dict[str, Path], *extra: str, out: Path | None = None):  # type: ignore[no-untyped-def]
    args = ["score", str(path), "--data", str(dataset["data"]), *extra]
    if out is not None:
        args += ["--out", str(out)]
    return CliRunner().invoke(app, args, env={"COLUMNS": "200"})


def _per_era(path: Path, dataset: dict[str, Path], tmp_path: Path) -> pd.DataFrame:
    out = tmp_path / f"{path.stem}-scores.csv"
    result = _score(path, dataset, out=out)
    assert result.exit_code == 0, result.output
    return pd.read_csv(out, dtype={"era": str})


def _one_line_error(result, code: str) -> str:  # type: ignore[no-untyped-def]
    assert isinstance(result.exception, DataFormatError), result.output
    assert result.exception.code == code
    message = result.exception.message
    assert "\n" not in message and len(message) <= 160, message
    return message


@pytest.mark.parametrize(
    ("name", "save", "ignored"),
    [
        ("to_csv default", lambda f, p: f.to_csv(p), "'Unnamed: 0'"),
        ("reset_index", lambda f, p: f.reset_index().to_csv(p, index=False), "'index'"),
        ("parquet reset_index", lambda f, p: f.reset_index().to_parquet(p, index=False), "'index'"),
    ],
)
def test_a_saved_index_column_is_ignored_with_a_note(
    name, save, ignored, predictions: pd.DataFrame, dataset: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / ("indexed.parquet" if "parquet" in name else "indexed.csv")
    save(predictions, path)
    result = _score(path, dataset)
    assert result.exit_code == 0, result.output
    assert f"{path.name}: ignored {ignored} (a saved pandas index, not predictions)" in result.output
    per_era = _per_era(path, dataset, tmp_path)
    assert sorted(per_era["model"].unique()) == ["model_a", "model_b"]
    plain = tmp_path / "plain.csv"
    predictions.to_csv(plain, index=False)
    pd.testing.assert_frame_equal(per_era, _per_era(plain, dataset, tmp_path))


def test_nan_predictions_are_counted(
    predictions: pd.DataFrame, dataset: dict[str, Path], tmp_path: Path
) -> None:
    rng = np.random.default_rng(1)
    dropped = rng.random(len(predictions)) < 0.05
    predictions.loc[dropped, "model_a"] = np.nan
    predictions.to_csv(tmp_path / "nan5.csv", index=False)
    result = _score(tmp_path / "nan5.csv", dataset)
    assert result.exit_code == 0, result.output
    n = len(predictions)
    assert f"model_a: {int(dropped.sum())} of {n} rows left out: {int(dropped.sum())} NaN prediction(s)" in (
        result.output
    )
    assert "model_b:" not in result.output


def test_ids_without_a_prediction_are_counted(
    predictions: pd.DataFrame, dataset: dict[str, Path], tmp_path: Path
) -> None:
    predictions.drop(index=[0, 1, 2]).to_csv(tmp_path / "fewer.csv", index=False)
    result = _score(tmp_path / "fewer.csv", dataset)
    assert result.exit_code == 0, result.output
    n = len(predictions)
    for model in ("model_a", "model_b"):
        assert f"{model}: 3 of {n} rows left out: 3 id(s) of the data without a prediction" in result.output


def test_a_model_without_a_score_says_why(
    predictions: pd.DataFrame, dataset: dict[str, Path], tmp_path: Path
) -> None:
    rng = np.random.default_rng(2)
    predictions.loc[rng.random(len(predictions)) < 0.5, "model_a"] = np.nan
    predictions["model_b"] = 0.5
    predictions["model_c"] = np.nan
    predictions.to_csv(tmp_path / "bad_models.csv", index=False)
    result = _score(tmp_path / "bad_models.csv", dataset)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    reasons = [line for line in lines if ": no score" in line]
    assert len(reasons) == 3
    assert reasons[0].startswith("model_a: no score: predictions on under 80% of the rows (")
    assert reasons[0].endswith("% on average) in every era")
    assert reasons[1] == "model_b: no score: constant predictions in every era"
    assert reasons[2] == "model_c: no score: no usable prediction (all NaN or missing) in every era"


@pytest.mark.parametrize(
    ("name", "write", "note"),
    [
        ("semicolon", lambda f, p: f.to_csv(p, index=False, sep=";"), "read as semicolon-separated"),
        ("tab", lambda f, p: f.to_csv(p, index=False, sep="\t"), "read as tab-separated"),
        (
            "euro",
            lambda f, p: f.assign(
                model_a=[f"{v:.17g}".replace(".", ",") for v in f["model_a"]],
                model_b=[f"{v:.17g}".replace(".", ",") for v in f["model_b"]],
            ).to_csv(p, index=False, sep=";"),
            "read as semicolon-separated, decimal commas",
        ),
        ("utf16", lambda f, p: f.to_csv(p, index=False, encoding="utf-16"), "read as UTF-16"),
    ],
)
def test_delimiters_and_encodings_are_detected_and_named(
    name, write, note, predictions: pd.DataFrame, dataset: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / f"{name}.csv"
    write(predictions, path)
    result = _score(path, dataset)
    assert result.exit_code == 0, result.output
    assert f"{path.name}: {note}" in result.output
    plain = tmp_path / "plain.csv"
    predictions.to_csv(plain, index=False)
    pd.testing.assert_frame_equal(_per_era(path, dataset, tmp_path), _per_era(plain, dataset, tmp_path))


def test_other_encodings_are_one_line_errors(
    predictions: pd.DataFrame, dataset: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(
        predictions.rename(columns={"model_b": "modèle_b"}).to_csv(index=False).encode("latin-1")
    )
    message = _one_line_error(_score(path, dataset), "bad_encoding")
    assert message.startswith("latin.csv: not UTF-8 (byte 0xe8 on line 1")


@pytest.mark.parametrize("ticker", ["numerai_ticker", "bloomberg_ticker"])
def test_a_signals_file_given_to_the_classic_scorer(
    ticker: str, predictions: pd.DataFrame, dataset: dict[str, Path], tmp_path: Path
) -> None:
    signals = predictions.rename(columns={"id": ticker, "model_a": "signal"}).drop(columns="model_b")
    signals.to_csv(tmp_path / "signals.csv", index=False)
    message = _one_line_error(_score(tmp_path / "signals.csv", dataset), "wrong_tournament")
    assert message == (
        f"signals.csv is a Signals file (keyed by {ticker!r}) but train.parquet is Classic data "
        "(keyed by 'id')"
    )


def test_a_wrong_meta_model_file_shows_at_most_five_columns(dataset: dict[str, Path], tmp_path: Path) -> None:
    wide = pd.read_parquet(dataset["meta_model"]).drop(columns="numerai_meta_model")
    for i in range(50):
        wide[f"col_{i:02d}"] = 0.1
    wide.to_parquet(tmp_path / "wide.parquet", index=False)
    result = _score(dataset["predictions"], dataset, "--meta-model", str(tmp_path / "wide.parquet"))
    message = _one_line_error(result, "missing_column")
    assert "it has 50:" in message and "(+45 more)" in message
    assert message.count("col_") == 5


def test_ids_saved_as_an_unnamed_index_get_a_hint(
    predictions: pd.DataFrame, dataset: dict[str, Path], tmp_path: Path
) -> None:
    predictions.set_index("id").to_csv(tmp_path / "noid.csv", index_label=False)
    message = _one_line_error(_score(tmp_path / "noid.csv", dataset), "missing_column")
    assert "the unnamed first column the ids" in message and "name it 'id'" in message


def test_errors_print_as_one_line_through_main(
    predictions: pd.DataFrame, dataset: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signals = predictions.rename(columns={"id": "numerai_ticker"})
    signals.to_csv(tmp_path / "signals.csv", index=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["score", str(tmp_path / "signals.csv"), "--data", str(dataset["data"])])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("error (wrong_tournament): signals.csv is a Signals file")
    assert len(error.strip().splitlines()) == 1
