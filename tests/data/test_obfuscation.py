import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kardashev.data.numerai import iter_classic, read_features_json
from kardashev.data.obfuscation import ObfuscationKey, Obfuscator, obfuscated_ids
from kardashev.data.parquet import iter_eras
from kardashev.errors import ConfigError, DataFormatError

TICKERS = [f"TCK{i}" for i in range(100)]


def _raw(seed, tickers=TICKERS):
    rng = np.random.default_rng(seed)
    n = len(tickers)
    pe = rng.normal(size=n)
    pe[:7] = np.nan
    return pd.DataFrame(
        {
            "ticker": tickers,
            "market_cap": rng.lognormal(20, 2, size=n),
            "momentum_12m": rng.normal(size=n),
            "pe_ratio": pe,
            "return_20d": rng.standard_t(4, size=n) * 0.05,
        }
    )


@pytest.fixture
def obfuscator():
    key = ObfuscationKey(b"k" * 32)
    return Obfuscator(
        key=key, raw_features=("market_cap", "momentum_12m", "pe_ratio"), raw_targets=("return_20d",)
    )


def test_published_era_is_binned_and_anonymous(obfuscator):
    published = obfuscator.publish_era(dt.date(2020, 1, 10), _raw(0))
    frame = published.frame
    assert frame.index.name == "id" and len(frame) == 100
    features = list(obfuscator.feature_names)
    assert all(name.startswith("feature_") for name in features)
    assert not any(raw in name for raw in ("market", "momentum", "pe") for name in features)
    assert all(frame[name].dtype == np.int8 and frame[name].between(0, 4).all() for name in features)
    size = obfuscator.feature_map["market_cap"]
    assert frame[size].value_counts().tolist() == [20] * 5
    assert set(frame["target"]) == {0.0, 0.25, 0.5, 0.75, 1.0}
    assert not frame.index.isin(TICKERS).any()
    raw = _raw(0).set_index("ticker")
    by_ticker = published.mapping.set_index("id").loc[frame.index, "ticker"]
    assert (
        frame[obfuscator.feature_map["pe_ratio"]].to_numpy()[raw.loc[by_ticker, "pe_ratio"].isna()] == 2
    ).all()
    # ranks are preserved: a larger raw value never gets a smaller bin
    order = np.argsort(raw.loc[by_ticker, "market_cap"].to_numpy())
    assert np.all(np.diff(frame[size].to_numpy()[order]) >= 0)


def test_ids_do_not_link_across_eras_or_keys(obfuscator):
    a = obfuscator.publish_era(dt.date(2020, 1, 10), _raw(0))
    b = obfuscator.publish_era(dt.date(2020, 1, 17), _raw(1))
    assert a.era != b.era
    assert not set(a.frame.index) & set(b.frame.index)
    other = obfuscated_ids(ObfuscationKey(b"x" * 32), a.era, TICKERS)
    assert not set(other) & set(a.frame.index)
    again = obfuscated_ids(obfuscator.key, a.era, TICKERS)
    assert set(again) == set(a.frame.index)
    assert a.frame.index.is_monotonic_increasing  # row order is by id, not by ticker


def test_operator_maps_ids_back_to_tickers(obfuscator):
    published = obfuscator.publish_era(dt.date(2020, 1, 10), _raw(0))
    linked = obfuscator.link(published.era, TICKERS, published.frame.index)
    assert linked.tolist() == published.mapping["ticker"].tolist()
    assert obfuscator.link(published.era, TICKERS[:10], ["n_unknown"]).tolist() == [None]


def test_publish_streams_dataset_and_keeps_mapping_apart(obfuscator, tmp_path):
    dates = [dt.date(2020, 1, 10) + dt.timedelta(weeks=w) for w in range(4)]
    out = tmp_path / "public"
    mapping = tmp_path / "private" / "mapping.parquet"
    rows = obfuscator.publish(((d, _raw(i)) for i, d in enumerate(dates)), out, mapping_path=mapping)
    assert rows == 400
    eras = dict(iter_classic(out / "train.parquet"))
    assert len(eras) == 4
    assert read_features_json(out / "features.json")["all"] == list(obfuscator.feature_names)
    assert not list(out.glob("*mapping*"))
    (label, first), *_ = eras.items()
    ((_, private),) = iter_eras(mapping, eras=[label])
    assert sorted(private["id"]) == sorted(first.index)
    with pytest.raises(ConfigError, match="mapping"):
        obfuscator.publish([], out, mapping_path=out / "mapping.parquet")
    with pytest.raises(ConfigError, match="mapping"):
        obfuscator.publish([], out, mapping_path=out / "sub" / "mapping.parquet")


def test_bad_raw_data_and_keys(obfuscator):
    date = dt.date(2020, 1, 10)
    with pytest.raises(DataFormatError, match="pe_ratio"):
        obfuscator.publish_era(date, _raw(0).drop(columns="pe_ratio"))
    with pytest.raises(DataFormatError, match="duplicated"):
        obfuscator.publish_era(date, _raw(0, tickers=["A"] * 100))
    with pytest.raises(DataFormatError, match="missing tickers"):
        obfuscator.publish_era(date, _raw(0).assign(ticker=[None, *TICKERS[1:]]))
    with pytest.raises(DataFormatError, match="momentum_12m"):
        obfuscator.publish_era(date, _raw(0).assign(momentum_12m="high"))
    with pytest.raises(DataFormatError, match="epoch"):
        obfuscator.publish_era(dt.date(1990, 1, 5), _raw(0))
    with pytest.raises(ConfigError):
        ObfuscationKey(b"short")
    with pytest.raises(ConfigError):
        ObfuscationKey.from_hex("zz")
    key = ObfuscationKey.generate()
    assert ObfuscationKey.from_hex(key.hex()) == key and "secret" not in repr(key).replace("<secret>", "")
    assert key.hex() not in repr(key)
