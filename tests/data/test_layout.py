"""Numerai's file layouts told apart by their columns, read one era at a time."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kardashev.data.layout import (
    era_labels,
    file_layout,
    iter_key_eras,
    match_target_column,
    read_table,
    select_validation_rows,
)
from kardashev.errors import DataFormatError, NotFoundError


def _classic(n_eras: int = 3, n: int = 5) -> pd.DataFrame:
    rows = [
        {
            "id": f"n{e}{i}",
            "era": f"{e + 1:04d}",
            "data_type": "validation",
            "feature_a": i % 5,
            "target": 0.5,
        }
        for e in range(n_eras)
        for i in range(n)
    ]
    return pd.DataFrame(rows).astype({"feature_a": np.int8}).set_index("id")


def test_layouts_are_told_apart_by_their_columns(tmp_path) -> None:
    _classic().to_parquet(tmp_path / "validation.parquet")
    classic = file_layout(tmp_path / "validation.parquet")
    assert (classic.kind, classic.id_column, classic.era_column) == ("classic", "id", "era")
    assert classic.targets == ("target",) and classic.features == ("feature_a",) and classic.has_data_type
    signals = pd.DataFrame(
        {
            "numerai_ticker": ["A US"],
            "composite_figi": ["BBG000000001"],
            "date": [pd.Timestamp("2024-01-05")],
            "era": ["0001"],
            "signal": [0.5],
        }
    )
    signals.to_parquet(tmp_path / "signals.parquet", index=False)
    layout = file_layout(tmp_path / "signals.parquet")
    assert (layout.kind, layout.id_column, layout.era_column) == ("signals", "numerai_ticker", "date")
    assert layout.values == ("signal",)
    figi = file_layout(tmp_path / "signals.parquet", id_column="composite_figi")
    assert figi.id_column == "composite_figi"
    legacy = signals.drop(columns=["date", "era"]).assign(friday_date=20240105)
    legacy.to_parquet(tmp_path / "legacy.parquet", index=False)
    assert file_layout(tmp_path / "legacy.parquet").era_column == "friday_date"
    pd.DataFrame({"id": ["a"], "prediction": [0.5]}).to_csv(tmp_path / "live.csv", index=False)
    assert file_layout(tmp_path / "live.csv").era_column is None
    pd.DataFrame({"stock": ["a"], "prediction": [0.5]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataFormatError, match=r"bad\.csv: missing column\(s\) \['id'\]"):
        file_layout(tmp_path / "bad.csv")
    with pytest.raises(NotFoundError):
        file_layout(tmp_path / "nope.parquet")
    with pytest.raises(DataFormatError, match="figi"):
        file_layout(tmp_path / "live.csv", id_column="composite_figi")


def test_era_labels_for_every_date_form() -> None:
    assert era_labels(pd.Series(["0001", "0575"])).tolist() == ["0001", "0575"]
    timestamps = pd.Series(pd.to_datetime(["2024-01-05", "2024-01-12"]))
    assert era_labels(timestamps).tolist() == ["2024-01-05", "2024-01-12"]
    dates = pd.Series([dt.date(2024, 1, 5), None])
    labels = era_labels(dates)
    assert labels[0] == "2024-01-05" and pd.isna(labels[1])
    assert era_labels(pd.Series([20240105, 20240112]), dates=True).tolist() == ["2024-01-05", "2024-01-12"]
    assert era_labels(pd.Series(["20240105"]), dates=True).tolist() == ["2024-01-05"]
    assert era_labels(pd.Series([20240105])).tolist() == ["20240105"]  # an era number stays a number


def test_benchmark_columns_are_matched_to_targets() -> None:
    columns = ["v52_lgbm_cyrusd20", "v52_lgbm_teager2b20", "v52_lgbm_ender20"]
    assert match_target_column(columns, "target_cyrusd_20") == "v52_lgbm_cyrusd20"
    assert match_target_column(columns, "target_teager2b_60") == "v52_lgbm_teager2b20"  # same target, 20D
    assert match_target_column(columns, "target_agnes_20") is None
    assert match_target_column(columns, "target") is None  # Numerai's `target` names no model
    assert match_target_column(["v1_lgbm_target", "v1_lgbm_short"], "target") == "v1_lgbm_target"
    assert match_target_column(["a_ender20", "b_ender20"], "target_ender_20") is None  # ambiguous


def test_one_era_at_a_time_reads_only_its_row_groups(tmp_path, monkeypatch) -> None:
    path = tmp_path / "validation.parquet"
    frame = _classic(n_eras=4)
    table = pa.Table.from_pandas(frame)
    with pq.ParquetWriter(path, table.schema) as writer:
        for era in ["0001", "0002", "0003", "0004"]:
            writer.write_table(pa.Table.from_pandas(frame[frame["era"] == era], schema=table.schema))
    read: list[list[int]] = []
    original = pq.ParquetFile.iter_batches

    def spy(self, *args, row_groups=None, **kwargs):
        read.append(list(row_groups))
        return original(self, *args, row_groups=row_groups, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    layout = file_layout(path)
    ((era, got),) = iter_key_eras(layout, ["target"], ["0003"])
    assert era == "0003" and read == [[2]]
    assert list(got.columns) == ["id", "era", "target"]
    assert got["id"].tolist() == frame[frame["era"] == "0003"].index.tolist()


@pytest.mark.parametrize("batch_rows", [1, 4, 7, 1000])
def test_eras_sharing_row_groups_stream_in_batches(tmp_path, monkeypatch, batch_rows) -> None:
    """Numerai's files may pack many eras into one row group: each era still comes alone."""
    import kardashev.data.layout as layout_module

    monkeypatch.setattr(layout_module, "_BATCH_ROWS", batch_rows)
    frame = _classic(n_eras=5, n=6).assign(target=np.arange(30) / 30)
    path = tmp_path / "validation.parquet"
    frame.to_parquet(path, row_group_size=8)  # row groups cut across eras
    layout = file_layout(path)
    eras = ["0001", "0002", "0004", "0005"]
    got = dict(iter_key_eras(layout, ["target", "feature_a"], [*eras, "0099"]))
    for era in eras:
        expected = frame[frame["era"] == era]
        assert got[era]["id"].tolist() == expected.index.tolist()
        assert got[era]["target"].tolist() == expected["target"].tolist()
    assert got["0099"].empty and list(got["0099"].columns) == ["id", "era", "target", "feature_a"]
    # asked in another order than the file's: each era reads the row groups holding it
    assert [e for e, _ in iter_key_eras(layout, ["target"], ["0004", "0001"])] == ["0004", "0001"]
    backwards = dict(iter_key_eras(layout, ["target"], ["0004", "0001"]))
    assert backwards["0001"]["id"].tolist() == frame[frame["era"] == "0001"].index.tolist()


def test_dates_spread_over_row_groups_are_filtered(tmp_path) -> None:
    path = tmp_path / "signals.parquet"
    dates = pd.to_datetime(["2024-01-05", "2024-01-12", "2024-01-05", "2024-01-12"])
    frame = pd.DataFrame(
        {"numerai_ticker": ["A", "A", "B", "B"], "date": dates, "target": [0.0, 0.25, 0.5, 1.0]}
    )
    frame.to_parquet(path, index=False, row_group_size=3)  # no row group holds exactly one date
    layout = file_layout(path)
    got = dict(iter_key_eras(layout, ["target"], ["2024-01-12", "2024-01-05"]))
    assert got["2024-01-12"]["numerai_ticker"].tolist() == ["A", "B"]
    assert got["2024-01-05"]["target"].tolist() == [0.0, 0.5]
    frame.to_csv(tmp_path / "signals.csv", index=False)
    from_csv = dict(iter_key_eras(file_layout(tmp_path / "signals.csv"), ["target"], ["2024-01-05"]))
    assert from_csv["2024-01-05"]["target"].tolist() == [0.0, 0.5]


def test_read_table_selects_columns_and_restores_the_id(tmp_path) -> None:
    _classic().to_parquet(tmp_path / "validation.parquet")
    frame = read_table(tmp_path / "validation.parquet", columns=["id", "target"])
    assert list(frame.columns) == ["id", "target"] and frame["id"].iloc[0] == "n00"
    with pytest.raises(DataFormatError, match=r"validation\.parquet: missing column\(s\) \['target_x'\]"):
        read_table(tmp_path / "validation.parquet", columns=["target_x"])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataFormatError, match=r"\.parquet or \.csv"):
        read_table(tmp_path / "notes.txt")


def test_select_validation_rows() -> None:
    frame = _classic().assign(target_cyrusd_20=0.25)
    frame.loc[frame["era"] == "0001", "data_type"] = "train"
    table = select_validation_rows(frame)
    assert set(table["era"]) == {"0002", "0003"} and "id" in table.columns
    assert select_validation_rows(frame, target="target_cyrusd_20")["target"].eq(0.25).all()
    with pytest.raises(DataFormatError, match="target_cyrusd_20"):
        select_validation_rows(frame, target="target_nope")
    only_train = frame.assign(data_type="train")
    assert len(select_validation_rows(only_train)) == len(frame)  # no validation rows: all kept
