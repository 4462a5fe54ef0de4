"""A synthetic round's operator files: universe, scoring days, predictions and validation data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kardashev.data.synthetic import (
    CrowdConfig,
    MarketConfig,
    generate_crowd,
    generate_market,
    write_round_files,
)
from kardashev.tournament.operator_data import check_round_day
from kardashev.tournament.round_work import round_day


def test_round_files_hold_the_markets_era(tmp_path):
    market = generate_market(MarketConfig(n_stocks=80, n_eras=4, seed=3, horizon=3))
    crowd = generate_crowd(market, CrowdConfig(n_models=5, seed=3))
    files = write_round_files(market, crowd, tmp_path / "r")
    era = market.era(3)  # the last era is the round's
    ids = pd.read_csv(files.universe)["id"].astype(str).to_numpy()
    np.testing.assert_array_equal(ids, era.ids.astype(str))
    assert [p.name for p in files.days] == ["day1.parquet", "day2.parquet", "day3.parquet"]

    final = pd.read_parquet(files.days[-1])
    np.testing.assert_array_equal(final["target"].to_numpy(), era.targets[:, 0])
    np.testing.assert_allclose(final["realized_return"].to_numpy(), era.residual_returns)
    exposure_columns = [c for c in final.columns if c.startswith("exposure_")]
    assert len(exposure_columns) == len(market.exposure_names) - 1
    exposures = final[exposure_columns].to_numpy()
    assert np.linalg.matrix_rank(exposures) == exposures.shape[1]

    first = pd.read_parquet(files.days[0])
    forward = market.forward_return(3, 1)  # one era on: the residual of its return on every exposure
    basis = np.column_stack([era.exposures, np.ones(len(forward))])
    residual = forward - basis @ np.linalg.lstsq(basis, forward, rcond=None)[0]
    np.testing.assert_allclose(first["realized_return"].to_numpy(), residual, atol=1e-12)
    assert set(np.unique(first["target"])) <= {0.0, 0.25, 0.5, 0.75, 1.0}

    for path in files.days:  # each day passes the operator's data checks
        table = pd.read_parquet(path)
        day = round_day(
            day=1,
            ids=table["id"].astype(str).to_numpy(),
            target=table["target"].to_numpy(),
            realized_returns=table["realized_return"].to_numpy(),
            exposures=table[exposure_columns].to_numpy(),
        )
        check_round_day(day, universe=ids)

    predicted = np.column_stack([pd.read_csv(p)["prediction"].to_numpy() for p in files.predictions])
    np.testing.assert_allclose(predicted, crowd.predictions(era), rtol=1e-12)
    assert [p.stem for p in files.predictions] == list(crowd.model_names)

    validation = pd.read_parquet(files.validation)
    assert validation["id"].is_unique and sorted(validation["era"].unique()) == ["0001", "0002", "0003"]
    np.testing.assert_array_equal(
        validation.loc[validation["era"] == "0002", "target"], market.era(1).targets[:, 0]
    )
