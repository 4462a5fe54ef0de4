"""score_frame: wide and long pandas predictions give the per-era scores of the array core."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kardashev.errors import DataFormatError
from kardashev.scoring import score_era, score_frame


def _frames(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    rows = []
    for era in ("0001", "0002"):
        for stock in range(50):
            rows.append({"id": f"s{stock:02d}", "era": era})
    data = pd.DataFrame(rows)
    data["feature_a"] = rng.integers(0, 5, len(data))
    data["feature_b"] = rng.integers(0, 5, len(data))
    data["target"] = rng.integers(0, 5, len(data)) / 4
    wide = (
        data[["id", "era"]]
        .assign(m1=rng.random(len(data)), m2=rng.random(len(data)))
        .sample(frac=1, random_state=1)
    )
    meta = pd.Series(rng.random(len(data)), index=pd.MultiIndex.from_frame(data[["era", "id"]]))
    return wide, data, meta


def test_wide_and_long_agree_with_score_era() -> None:
    wide, data, meta = _frames()
    table = score_frame(wide, data, features=["feature_a", "feature_b"], meta_model=meta)
    assert list(table["era"].unique()) == ["0001", "0002"] and len(table) == 4
    first = data[data["era"] == "0002"]
    predictions = wide.set_index(["era", "id"]).loc[
        list(zip(first["era"], first["id"], strict=True)), ["m1", "m2"]
    ]
    expected = score_era(
        predictions.to_numpy(),
        first["target"].to_numpy(),
        meta_model=meta.loc["0002"].loc[first["id"]].to_numpy(),
        features=first[["feature_a", "feature_b"]].to_numpy(dtype=float),
    )
    ours = table[table["era"] == "0002"]
    np.testing.assert_allclose(ours["corr"], expected.corr, atol=1e-12)
    np.testing.assert_allclose(ours["mmc"], expected.mmc, atol=1e-12)
    np.testing.assert_allclose(ours["fnc"], expected.fnc, atol=1e-12)
    long = wide.melt(id_vars=["id", "era"], var_name="model", value_name="prediction")
    from_long = score_frame(long, data, features=["feature_a", "feature_b"], meta_model=meta)
    pd.testing.assert_frame_equal(from_long, table)


def test_bad_frames() -> None:
    wide, data, _ = _frames()
    with pytest.raises(DataFormatError, match="duplicated"):
        score_frame(pd.concat([wide, wide.iloc[:1]]), data)
    with pytest.raises(DataFormatError, match="not in the data"):
        score_frame(wide.assign(era=np.where(wide["era"] == "0001", "0009", "0002")), data)
    with pytest.raises(DataFormatError, match="feature_z"):
        score_frame(wide, data, features=["feature_z"])
    with pytest.raises(DataFormatError, match="'era'"):
        score_frame(wide.drop(columns="era"), data)
