"""Diagnostics through the API on Numerai's own files, as downloaded (Classic v5 validation.parquet)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numerai_tools import scoring as nt

from tests.scoring.numerai_files import FIRST_ERA, N_ERAS, UNRESOLVED_20, write_classic


def test_numerai_validation_file_as_downloaded(live, tmp_path) -> None:
    paths = write_classic(tmp_path / "v5.0")
    data = paths["validation"].read_bytes()
    assert len(data) < 64 * 1024  # the test server's upload limit
    response = live.http(
        "PUT",
        "/v1/admin/validation-data",
        key=live.admin_key,
        content=data,
        headers={"Content-Type": "application/vnd.apache.parquet"},
    )
    assert response.status_code == 200, response.text
    validation = pd.read_parquet(paths["validation"])
    features = [c for c in validation.columns if c.startswith("feature_")]
    assert response.json()["n_eras"] == N_ERAS and response.json()["n_features"] == len(features)
    service, now = live.context.service, live.clock()
    account = service.create_account("numerai_fan", now=now, tokens=1_000)
    service.create_model(account.id, "fan_model", now=now)
    client = live.client(live.new_key(account.id, ["read", "upload"]))
    example = pd.read_parquet(paths["example"])  # index id, column prediction: as Numerai ships it
    result = client.diagnostics("fan_model", df=example.reset_index())
    resolved = [f"{FIRST_ERA + e:04d}" for e in range(N_ERAS - UNRESOLVED_20)]
    assert [row["era"] for row in result["per_era"]] == resolved  # unresolved eras are skipped
    for row in result["per_era"]:
        rows = validation[validation["era"] == row["era"]]
        expected = nt.numerai_corr(example.loc[rows.index, ["prediction"]], rows["target"])["prediction"]
        assert row["corr"] == pytest.approx(expected, abs=1e-9)
    corrs = np.array([row["corr"] for row in result["per_era"]])
    assert result["metrics"]["corr_mean"] == pytest.approx(corrs.mean())


def test_a_train_and_validation_file_keeps_the_validation_rows(live, tmp_path) -> None:
    paths = write_classic(tmp_path / "v5.0", seed=3)
    frame = pd.read_parquet(paths["validation"])
    first = frame["era"].iloc[0]
    frame.loc[frame["era"] == first, "data_type"] = "train"
    path = tmp_path / "mixed.parquet"
    frame.to_parquet(path)
    response = live.http(
        "PUT",
        "/v1/admin/validation-data",
        key=live.admin_key,
        content=path.read_bytes(),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["n_eras"] == N_ERAS - 1
    assert response.json()["n_rows"] == int((frame["data_type"] == "validation").sum())
