"""A whole season through the HTTP API and the Python client, against a live server."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from kardashev.errors import NotFoundError, StateError
from tests.api.conftest import classic_csv, classic_frame, universe

HORIZON = 2


def _day(ids: list[str], day: int, seed: int, *, returns: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    body = {
        "day": day,
        "ids": ids,
        "target": rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], len(ids)).tolist(),
        "features": rng.integers(0, 5, (len(ids), 4)).astype(float).tolist(),
    }
    if returns:  # realized returns and a neutrality matrix: the scorer adds TC
        body["realized_returns"] = rng.normal(0, 0.02, len(ids)).tolist()
        body["exposures"] = np.column_stack([np.ones(len(ids)), rng.normal(size=len(ids))]).tolist()
    return body


@pytest.fixture(scope="module")
def season(live, tmp_path_factory):
    """Three accounts, four models, two resolved rounds and one open round."""
    admin = live.client(live.admin_key)
    users = {}
    for name in ("alice", "bob", "carol"):
        admin.create_account(name, deposit="100")
        key = admin.create_api_key(name, ["read", "upload", "stake"])
        users[name] = live.client(token=(key["public_id"], key["secret_key"]))
    users["alice"].create_model("alice_one")
    users["alice"].create_model("alice_two")
    users["bob"].create_model("bob_one")
    users["carol"].create_model("carol_one")
    users["alice"].stake_increase("10", model_id="alice_one")
    users["bob"].stake_increase("20.5", model_id="bob_one")
    ids = universe()
    folder = tmp_path_factory.mktemp("files")
    numbers = []
    for round_index in range(2):
        close = live.clock() + dt.timedelta(hours=1)
        opened = admin.open_round(ids=ids, close_time=close.isoformat(), horizon_days=HORIZON)
        number = opened["number"]
        numbers.append(number)
        csv_path = folder / f"alice_{number}.csv"
        csv_path.write_bytes(classic_csv(ids, seed=10 * number + 1))
        users["alice"].upload_predictions(csv_path, model_id="alice_one")
        users["alice"].upload_predictions(df=classic_frame(ids, seed=10 * number + 2), model_id="alice_two")
        users["bob"].upload_predictions(df=classic_frame(ids, seed=10 * number + 3), model_id="bob_one")
        if round_index == 0:
            users["carol"].upload_predictions(
                df=classic_frame(ids, seed=10 * number + 4), model_id="carol_one"
            )
        live.clock.advance(hours=2)
        admin.close_round(number)
        for day in range(1, HORIZON + 1):
            final_of_last = round_index == 1 and day == HORIZON
            admin.score_round(number, **_day(ids, day, seed=100 * number + day, returns=final_of_last))
        live.clock.advance(days=HORIZON + 1)
        admin.resolve_round(number)
    close = live.clock() + dt.timedelta(hours=1)
    current = admin.open_round(ids=ids, close_time=close.isoformat(), horizon_days=HORIZON)["number"]
    return {"admin": admin, "users": users, "ids": ids, "resolved": numbers, "current": current}


def test_rounds_are_public_and_listed(live, season):
    anonymous = live.client()
    assert anonymous.get_current_round() == season["current"]
    assert anonymous.get_current_round("signals") is None
    rounds = anonymous.get_rounds()
    assert [r["number"] for r in rounds] == [season["current"], *reversed(season["resolved"])]
    assert {r["status"] for r in rounds} == {"open", "resolved"}
    assert [r["number"] for r in anonymous.get_rounds(status="open")] == [season["current"]]
    universe_ids = live.http("GET", f"/v1/rounds/{season['current']}/universe").json()["ids"]
    assert universe_ids == season["ids"]
    with pytest.raises(NotFoundError):
        anonymous.get_round(999)


def test_submissions_scores_and_payouts(live, season):
    alice = season["users"]["alice"]
    subs = alice.submissions("alice_one")
    assert [s["round_number"] for s in subs] == list(reversed(season["resolved"]))
    assert all(len(s["sha256"]) == 64 and s["n_rows"] == len(season["ids"]) for s in subs)
    daily = alice.submission_scores("alice_one", round_number=season["resolved"][0])
    metrics = {row["metric"] for row in daily}
    assert {"corr", "mmc", "fnc"} <= metrics
    assert {row["day"] for row in daily} == set(range(1, HORIZON + 1))
    performances = alice.round_model_performances("alice_one")
    assert [p["round_number"] for p in performances] == list(reversed(season["resolved"]))
    # payouts compound into the stake: round 2 is staked with 10 + round 1's payout
    expected_stake = Decimal("10")
    for performance in reversed(performances):
        assert performance["round_status"] == "resolved"
        assert Decimal(performance["stake"]) == expected_stake
        assert performance["payout"] is not None
        assert abs(Decimal(performance["payout"])) <= expected_stake * Decimal("0.25")
        expected_stake += Decimal(performance["payout"])
        assert performance["latest"]["corr"] == pytest.approx(
            next(
                r["value"]
                for r in alice.submission_scores("alice_one", round_number=performance["round_number"])
                if r["metric"] == "corr" and r["day"] == HORIZON
            )
        )
    # the last round's final day had realized returns: True Contribution was scored too
    final = alice.submission_scores("alice_one", round_number=season["resolved"][1])
    assert any(row["metric"] == "tc" and row["day"] == HORIZON for row in final)
    # an unstaked model has scores but no stake and no payout
    unstaked = alice.round_model_performances("alice_two")
    assert all(p["stake"] in (None, "0") and p["payout"] in (None, "0") for p in unstaked)


def test_stakes_move_between_wallet_and_stake(live, season):
    bob = season["users"]["bob"]
    before = bob.stake_details("bob_one")
    wallet_before = Decimal(before["wallet_balance"])
    after = bob.stake_increase("1.25", model_id="bob_one")
    assert Decimal(after["stake"]) == Decimal(before["stake"]) + Decimal("1.25")
    assert Decimal(after["wallet_balance"]) == wallet_before - Decimal("1.25")
    assert bob.stake_get("bob_one") == Decimal(after["stake"])
    decreased = bob.stake_decrease("0.25", model_id="bob_one")
    assert Decimal(decreased["stake"]) == Decimal(after["stake"]) - Decimal("0.25")
    # no round holds bob's stake now: the decrease is released to the wallet at once
    assert Decimal(decreased["wallet_balance"]) == wallet_before - Decimal("1")
    assert bob.wallet_balance() == wallet_before - Decimal("1")


def test_leaderboard_is_public_and_ranked(live, season):
    board = live.client().get_leaderboard()
    names = [row["model"] for row in board]
    assert set(names) == {"alice_one", "alice_two", "bob_one", "carol_one"}
    assert [row["rank"] for row in board] == list(range(1, len(board) + 1))
    assert "corr" in board[0]["values"]
    page = live.client().get_leaderboard(limit=2, offset=1)
    assert [row["model"] for row in page] == names[1:3]


def test_meta_model_release_rule(live, season, tmp_path):
    anonymous = live.client()
    first, second = season["resolved"]
    # round 1: 4 contributors and 2 newer rounds -> released (lag 1, min 2 models)
    data = anonymous.download_meta_model(first, dest_path=tmp_path / "mm.parquet")
    frame = pd.read_parquet(io.BytesIO(data))
    assert list(frame.columns) == ["id", "naive_meta_model"]
    assert sorted(frame["id"]) == sorted(season["ids"])
    assert frame["naive_meta_model"].between(0, 1).all()
    assert (tmp_path / "mm.parquet").read_bytes() == data
    # the open round has no meta model yet
    with pytest.raises(StateError) as info:
        anonymous.download_meta_model(season["current"])
    assert info.value.code == "not_releasable"
    assert second  # released too: lag 1 is met by the open round
    anonymous.download_meta_model(second)


def test_diagnostics_of_a_validation_file(live, season):
    alice = season["users"]["alice"]
    rng = np.random.default_rng(5)
    ids = [f"v{i:04d}" for i in range(90)]
    validation = pd.DataFrame(
        {
            "era": np.repeat(["0001", "0002", "0003"], 30),
            "id": ids,
            "target": rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], 90),
            "feature_a": rng.integers(0, 5, 90).astype(float),
            "feature_b": rng.integers(0, 5, 90).astype(float),
        }
    )
    with pytest.raises(StateError) as info:
        alice.diagnostics("alice_one", df=classic_frame(ids, seed=1))
    assert info.value.code == "no_validation_data"
    buffer = io.BytesIO()
    validation.to_parquet(buffer, index=False)
    response = live.http(
        "PUT",
        "/v1/admin/validation-data",
        key=live.admin_key,
        content=buffer.getvalue(),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["n_eras"] == 3 and response.json()["n_features"] == 2
    predictions = classic_frame(ids, seed=2)
    result = alice.diagnostics("alice_one", df=predictions)
    assert result["n_eras"] == 3 and result["n_rows"] == 90
    # per-era CORR equals the scoring engine's on the same era
    from kardashev.scoring.correlation import numerai_corr

    for row, era in zip(result["per_era"], ["0001", "0002", "0003"], strict=True):
        mask = validation["era"] == era
        expected = numerai_corr(
            predictions["prediction"][mask].to_numpy(), validation["target"][mask].to_numpy()
        )
        assert row["era"] == era
        assert row["corr"] == pytest.approx(expected)
    corrs = np.array([row["corr"] for row in result["per_era"]])
    assert result["metrics"]["corr_mean"] == pytest.approx(corrs.mean())
    assert result["metrics"]["corr_sharpe"] == pytest.approx(corrs.mean() / corrs.std())
    assert "fnc_mean" in result["metrics"] and "feature_exposure_max_mean" in result["metrics"]
    # diagnostics store nothing
    assert len(alice.submissions("alice_one")) == len(season["resolved"])


def test_ledger_stays_balanced(live, season):
    audit = live.http("GET", "/v1/admin/ledger/audit", key=live.admin_key).json()
    assert audit["ok"] is True
    assert audit["unbalanced_transactions"] == [] and audit["negative_accounts"] == []
    assert Decimal(audit["circulating"]) == Decimal(audit["minted"]) - Decimal(audit["burned"])


def test_admin_lists_accounts_and_keys_and_revokes(live, season):
    admin = season["admin"]
    accounts = live.http("GET", "/v1/admin/accounts", key=live.admin_key).json()
    assert {"operator", "alice", "bob", "carol"} <= {a["name"] for a in accounts}
    key = admin.create_api_key("carol", ["read"])
    assert key["secret_key"] and key["scopes"] == ["read"]
    listed = live.http("GET", "/v1/admin/accounts/carol/keys", key=live.admin_key).json()
    assert key["public_id"] in {k["public_id"] for k in listed}
    assert all(k["secret_key"] is None for k in listed)
    carol = live.client(token=(key["public_id"], key["secret_key"]))
    assert carol.get_account()["name"] == "carol"
    revoked = live.http("DELETE", f"/v1/admin/keys/{key['public_id']}", key=live.admin_key)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    response = live.http(
        "GET", "/v1/account", headers={"Authorization": f"Token {key['public_id']}${key['secret_key']}"}
    )
    assert response.status_code == 401 and response.json()["error"]["code"] == "revoked_key"


def test_lifecycle_steps_are_idempotent_over_http(live, season):
    admin = season["admin"]
    number = season["resolved"][0]
    again = admin.resolve_round(number)
    assert again["round"]["status"] == "resolved"
    closed = admin.close_round(number)
    assert closed["status"] == "resolved"
    audit = live.http("GET", "/v1/admin/ledger/audit", key=live.admin_key).json()
    assert audit["ok"] is True
