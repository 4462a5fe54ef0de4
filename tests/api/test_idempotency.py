"""A replayed money move answers the first response byte for byte, on SQLite and on PostgreSQL.

The first call stores its response with the move it posted (one transaction); a retry with the same
``Idempotency-Key`` gets exactly those bytes back, even after other moves changed the wallet and the
stake, concurrent duplicates post once and all answer the first response, and the ledger audit balances.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import START, FakeClock, LiveServer, make_settings, running_server
from tests.conftest import _postgres_schema

TOKEN = 1_000_000


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request, tmp_path_factory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("replay")
    urls: Iterator[str] = (
        iter([f"sqlite:///{root / 'kardashev.db'}"]) if request.param == "sqlite" else _postgres_schema()
    )
    url = next(urls)
    try:
        with running_server(make_settings(root, database_url=url), FakeClock(START)) as live:
            yield live
    finally:
        for _ in urls:  # drops the PostgreSQL schema
            pass


@pytest.fixture(scope="module")
def world(server):
    service, now = server.context.service, server.clock()
    ann = service.create_account("ann", now=now, tokens=100 * TOKEN)
    bob = service.create_account("bob", now=now, tokens=100 * TOKEN)
    service.create_model(ann.id, "ann_model", now=now)
    service.create_model(bob.id, "bob_model", now=now)
    service.stake_increase("ann_model", 10 * TOKEN, now=now)  # something to decrease
    return {
        "ann": server.new_key(ann.id, ["read", "stake"]),
        "bob": server.new_key(bob.id, ["read", "stake"]),
    }


def _move(server, key, path, amount, idem, **kwargs) -> httpx.Response:
    return server.http(
        "POST", path, key=key, json={"amount": amount}, headers={"Idempotency-Key": idem}, **kwargs
    )


def _wallet(server, name: str) -> int:
    return server.context.service.wallet(name)


@pytest.mark.parametrize("verb", ["increase", "decrease"])
def test_a_replay_after_another_move_returns_the_first_response(server, world, verb):
    path = f"/v1/models/ann_model/stake/{verb}"
    first = _move(server, world["ann"], path, "1.5", f"{verb}-1")
    assert first.status_code == 200, first.text
    wallet, stake = _wallet(server, "ann"), server.context.service.stake("ann_model")
    between = _move(server, world["ann"], path, "2", f"{verb}-2")  # another move changes the state
    assert between.status_code == 200, between.text
    assert between.json() != first.json()  # the state as it is now is NOT the first response
    replay = _move(server, world["ann"], path, "1.5", f"{verb}-1")
    assert replay.status_code == first.status_code == 200
    assert replay.content == first.content
    assert replay.headers["content-type"] == first.headers["content-type"]
    # the replay posted nothing: only the move in between changed the books since the first
    after = server.context.service.stake("ann_model")
    if verb == "increase":
        assert _wallet(server, "ann") == wallet - 2 * TOKEN
        assert after.stake == stake.stake + 2 * TOKEN
    else:
        assert _wallet(server, "ann") == wallet + 2 * TOKEN  # no escrow: released at once
        assert after.stake == stake.stake - 2 * TOKEN
    assert first.json()["stake"] != _stake_now(server, world)["stake"]


def _stake_now(server, world) -> dict:
    response = server.http("GET", "/v1/models/ann_model/stake", key=world["ann"])
    assert response.status_code == 200, response.text
    return response.json()


def test_the_same_key_with_another_body_is_still_a_conflict(server, world):
    path = "/v1/models/ann_model/stake/increase"
    assert _move(server, world["ann"], path, "1", "twisted").status_code == 200
    wallet = _wallet(server, "ann")
    for response in (
        _move(server, world["ann"], path, "3", "twisted"),
        _move(server, world["ann"], "/v1/models/ann_model/stake/decrease", "1", "twisted"),
    ):
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert _wallet(server, "ann") == wallet


def test_keys_are_scoped_to_the_callers_account(server, world):
    ann = _move(server, world["ann"], "/v1/models/ann_model/stake/increase", "1", "shared-key")
    bob = _move(server, world["bob"], "/v1/models/bob_model/stake/increase", "1", "shared-key")
    assert ann.status_code == bob.status_code == 200, (ann.text, bob.text)
    assert ann.json()["model_id"] != bob.json()["model_id"]
    # bob may not replay ann's key on ann's model: the model is not his (404), whatever the key
    stolen = _move(server, world["bob"], "/v1/models/ann_model/stake/increase", "1", "shared-key")
    assert stolen.status_code == 404, stolen.text


def test_a_failed_move_stores_nothing_and_can_be_retried(server, world):
    path = "/v1/models/bob_model/stake/increase"
    too_much = _move(server, world["bob"], path, "1000000", "too-much")
    assert too_much.status_code == 409 and too_much.json()["error"]["code"] == "insufficient_balance"
    fixed = _move(server, world["bob"], path, "1000000", "too-much")  # nothing stored: it runs again
    assert fixed.status_code == 409, fixed.text
    server.http(
        "POST", "/v1/admin/accounts/bob/deposit", key=server.admin_key, json={"amount": "1000000"}
    ).raise_for_status()
    funded = _move(server, world["bob"], path, "1000000", "too-much")
    assert funded.status_code == 200, funded.text
    assert _move(server, world["bob"], path, "1000000", "too-much").content == funded.content


def test_concurrent_replays_post_once_and_all_return_the_first_response(server, world):
    wallet = _wallet(server, "ann")
    path = "/v1/models/ann_model/stake/increase"
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: _move(server, world["ann"], path, "0.25", "burst"), range(8)))
    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1
    assert _wallet(server, "ann") == wallet - TOKEN // 4
    assert _move(server, world["ann"], path, "1", "after-burst").status_code == 200
    assert _move(server, world["ann"], path, "0.25", "burst").content == responses[0].content


def test_a_replayed_deposit_returns_the_first_response(server, world):
    path = "/v1/admin/accounts/ann/deposit"
    wallet = _wallet(server, "ann")
    first = _move(server, server.admin_key, path, "3", "deposit-1")
    assert first.status_code == 200, first.text
    assert _move(server, server.admin_key, path, "4", "deposit-2").status_code == 200
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        replays = list(pool.map(lambda _: _move(server, server.admin_key, path, "3", "deposit-1"), range(4)))
    assert all(r.status_code == 200 and r.content == first.content for r in replays), [
        r.text for r in replays
    ]
    assert _wallet(server, "ann") == wallet + 7 * TOKEN
    twisted = _move(server, server.admin_key, path, "5", "deposit-1")
    assert twisted.status_code == 409 and twisted.json()["error"]["code"] == "idempotency_key_reused"


def test_opening_an_account_with_a_deposit_is_replayable(server, world):
    def open_account(name: str, deposit: str) -> httpx.Response:
        return server.http(
            "POST",
            "/v1/admin/accounts",
            key=server.admin_key,
            json={"name": name, "deposit": deposit},
            headers={"Idempotency-Key": f"open-{name}"},
        )

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda _: open_account("carol", "12"), range(4)))
    assert [r.status_code for r in responses] == [201] * 4, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1
    assert responses[0].json()["wallet_balance"] == "12"
    server.context.service.deposit("carol", 5 * TOKEN, now=server.clock())  # the wallet moves on
    assert open_account("carol", "12").content == responses[0].content
    assert _wallet(server, "carol") == 17 * TOKEN
    assert [a.name for a in server.context.service.list_accounts()].count("carol") == 1
    twisted = open_account("carol", "13")
    assert twisted.status_code == 409 and twisted.json()["error"]["code"] == "idempotency_key_reused"
    plain = server.http(  # without the header a retry is still refused by the unique name
        "POST", "/v1/admin/accounts", key=server.admin_key, json={"name": "carol", "deposit": "12"}
    )
    assert plain.status_code == 409, plain.text


def test_the_ledger_audit_balances_after_the_replays(server, world):
    response = server.http("GET", "/v1/admin/ledger/audit", key=server.admin_key)
    assert response.status_code == 200, response.text
    audit = response.json()
    assert audit["ok"] is True, audit
    assert audit["unbalanced_transactions"] == [] and audit["mismatched_accounts"] == []
