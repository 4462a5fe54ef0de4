"""A Classic participant's workflow through numerapi 3.1.1, each value checked against the REST API."""

from __future__ import annotations

import datetime as dt
import io
import warnings
from decimal import Decimal
from pathlib import Path

import dateutil.parser
import numpy as np
import pandas as pd
import pytest

from tests.api.conftest import classic_frame, universe
from tests.api.graphql.conftest import VALIDATION_IDS


def _time(text: str) -> dt.datetime:
    moment = dateutil.parser.parse(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _performances(napi, model_id: str) -> list[dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return napi.round_model_performances_v2(model_id)


def test_rounds_match_the_rest_api(season):
    napi = season.classic("alice")
    current = season.rest("alice", "GET", "/v1/rounds/current?kind=classic")
    assert napi.get_current_round() == current["number"] == season.current["classic"]
    assert napi.check_round_open() is True
    assert napi.check_new_round(hours=24 * 60) is True
    assert napi.check_new_round(hours=1) is False
    rest = season.rest("alice", "GET", "/v1/rounds?kind=classic")
    listed = napi.list_rounds()
    assert [r["number"] for r in listed] == [r["number"] for r in rest]
    for ours, theirs in zip(listed, rest, strict=True):
        assert ours["tournament"] == 8
        assert ours["closeTime"] == _time(theirs["close_time"])
        assert ours["openTime"] == _time(theirs["open_time"])
        assert ours["resolveTime"] == _time(theirs["resolve_time"])
        assert ours["resolvedGeneral"] is (theirs["status"] == "resolved")
        assert ours["target"] == theirs["target_name"]
    assert [r["number"] for r in napi.list_rounds(status="resolved")] == [season.resolved["classic"]]
    assert [r["number"] for r in napi.list_rounds(number=season.running)] == [season.running]
    # Signals rounds are tournament 11
    assert season.signals("sam").get_current_round() == season.current["signals"]


def test_account_models_and_keys(season):
    napi = season.classic("alice")
    account = napi.get_account()
    rest = season.rest("alice", "GET", "/v1/account")
    assert account["username"] == rest["name"] and account["id"] == str(rest["id"])
    assert account["availableNmr"] == Decimal(rest["wallet_balance"])
    rest_models = season.rest("alice", "GET", "/v1/models")
    assert napi.get_models() == {m["name"]: str(m["id"]) for m in rest_models}
    assert {m["name"] for m in account["models"]} == {"alice_one", "alice_two"}
    tokens = {token["public_id"]: token["scopes"] for token in account["apiTokens"]}
    assert tokens[season.keys["alice"].public_id] == [
        "read_submission_info",
        "read_user_info",
        "stake",
        "upload_submission",
    ]
    assert tokens[season.keys["alice_upload"].public_id] == ["upload_submission"]
    assert season.keys["bob"].public_id not in tokens
    assert napi.modelid_to_modelname(season.model_ids["alice_two"]) == "alice_two"
    assert napi.models_of_account("alice") == {
        "alice_one": season.model_ids["alice_one"],
        "alice_two": season.model_ids["alice_two"],
    }
    # a model that entered Classic only is not a Signals model; sam's is not a Classic one
    assert season.signals("alice").get_models() == {}
    assert season.classic("sam").get_models() == {}
    assert season.signals("sam").get_models() == {"sam_one": season.model_ids["sam_one"]}


def test_upload_from_file_and_dataframe_and_download(season, tmp_path):
    napi = season.classic("alice")
    ids = universe()
    path = tmp_path / "live_predictions.csv"
    from_file = classic_frame(ids, seed=71)
    from_file.to_csv(path, index=False)
    first = napi.upload_predictions(str(path), model_id=season.model_ids["alice_one"])
    frame = classic_frame(ids, seed=72)
    second = napi.upload_predictions(df=frame, model_id=season.model_ids["alice_two"])
    for name, submission_id, uploaded in (("alice_one", first, from_file), ("alice_two", second, frame)):
        rest = season.rest(
            "alice", "GET", f"/v1/models/{name}/submissions?round_number={season.current['classic']}"
        )
        assert [str(s["id"]) for s in rest] == [submission_id]
        listed = napi.submission_ids(season.model_ids[name])
        assert str(submission_id) in [s["id"] for s in listed]
        all_rest = season.rest("alice", "GET", f"/v1/models/{name}/submissions")
        assert sorted(s["id"] for s in listed) == sorted(str(s["id"]) for s in all_rest)
        target = tmp_path / f"{name}.csv"
        napi.download_submission(submission_id=submission_id, dest_path=str(target))
        downloaded = pd.read_csv(target)
        assert list(downloaded["id"]) == list(uploaded["id"])
        np.testing.assert_allclose(downloaded["prediction"], uploaded["prediction"], rtol=1e-12)
    assert path.name in [s["filename"] for s in napi.submission_ids(season.model_ids["alice_one"])]


def test_a_rejected_file_is_a_numerapi_error_and_stores_nothing(season):
    napi = season.classic("alice")
    before = season.rest("alice", "GET", "/v1/models/alice_one/submissions")
    broken = classic_frame(universe(), seed=5)
    broken.loc[3, "id"] = broken.loc[2, "id"]
    with pytest.raises(ValueError, match="appear more than once"):
        napi.upload_predictions(df=broken, model_id=season.model_ids["alice_one"])
    with pytest.raises(ValueError, match="pass model_id"):
        napi.upload_predictions(df=classic_frame(universe(), seed=6))
    assert season.rest("alice", "GET", "/v1/models/alice_one/submissions") == before


def test_scores_after_scoring_and_resolving(season):
    napi = season.classic("alice")
    resolved, running = season.resolved["classic"], season.running
    model_id = season.model_ids["alice_one"]
    rest_rounds = {r["round_number"]: r for r in season.rest("alice", "GET", "/v1/models/alice_one/scores")}
    rest_daily = season.rest("alice", "GET", "/v1/models/alice_one/daily-scores")

    # numerapi asks these without a key: only resolved rounds are public
    performances = _performances(napi, model_id)
    assert [p["roundNumber"] for p in performances] == [resolved]
    final = performances[0]
    assert final["roundResolved"] is True
    assert {s["displayName"]: s["value"] for s in final["submissionScores"]} == pytest.approx(
        rest_rounds[resolved]["latest"]
    )
    assert {s["payoutSettled"] for s in final["submissionScores"]} == {
        Decimal(rest_rounds[resolved]["payout"])
    }
    assert final["atRisk"] is not None
    intra = napi.intra_round_scores(model_id)
    expected = [(r["day"], r["metric"], r["value"]) for r in rest_daily if r["round_number"] == resolved]
    got = [(s["day"], s["displayName"], s["value"]) for s in intra[0]["intraRoundSubmissionScores"]]
    assert [g[:2] for g in got] == [e[:2] for e in expected]
    assert [g[2] for g in got] == pytest.approx([e[2] for e in expected])

    scores = napi.submission_scores(model_id)
    assert {s["roundNumber"] for s in scores} == {resolved}
    assert sorted((s["day"], s["displayName"], s["value"]) for s in scores) == sorted(got)
    latest = napi.submission_scores(model_id, distinct_on_round=True, display_name="corr")
    assert [s["value"] for s in latest] == [rest_rounds[resolved]["latest"]["corr"]]

    # the owner's key also sees the round still running (as over REST)
    query = """query($modelId: ID!) {
        submissionScores(modelId: $modelId) { roundNumber day displayName value } }"""
    owned = napi.raw_query(query, {"modelId": model_id}, authorization=True)["data"]["submissionScores"]
    assert {s["roundNumber"] for s in owned} == {resolved, running}
    assert sorted((s["roundNumber"], s["day"], s["displayName"]) for s in owned) == sorted(
        (r["round_number"], r["day"], r["metric"]) for r in rest_daily
    )
    other = season.classic("bob").raw_query(query, {"modelId": model_id}, authorization=True)
    assert {s["roundNumber"] for s in other["data"]["submissionScores"]} == {resolved}

    daily = napi.daily_model_performances("alice_one")
    assert len(daily) == 1 and daily[0]["corrRep"] == pytest.approx(rest_rounds[resolved]["latest"]["corr"])
    assert 1 <= daily[0]["corrRank"] <= 3

    payouts = napi.pending_model_payouts()
    actual = {(p["modelName"], p["roundNumber"]): p["payoutNmr"] for p in payouts["actual"]}
    assert actual[("alice_one", resolved)] == Decimal(rest_rounds[resolved]["payout"])
    assert ("alice_one", running) in {(p["modelName"], p["roundNumber"]) for p in payouts["pending"]}


def test_stake_get_increase_decrease_and_drain(season):
    napi = season.classic("alice")
    model_id = season.model_ids["alice_one"]

    def rest_stake(name: str = "alice_one") -> dict:
        return season.rest("alice", "GET", f"/v1/models/{name}/stake")

    before = rest_stake()
    assert napi.stake_get("alice_one") == Decimal(before["stake"])
    change = napi.stake_increase("2.5", model_id)
    assert change["type"] == "increase" and change["requestedAmount"] == Decimal("2.5")
    after = rest_stake()
    assert Decimal(after["stake"]) == Decimal(before["stake"]) + Decimal("2.5")
    assert Decimal(after["wallet_balance"]) == Decimal(before["wallet_balance"]) - Decimal("2.5")
    assert napi.stake_get("alice_one") == Decimal(after["stake"])

    change = napi.stake_decrease(1, model_id)  # numerapi sends str(1)
    assert change["type"] == "decrease" and change["requestedAmount"] == Decimal("1")
    decreased = rest_stake()
    assert Decimal(decreased["stake"]) == Decimal(after["stake"]) - 1
    # the running round holds part of the stake: the decrease waits for it to resolve
    assert change["status"] == "pending" and change["dueDate"] is not None
    assert Decimal(decreased["pending_release"]) == Decimal(after["pending_release"]) + 1

    alice_two = season.model_ids["alice_two"]
    napi.stake_increase("3", alice_two)
    drained = napi.stake_drain(alice_two)
    assert drained["drain"] is True and Decimal(drained["requestedAmount"]) == Decimal("3")
    assert Decimal(rest_stake("alice_two")["stake"]) == 0
    with pytest.raises(ValueError, match="not enough tokens"):
        napi.stake_increase("1000000", model_id)
    assert rest_stake() == decreased


def test_leaderboard_matches_the_rest_leaderboard(season):
    napi = season.classic("alice")
    board = napi.get_leaderboard()
    rest = {row["model"]: row for row in season.live.http("GET", "/v1/leaderboard").json()}
    assert {row["username"] for row in board} == {"alice_one", "alice_two", "bob_one"}
    for row in board:
        theirs = rest[row["username"]]
        assert row["rank"] == theirs["rank"]
        assert row["nmrStaked"] == Decimal(theirs["stake"])
        assert row["corr20Rep"] == pytest.approx(theirs["values"]["corr_20r"])
        assert row["mmcRep"] == theirs["values"].get("mmc_20r")
        assert row["fncRep"] == pytest.approx(theirs["values"]["fnc_20r"])
        assert row["return_1_day"] == theirs["values"].get("return")
        assert row["return_52_weeks"] == theirs["values"].get("return_1y")
    assert [row["username"] for row in napi.get_leaderboard(limit=1, offset=1)] == [board[1]["username"]]
    accounts = napi.get_account_leaderboard()
    assert [a["username"] for a in accounts] == sorted(
        {"alice", "bob"}, key=lambda name: min(r["rank"] for r in board if r["username"].startswith(name))
    )
    alice = next(a for a in accounts if a["username"] == "alice")
    assert alice["nmrStaked"] == Decimal(rest["alice_one"]["stake"]) + Decimal(rest["alice_two"]["stake"])
    assert alice["v2Corr20"] == pytest.approx(
        np.mean([rest[m]["values"]["corr_20r"] for m in ("alice_one", "alice_two")])
    )


def test_datasets_list_and_download(season, tmp_path):
    napi = season.classic("alice")
    listed = napi.list_datasets()
    assert "v1/train.parquet" in listed and "v1/features.json" in listed
    assert not any(name.startswith("signals/") for name in listed)
    path = napi.download_dataset("v1/train.parquet", str(tmp_path / "train.parquet"))
    published = season.live.data_dir / "data" / "datasets" / "v1" / "train.parquet"
    assert Path(path).read_bytes() == published.read_bytes()
    # the released (lagged) meta model is a dataset too, with the REST bytes
    name = f"meta_model_{season.resolved['classic']}.parquet"
    assert name in listed
    napi.download_dataset(name, str(tmp_path / name))
    rest = season.live.http("GET", f"/v1/meta-models/{season.resolved['classic']}")
    assert rest.status_code == 200 and (tmp_path / name).read_bytes() == rest.content
    with pytest.raises(ValueError, match="no dataset"):
        napi.download_dataset("v1/../kardashev.db", str(tmp_path / "x"))
    with pytest.raises(ValueError, match="no dataset"):
        napi.download_dataset("signals/v1.0/train.parquet", str(tmp_path / "y"))


def test_diagnostics_equal_the_rest_diagnostics(season):
    napi = season.classic("alice")
    model_id = season.model_ids["alice_one"]
    predictions = classic_frame(VALIDATION_IDS, seed=9)
    diagnostics_id = napi.upload_diagnostics(df=predictions, model_id=model_id)
    result = napi.diagnostics(model_id, diagnostics_id)
    buffer = io.BytesIO()
    predictions.to_csv(buffer, index=False)
    rest = season.rest(
        "alice",
        "POST",
        "/v1/models/alice_one/diagnostics",
        content=buffer.getvalue(),
        headers={"Content-Type": "text/csv"},
    )
    metrics = rest["metrics"]
    assert result["status"] == "done" and result["erasAcceptedCount"] == rest["n_eras"] == 3
    assert result["validationCorrMean"] == pytest.approx(metrics["corr_mean"])
    assert result["validationCorrSharpe"] == pytest.approx(metrics["corr_sharpe"])
    assert result["validationFeatureNeutralCorrMean"] == pytest.approx(metrics["fnc_mean"])
    assert [e["validationCorr"] for e in result["perEraDiagnostics"]] == pytest.approx(
        [row["corr"] for row in rest["per_era"]]
    )
    assert napi.diagnostics(model_id) == result  # the latest run without an id
    with pytest.raises(ValueError, match="no diagnostics"):
        napi.diagnostics(season.model_ids["alice_two"], diagnostics_id)
