"""A Signals participant (tournament 11) through numerapi's SignalsAPI, checked against the REST API."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from tests.api.graphql.conftest import signals_frame, tickers


def test_signals_round_universe_and_datasets(season, tmp_path):
    api = season.signals("sam")
    assert api.get_current_round() == season.current["signals"]
    assert api.check_round_open() is True
    rounds = api.list_rounds()
    rest = season.rest("sam", "GET", "/v1/rounds?kind=signals")
    assert [r["number"] for r in rounds] == [r["number"] for r in rest]
    assert {r["tournament"] for r in rounds} == {11}
    universe = season.rest("sam", "GET", f"/v1/rounds/{season.current['signals']}/universe")["ids"]
    api.set_global_data_dir(str(tmp_path))
    assert api.ticker_universe() == universe == tickers()
    listed = api.list_datasets()
    assert "signals/v1.0/train.parquet" in listed and "signals/v1.0/live.parquet" in listed
    assert not any(name.startswith("v1/") for name in listed)
    path = api.download_dataset("signals/v1.0/train.parquet", "train.parquet")
    published = season.live.data_dir / "data" / "datasets" / "signals" / "v1.0" / "train.parquet"
    assert (tmp_path / "train.parquet").read_bytes() == published.read_bytes() and path.startswith(
        str(tmp_path)
    )


def test_signals_upload_from_file_and_dataframe(season, tmp_path):
    api = season.signals("sam")
    model_id = season.model_ids["sam_one"]
    path = tmp_path / "signals.csv"
    signals_frame(41).to_csv(path, index=False)
    first = api.upload_predictions(str(path), model_id=model_id)
    second = api.upload_predictions(df=signals_frame(42), model_id=model_id)  # replaces the first in place
    rest = season.rest(
        "sam", "GET", f"/v1/models/sam_one/submissions?round_number={season.current['signals']}"
    )
    assert [str(s["id"]) for s in rest] == [first] == [second]
    assert second in {s["id"] for s in api.submission_ids(model_id)}
    api.download_submission(submission_id=second, dest_path=str(tmp_path / "mine.csv"))
    downloaded = pd.read_csv(tmp_path / "mine.csv")
    assert list(downloaded.columns) == ["numerai_ticker", "signal"]
    assert sorted(downloaded["numerai_ticker"]) == sorted(tickers())
    # the tournament stores the ranked signal: its order is the submitted order
    submitted = signals_frame(42).set_index("numerai_ticker")["signal"]
    stored = downloaded.set_index("numerai_ticker")["signal"].reindex(submitted.index)
    assert np.array_equal(np.argsort(stored.to_numpy()), np.argsort(submitted.to_numpy()))
    # a Classic upload slot cannot be used for a Signals submission, and the Classic file shape is refused
    with pytest.raises(ValueError, match="ticker"):
        api.upload_predictions(
            df=pd.DataFrame({"id": ["a", "b"], "prediction": [0.1, 0.2]}), model_id=model_id
        )


def test_signals_scores_stake_and_leaderboard(season):
    api = season.signals("sam")
    model_id = season.model_ids["sam_one"]
    resolved = season.resolved["signals"]
    rest_rounds = {r["round_number"]: r for r in season.rest("sam", "GET", "/v1/models/sam_one/scores")}
    scores = api.submission_scores(model_id, distinct_on_round=True)
    assert {s["roundNumber"] for s in scores} == {resolved}
    assert {s["displayName"]: s["value"] for s in scores} == pytest.approx(rest_rounds[resolved]["latest"])
    daily = api.daily_model_performances("sam_one")
    assert [d["corrRep"] for d in daily] == pytest.approx([rest_rounds[resolved]["latest"]["corr"]])
    assert daily[0]["icRep"] == daily[0]["corrRep"] and daily[0]["corrRank"] == 1

    before = season.rest("sam", "GET", "/v1/models/sam_one/stake")
    api.stake_increase("1.25", model_id)
    after = season.rest("sam", "GET", "/v1/models/sam_one/stake")
    assert Decimal(after["stake"]) == Decimal(before["stake"]) + Decimal("1.25")
    assert api.stake_get("sam_one") == Decimal(after["stake"])

    board = api.get_leaderboard()
    rest = {row["model"]: row for row in season.live.http("GET", "/v1/leaderboard").json()}
    assert [row["username"] for row in board] == ["sam_one"]
    assert board[0]["rank"] == rest["sam_one"]["rank"]
    assert board[0]["icRep"] == pytest.approx(rest["sam_one"]["values"]["corr_20r"])
    assert Decimal(str(board[0]["nmrStaked"])) == Decimal(rest["sam_one"]["stake"])


def test_signals_diagnostics_are_refused_with_a_message(season):
    api = season.signals("sam")
    with pytest.raises(ValueError, match="Classic only"):
        api.upload_diagnostics(df=signals_frame(1), model_id=season.model_ids["sam_one"])
