"""Rows keyed by (era, id) in every layout, and the one-line errors of bad keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kardashev.data.keys import check_prediction_keys, keyed, keys_layout, select_data_type, value_columns
from kardashev.data.layout import file_layout, index_columns
from kardashev.errors import DataFormatError


def _signals(tmp_path, **columns):
    frame = pd.DataFrame(
        {
            "numerai_ticker": ["A US", "B US", "A US"],
            "composite_figi": ["BBG1", None, "BBG1"],
            "date": pd.to_datetime(["2024-01-05", "2024-01-05", "2024-01-12"]),
            "target": [0.0, 1.0, 0.5],
            **columns,
        }
    )
    path = tmp_path / "validation.parquet"
    frame.to_parquet(path, index=False)
    return frame, file_layout(path)


def test_keyed_rows_of_a_signals_file(tmp_path) -> None:
    frame, layout = _signals(tmp_path)
    rows = keyed(frame, layout, "validation.parquet")
    assert rows["id"].tolist() == ["A US", "B US", "A US"]
    assert rows["era"].tolist() == ["2024-01-05", "2024-01-05", "2024-01-12"]
    by_figi = file_layout(layout.path, id_column="composite_figi")
    with pytest.raises(DataFormatError, match=r"validation\.parquet: 1 row\(s\) have no id"):
        keyed(frame, by_figi, "validation.parquet")
    assert keyed(frame, by_figi, "validation.parquet", drop_missing=True)["id"].tolist() == ["BBG1", "BBG1"]
    twice = pd.concat([frame, frame.iloc[:1]])
    with pytest.raises(
        DataFormatError, match=r"1 duplicated id\(s\) within an era, e\.g\. \['A US'\]"
    ) as error:
        keyed(twice, layout, "validation.parquet")
    assert error.value.code == "duplicate_ids"


def test_companion_files_are_keyed_like_the_data(tmp_path) -> None:
    _, data = _signals(tmp_path)
    legacy = pd.DataFrame({"composite_figi": ["BBG1"], "friday_date": [20240105], "signal": [0.3]})
    legacy.to_parquet(tmp_path / "preds.parquet", index=False)
    layout = keys_layout(tmp_path / "preds.parquet", data)
    assert (layout.id_column, layout.era_column) == ("composite_figi", "friday_date")
    assert keyed(legacy, layout, "preds.parquet")["era"].tolist() == ["2024-01-05"]
    assert value_columns(["numerai_ticker", "date", "era", "signal", "__index_level_0__"]) == ["signal"]
    classic = pd.DataFrame({"id": ["n1"], "era": ["0001"], "prediction": [0.5]})
    classic.to_parquet(tmp_path / "classic.parquet", index=False)
    with pytest.raises(DataFormatError, match="keyed by 'id'"):
        keys_layout(tmp_path / "classic.parquet", data)


def test_prediction_keys_against_the_data() -> None:
    data = pd.DataFrame({"id": ["a", "b", "a"], "era": ["0001", "0001", "0002"]})
    with_era = pd.DataFrame({"id": ["a", "b"], "era": ["0001", "0001"], "p": [0.1, 0.2]})
    assert check_prediction_keys(with_era, data, "p.csv", "d.parquet") is with_era
    with pytest.raises(DataFormatError, match=r"p\.csv: missing column\(s\) \['era'\]"):
        check_prediction_keys(with_era.drop(columns="era"), data, "p.csv", "d.parquet")
    unique = data.iloc[:2]
    attached = check_prediction_keys(with_era.drop(columns="era"), unique, "p.csv", "d.parquet")
    assert attached["era"].tolist() == ["0001", "0001"]
    wrong = with_era.assign(era=["0002", "0003"])
    with pytest.raises(DataFormatError, match=r"wrong era; era\(s\) \['0003'\] are not in d\.parquet"):
        check_prediction_keys(wrong, data, "p.csv", "d.parquet")
    with pytest.raises(DataFormatError, match=r"are not in d\.parquet, e\.g\. \['zz'\]"):
        check_prediction_keys(with_era.assign(id=["a", "zz"]), data, "p.csv", "d.parquet")


def test_select_data_type() -> None:
    frame = pd.DataFrame({"data_type": ["train", "validation", "live"], "x": np.arange(3)})
    assert select_data_type(frame, "validation", "f")["x"].tolist() == [1]
    assert select_data_type(frame, None, "f") is frame
    with pytest.raises(
        DataFormatError, match=r"f: no rows with data_type 'test' \(found \['live', 'train', 'validation'\]\)"
    ):
        select_data_type(frame, "test", "f")
    with pytest.raises(DataFormatError, match="needs a 'data_type' column"):
        select_data_type(frame.drop(columns="data_type"), "live", "f")


def test_saved_pandas_indexes_are_not_value_columns() -> None:
    columns = ["Unnamed: 0", "id", "era", "index", "level_0", "__index_level_0__", "", "model_a", "indexed"]
    assert index_columns(columns) == ["Unnamed: 0", "index", "level_0", "__index_level_0__", ""]
    assert value_columns(columns) == ["model_a", "indexed"]


@pytest.mark.parametrize(
    ("predictions", "data", "message"),
    [
        (
            {"numerai_ticker": ["AAPL US"], "date": ["2024-01-05"], "signal": [0.5]},
            {"id": ["n1"], "era": ["0001"], "target": [0.5]},
            "p.parquet is a Signals file (keyed by 'numerai_ticker') but d.parquet is Classic data "
            "(keyed by 'id')",
        ),
        (
            {"bloomberg_ticker": ["AAPL US"], "signal": [0.5]},
            {"id": ["n1"], "era": ["0001"], "target": [0.5]},
            "p.parquet is a Signals file (keyed by 'bloomberg_ticker') but d.parquet is Classic data "
            "(keyed by 'id')",
        ),
        (
            {"id": ["n1"], "era": ["0001"], "prediction": [0.5]},
            {"numerai_ticker": ["AAPL US"], "date": ["2024-01-05"], "target": [0.5]},
            "p.parquet is a Classic file (keyed by 'id') but d.parquet is Signals data "
            "(keyed by 'numerai_ticker')",
        ),
    ],
)
def test_a_file_of_the_other_tournament_is_named(predictions, data, message, tmp_path) -> None:
    pd.DataFrame(predictions).to_parquet(tmp_path / "p.parquet", index=False)
    pd.DataFrame(data).to_parquet(tmp_path / "d.parquet", index=False)
    with pytest.raises(DataFormatError) as caught:
        keys_layout(tmp_path / "p.parquet", file_layout(tmp_path / "d.parquet"))
    assert caught.value.code == "wrong_tournament"
    assert caught.value.message == message
