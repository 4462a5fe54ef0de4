import datetime as dt
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kardashev.data.numerai import (
    META_MODEL_COLUMN,
    classic_writer,
    iter_classic,
    iter_meta_model,
    iter_predictions,
    iter_signals,
    read_classic,
    read_features_json,
    read_signals,
    validate_classic,
    write_features_json,
)
from kardashev.data.parquet import era_row_groups, iter_eras, list_eras
from kardashev.data.synthetic import CrowdConfig, MarketConfig, generate_crowd, generate_market, write_dataset
from kardashev.errors import DataFormatError, NotFoundError


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    market = generate_market(MarketConfig(n_stocks=120, n_eras=6, seed=2))
    crowd = generate_crowd(market, CrowdConfig(n_models=12, seed=2))
    out = tmp_path_factory.mktemp("synthetic")
    files = write_dataset(market, crowd, out)
    return market, crowd, files


def _classic_eras(files):
    for path in (files.train, files.validation, files.live):
        yield from iter_classic(path)


def test_classic_round_trip_era_by_era(written):
    market, _, files = written
    manifest = json.loads(files.manifest.read_text())
    splits = manifest["splits"]
    assert splits["train"] + splits["validation"] + splits["live"] == list(market.eras)
    assert list_eras(files.train) == splits["train"] and list_eras(files.live) == splits["live"]
    assert all(len(groups) == 1 for groups in era_row_groups(files.train).values())
    for (label, frame), era in zip(_classic_eras(files), market.iter_eras(), strict=True):
        assert label == era.era and frame.index.name == "id"
        assert frame.index.tolist() == era.ids.tolist()
        assert np.array_equal(frame[list(era.feature_names)].to_numpy(), era.features)
        assert all(frame[name].dtype == np.int8 for name in era.feature_names)
        targets = frame[list(era.target_names)].to_numpy()
        known = ~np.isnan(targets).all(axis=0)  # a target is resolved for the whole era or not at all
        assert np.array_equal(targets[:, known], era.targets[:, known].astype(np.float32))
        split = next(name for name, eras in splits.items() if label in eras)
        assert set(frame["data_type"]) == {split}
        if split == "train":
            assert known.all()
        else:  # resolved iff the target's horizon has passed by the newest (live) era
            horizons = np.asarray(market.target_horizons)
            assert np.array_equal(known, era.index + horizons <= market.n_eras - 1)


def test_features_json_and_feature_set_selection(written):
    market, _, files = written
    sets = read_features_json(files.features_json)
    assert sets["all"] == list(market.feature_names) and sets["targets"] == list(market.target_names)
    ((label, frame),) = iter_classic(
        files.train, feature_set="small", features_json=files.features_json, eras=["0003"]
    )
    assert label == "0003"
    assert set(frame.columns) == {*sets["small"], "data_type", *market.target_names, "era"}


def test_read_chosen_eras_with_filter(written):
    market, _, files = written
    frame = read_classic(files.train, eras=["0002", "0004"], columns=["target"])
    assert sorted(set(frame["era"])) == ["0002", "0004"] and frame.index.name == "id"
    assert np.allclose(frame.loc[frame["era"] == "0004", "target"].to_numpy(), market.era(3).targets[:, 0])


def test_predictions_meta_model_and_signals_round_trip(written):
    market, crowd, files = written
    validation = json.loads(files.manifest.read_text())["splits"]["validation"]
    label = validation[0]
    era = market.era(market.eras.index(label))
    expected = crowd.predictions(era)
    ((_, frame),) = iter_predictions(files.predictions, eras=[label])
    assert np.allclose(frame[list(crowd.model_names)].to_numpy(), expected)
    ((_, example),) = iter_predictions(files.example_predictions, eras=[label])
    assert np.allclose(example["prediction"].to_numpy(), expected[:, 0])
    metas = dict(iter_meta_model(files.meta_model))
    assert list(metas) == validation
    meta = metas[label][META_MODEL_COLUMN].to_numpy()
    stake_weighted = expected @ (crowd.stakes / crowd.stakes.sum())
    assert np.corrcoef(meta, stake_weighted)[0, 1] > 0.95
    signals = read_signals(files.signals_example_predictions, dates=[era.date.isoformat()])
    assert signals["numerai_ticker"].str.split(" ").str[0].tolist() == era.ids.tolist()
    assert signals["composite_figi"].str.startswith("BBG").all()
    assert set(signals["date"]) == {era.date}
    assert np.allclose(signals["signal"], expected[:, 0])
    dates = [market.era(market.eras.index(e)).date.isoformat() for e in validation]
    assert [key for key, _ in iter_signals(files.signals_validation)] == dates
    manifest = json.loads(files.manifest.read_text())
    assert [m["name"] for m in manifest["models"]] == list(crowd.model_names)


def test_operator_file_holds_returns_and_exposures(written):
    market, _, files = written
    ((_, frame),) = iter_eras(files.operator, eras=["0004"])
    era = market.era(3)
    assert np.allclose(frame["residual_return"], era.residual_returns)
    assert np.allclose(frame[list(era.exposure_names)].to_numpy(), era.exposures)


def _write(path, frame):
    pq.write_table(pa.Table.from_pandas(frame), path)


def _frame(n=6):
    return pd.DataFrame(
        {
            "era": ["0001"] * n,
            "data_type": "train",
            "feature_a": np.arange(n, dtype=np.int8) % 5,
            "target": np.linspace(0, 1, n),
        },
        index=pd.Index([f"id{i}" for i in range(n)], name="id"),
    )


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "x.parquet"
    _write(path, _frame())
    with pytest.raises(DataFormatError, match="feature_b") as info:
        list(iter_classic(path, columns=["feature_a", "feature_b"]))
    assert info.value.code == "missing_column"
    _write(path, _frame().drop(columns="era"))
    with pytest.raises(DataFormatError, match="era"):
        list(iter_classic(path))


def test_nan_ids_are_refused(tmp_path):
    frame = _frame()
    frame.index = pd.Index(["a", None, "c", "d", "e", "f"], name="id")
    path = tmp_path / "x.parquet"
    _write(path, frame)
    with pytest.raises(DataFormatError, match="missing") as info:
        list(iter_classic(path))
    assert info.value.code == "nan_ids"


def test_duplicated_ids_are_refused_but_same_id_in_two_eras_is_fine(tmp_path):
    frame = _frame()
    frame.index = pd.Index(["a", "b", "a", "d", "e", "f"], name="id")
    path = tmp_path / "x.parquet"
    _write(path, frame)
    with pytest.raises(DataFormatError, match="duplicated") as info:
        list(iter_classic(path))
    assert info.value.code == "duplicate_ids"
    two_eras = pd.concat([_frame(), _frame().assign(era="0002")])
    _write(path, two_eras)
    assert [label for label, _ in iter_classic(path)] == ["0001", "0002"]


def test_wrong_dtype_is_named(tmp_path):
    path = tmp_path / "x.parquet"
    _write(path, _frame().assign(feature_a=np.linspace(0, 4, 6)))
    with pytest.raises(DataFormatError, match="feature_a") as info:
        list(iter_classic(path))
    assert info.value.code == "wrong_dtype"
    _write(path, _frame().assign(target=["x"] * 6))
    with pytest.raises(DataFormatError, match="target"):
        list(iter_classic(path))
    with pytest.raises(DataFormatError, match=r"outside 0\.\.4"):
        validate_classic(_frame().assign(feature_a=np.int8(7)))


def test_unsorted_file_and_id_column_are_read(tmp_path):
    frame = pd.concat([_frame(), _frame().assign(era="0002")]).sample(frac=1, random_state=0).reset_index()
    path = tmp_path / "x.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=4)
    eras = dict(iter_eras(path))
    assert sorted(eras) == ["0001", "0002"] and all(len(f) == 6 for f in eras.values())
    for _, era_frame in iter_classic(path):
        assert sorted(era_frame["id"]) == [f"id{i}" for i in range(6)]


def test_signals_errors(tmp_path):
    path = tmp_path / "s.parquet"
    good = pd.DataFrame(
        {"numerai_ticker": ["A US", "B US"], "date": [dt.date(2024, 1, 5)] * 2, "signal": [0.2, 0.8]}
    )
    _write(path, good.drop(columns="numerai_ticker"))
    with pytest.raises(DataFormatError, match="ticker"):
        list(iter_signals(path))
    _write(path, good.assign(numerai_ticker=["A US", "A US"]))
    with pytest.raises(DataFormatError, match="duplicated"):
        list(iter_signals(path))
    _write(path, good.rename(columns={"date": "friday_date"}))
    ((_, frame),) = iter_signals(path)
    assert "date" in frame.columns


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(NotFoundError):
        list(iter_classic(tmp_path / "nope.parquet"))
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(DataFormatError, match="parquet"):
        list(iter_classic(bad))
    (tmp_path / "features.json").write_text("{}")
    with pytest.raises(DataFormatError, match=r"features\.json"):
        read_features_json(tmp_path / "features.json")
    path = tmp_path / "x.parquet"
    _write(path, _frame())
    with pytest.raises(NotFoundError, match="0009"):
        list(iter_classic(path, eras=["0009"]))


def test_streaming_writer_round_trip(tmp_path):
    path = tmp_path / "w.parquet"
    with classic_writer(path, ["feature_x"], ["target"]) as writer:
        for e in range(3):
            writer.write(
                {
                    "id": ["s1", "s2"],
                    "era": [f"{e + 1:04d}"] * 2,
                    "data_type": ["train"] * 2,
                    "feature_x": [e % 5, 4],
                    "target": [0.25, 0.75],
                }
            )
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    frames = dict(iter_classic(path))
    assert frames["0003"]["feature_x"].tolist() == [2, 4]
    with pytest.raises(DataFormatError, match="feature_"):
        classic_writer(tmp_path / "v.parquet", ["x"], ["target"])
    write_features_json(tmp_path / "f.json", {"all": ["feature_x"]}, ["target"])
    assert read_features_json(tmp_path / "f.json")["all"] == ["feature_x"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.integers(1, 30), min_size=1, max_size=4),
    st.integers(0, 2**31 - 1),
)
def test_classic_round_trip_property(tmp_path, era_sizes, seed):
    rng = np.random.default_rng(seed)
    path = tmp_path / f"p{seed}.parquet"
    written = {}
    with classic_writer(path, ["feature_a", "feature_b"], ["target", "target_b"]) as writer:
        for e, size in enumerate(era_sizes):
            ids = [f"ü{rng.integers(1e9)}_{i}" for i in range(size)]
            columns = {
                "id": ids,
                "era": [f"{e + 1:04d}"] * size,
                "data_type": ["train"] * size,
                "feature_a": rng.integers(0, 5, size),
                "feature_b": rng.integers(0, 5, size),
                "target": rng.choice([0, 0.25, 0.5, 0.75, 1.0, np.nan], size),
                "target_b": rng.random(size),
            }
            writer.write(columns)
            written[f"{e + 1:04d}"] = columns
    read = dict(iter_classic(path))
    assert list(read) == list(written)
    for era, frame in read.items():
        expected = written[era]
        assert frame.index.tolist() == expected["id"]
        assert frame["feature_a"].tolist() == list(expected["feature_a"])
        assert np.allclose(frame["target"], expected["target"].astype(np.float32), equal_nan=True)
    some = list(written)[-1:]
    assert read_classic(path, eras=some).index.tolist() == written[some[0]]["id"]


def test_signals_by_date_without_era_column(tmp_path):
    path = tmp_path / "s.parquet"
    frame = pd.DataFrame(
        {
            "bloomberg_ticker": ["A US Equity", "B US Equity", "A US Equity"],
            "date": [dt.date(2024, 1, 5), dt.date(2024, 1, 5), dt.date(2024, 1, 12)],
            "signal": [0.1, 0.9, 0.5],
        }
    )
    _write(path, frame)
    assert [key for key, _ in iter_signals(path)] == ["2024-01-05", "2024-01-12"]
    chosen = read_signals(path, dates=["2024-01-12"])
    assert chosen["bloomberg_ticker"].tolist() == ["A US Equity"] and chosen["signal"].tolist() == [0.5]


def test_signals_v21_written_by_pandas_with_timestamp_dates(tmp_path):
    from tests.scoring.numerai_files import write_signals

    paths = write_signals(tmp_path)
    data = pd.read_parquet(paths["validation"])
    eras = dict(iter_signals(paths["validation"]))
    assert list(eras) == sorted({d.strftime("%Y-%m-%d") for d in data["date"]})
    first = data[data["date"] == data["date"].min()]
    assert eras[next(iter(eras))]["numerai_ticker"].tolist() == first["numerai_ticker"].tolist()
    assert sum(len(frame) for frame in eras.values()) == len(data)
    (date, weights), *_ = iter_signals(paths["sample_weights"], value_columns=["sample_weight"])
    assert date == next(iter(eras)) and len(weights) == len(first)
