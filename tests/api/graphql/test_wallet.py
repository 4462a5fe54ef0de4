"""numerapi's ``wallet_transactions`` against the REST ``GET /v1/account/transactions`` of the same key."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numerapi

from tests.api.graphql.conftest import key_pair

OWN_PREFIXES = ("wallet:", "stake:", "pending:")


def _as_rest(row: dict) -> tuple:
    """A numerapi row in the REST row's terms."""
    return (row["type"], row["from"], row["to"], row["amount"], row["time"])


def _rest_rows(client) -> list[tuple]:
    return [
        (r["kind"], r["source"], r["destination"], r["amount"], dt.datetime.fromisoformat(r["time"]))
        for r in client.wallet_transactions()
    ]


def test_numerapi_lists_the_same_movements_as_rest(season):
    live = season.live
    admin = live.client(live.admin_key)
    account = admin.create_account("wanda", deposit="1000")
    key = live.new_key(account["id"], ["read", "upload", "stake"])
    rest = live.client(key)
    one, two = (rest.create_model(name)["id"] for name in ("wanda_one", "wanda_two"))
    admin.deposit("wanda", "25.5")
    napi = numerapi.NumerAPI(**key_pair(key), show_progress_bars=False)
    napi.stake_increase("10", str(one))
    napi.stake_increase("4.25", str(two))
    napi.stake_decrease("3", str(one))  # no escrow: released to the wallet at once

    rows = napi.wallet_transactions()
    assert [_as_rest(r) for r in rows] == _rest_rows(rest)
    wallet, s1, s2, p1 = f"wallet:{account['id']}", f"stake:{one}", f"stake:{two}", f"pending:{one}"
    assert [(r["type"], r["from"], r["to"], r["amount"]) for r in rows] == [
        ("deposit", "payout_pool", wallet, Decimal("1000")),
        ("deposit", "payout_pool", wallet, Decimal("25.5")),
        ("stake_increase", wallet, s1, Decimal("10")),
        ("stake_increase", wallet, s2, Decimal("4.25")),
        ("stake_decrease", s1, p1, Decimal("3")),
        ("release", p1, wallet, Decimal("3")),
    ]
    assert {(r["status"], r["tournament"], r["txHash"]) for r in rows} == {("confirmed", None, None)}
    assert all(isinstance(r["time"], dt.datetime) and r["time"].tzinfo is not None for r in rows)
    assert napi.get_account()["availableNmr"] == Decimal("1025.5") - 10 - Decimal("4.25") + 3


def test_settled_rounds_show_payouts_and_burns_with_their_tournament(season):
    alice = season.classic("alice")
    rows = alice.wallet_transactions()
    assert [_as_rest(r) for r in rows] == _rest_rows(season.live.client(season.keys["alice"]))
    settled = [r for r in rows if r["type"] in ("payout", "burn")]
    assert settled, "alice's staked model took part in a resolved Classic round"
    assert {r["tournament"] for r in settled} == {8}
    stake = f"stake:{season.model_ids['alice_one']}"
    for row in settled:
        assert stake in (row["from"], row["to"]) and {row["from"], row["to"]} & {"payout_pool", "burn"}
    payouts = season.rest("alice", "GET", "/v1/models/alice_one/scores")
    resolved = next(p for p in payouts if p["round_number"] == season.resolved["classic"])
    signed = [r["amount"] if r["type"] == "payout" else -r["amount"] for r in settled]
    assert Decimal(resolved["payout"]) in signed  # the round's payout (or burn) of alice_one


def test_another_accounts_movements_never_appear(season):
    own = {
        name: {f"wallet:{season.rest(name, 'GET', '/v1/account')['id']}"}
        | {f"{p}{m['id']}" for m in season.rest(name, "GET", "/v1/models") for p in ("stake:", "pending:")}
        for name in ("alice", "bob", "sam")
    }
    for name, mine in own.items():
        rows = season.classic(name).wallet_transactions()
        assert rows
        ends = {r["from"] for r in rows} | {r["to"] for r in rows}
        assert ends - {"payout_pool", "burn"} <= mine
        assert mine & ends
