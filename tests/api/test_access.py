"""Every endpoint against every access rule, through a live server.

Each protected endpoint is called with no key, a malformed header, an unknown key, a wrong secret, a key
of the right account without the needed scope, another account's key, and finally the right key.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from tests.api.conftest import classic_csv, universe

VALIDATION_IDS = [f"v{i:03d}" for i in range(40)]


@dataclass
class World:
    owner_full: object
    owner_keys: dict  # scope -> key with only that scope
    other_full: object
    owner_model: str = "owner_model"
    other_model: str = "other_model"
    round_number: int = 0
    extra: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def world(live) -> World:
    service, now = live.context.service, live.clock()
    owner = service.create_account("owner", now=now, tokens=50_000_000)
    other = service.create_account("other", now=now, tokens=50_000_000)
    full = ["read", "upload", "stake"]
    w = World(
        owner_full=live.new_key(owner.id, full),
        owner_keys={scope: live.new_key(owner.id, [scope]) for scope in ("read", "upload", "stake", "admin")},
        other_full=live.new_key(other.id, [*full, "admin"]),
    )
    w.owner_keys["all_but_admin"] = w.owner_full
    service.create_model(owner.id, w.owner_model, now=now)
    service.create_model(other.id, w.other_model, now=now)
    service.stake_increase(w.owner_model, 5_000_000, now=now)
    opened = service.open_round(
        1, universe=universe(), close_time=now + dt.timedelta(hours=1), now=now, horizon_days=2
    )
    w.round_number = opened.number
    rng = np.random.default_rng(0)
    validation = pd.DataFrame(
        {
            "era": np.repeat(["e1", "e2"], 20),
            "id": VALIDATION_IDS,
            "target": rng.choice([0, 0.25, 0.5, 0.75, 1], 40),
        }
    )
    response = live.http(
        "PUT",
        "/v1/admin/validation-data",
        key=live.admin_key,
        content=validation.to_csv(index=False).encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    return w


def _csv(ids, seed=1):
    return {"content": classic_csv(ids, seed), "headers": {"Content-Type": "text/csv"}}


def _json(body):
    return {"json": body}


# name, method, path ("{model}" is the owner's model), scope, request kwargs, status for the owner's right key
ENDPOINTS = [
    ("account", "GET", "/v1/account", "read", lambda w: {}, 200),
    ("wallet transactions", "GET", "/v1/account/transactions", "read", lambda w: {}, 200),
    ("list models", "GET", "/v1/models", "read", lambda w: {}, 200),
    (
        "create model",
        "POST",
        "/v1/models",
        "upload",
        lambda w: _json({"name": f"m_{uuid.uuid4().hex[:8]}"}),
        201,
    ),
    ("list submissions", "GET", "/v1/models/{model}/submissions", "read", lambda w: {}, 200),
    ("upload", "POST", "/v1/models/{model}/submissions", "upload", lambda w: _csv(universe()), 201),
    ("stake get", "GET", "/v1/models/{model}/stake", "read", lambda w: {}, 200),
    (
        "stake increase",
        "POST",
        "/v1/models/{model}/stake/increase",
        "stake",
        lambda w: _json({"amount": "1"}),
        200,
    ),
    (
        "stake decrease",
        "POST",
        "/v1/models/{model}/stake/decrease",
        "stake",
        lambda w: _json({"amount": "1"}),
        200,
    ),
    ("daily scores", "GET", "/v1/models/{model}/daily-scores", "read", lambda w: {}, 200),
    ("round scores", "GET", "/v1/models/{model}/scores", "read", lambda w: {}, 200),
    ("diagnostics", "POST", "/v1/models/{model}/diagnostics", "upload", lambda w: _csv(VALIDATION_IDS), 200),
    ("admin accounts", "GET", "/v1/admin/accounts", "admin", lambda w: {}, 200),
    (
        "admin create account",
        "POST",
        "/v1/admin/accounts",
        "admin",
        lambda w: _json({"name": f"acct_{uuid.uuid4().hex[:8]}", "deposit": "1"}),
        201,
    ),
    (
        "admin deposit",
        "POST",
        "/v1/admin/accounts/owner/deposit",
        "admin",
        lambda w: _json({"amount": "1"}),
        200,
    ),
    (
        "admin create key",
        "POST",
        "/v1/admin/accounts/owner/keys",
        "admin",
        lambda w: _json({"scopes": ["read"]}),
        201,
    ),
    ("admin list keys", "GET", "/v1/admin/accounts/owner/keys", "admin", lambda w: {}, 200),
    ("admin revoke key", "DELETE", "/v1/admin/keys/kdk_doesnotexist", "admin", lambda w: {}, 404),
    (
        "admin open round",
        "POST",
        "/v1/admin/rounds",
        "admin",
        lambda w: _json({"ids": ["a", "b", "c"], "close_time": "2031-01-01T00:00:00Z"}),
        201,
    ),
    ("admin close round", "POST", "/v1/admin/rounds/{round}/close", "admin", lambda w: {}, 409),
    (
        "admin score round",
        "POST",
        "/v1/admin/rounds/{round}/score",
        "admin",
        lambda w: _json(
            {"day": 1, "ids": universe(), "target": [(i % 5) / 4 for i in range(len(universe()))]}
        ),
        409,
    ),
    ("admin resolve round", "POST", "/v1/admin/rounds/{round}/resolve", "admin", lambda w: {}, 409),
    ("admin audit", "GET", "/v1/admin/ledger/audit", "admin", lambda w: {}, 200),
    (
        "admin validation data",
        "PUT",
        "/v1/admin/validation-data",
        "admin",
        lambda w: {
            "content": b"era,id,target\n" + b"".join(f"e1,{i},0.5\n".encode() for i in VALIDATION_IDS),
            "headers": {"Content-Type": "text/csv"},
        },
        200,
    ),
]
PUBLIC = [
    ("GET", "/v1/health"),
    ("GET", "/v1/rounds"),
    ("GET", "/v1/rounds/current"),
    ("GET", "/v1/rounds/{round}"),
    ("GET", "/v1/rounds/{round}/universe"),
    ("GET", "/v1/leaderboard"),
]
IDS = [entry[0] for entry in ENDPOINTS]


def _path(template: str, w: World, model: str | None = None) -> str:
    return template.replace("{model}", model or w.owner_model).replace("{round}", str(w.round_number))


def _assert_error(response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["request_id"] == response.headers["x-request-id"]
    if code is not None:
        assert body["code"] == code


@pytest.mark.parametrize(("name", "method", "template", "scope", "kwargs", "ok"), ENDPOINTS, ids=IDS)
def test_without_valid_credentials_is_401(live, world, name, method, template, scope, kwargs, ok):
    path = _path(template, world)
    owner = world.owner_full
    cases = [
        ({}, "missing_credentials"),
        ({"Authorization": "Basic b3duZXI6cGFzcw=="}, "malformed_credentials"),
        ({"Authorization": f"Token {owner.public_id}"}, "malformed_credentials"),
        ({"Authorization": f"Token kdk_unknown0000000000${owner.secret}"}, "invalid_credentials"),
        ({"Authorization": f"Token {owner.public_id}${owner.secret[:-2]}xx"}, "invalid_credentials"),
        ({"Authorization": f"Token {owner.public_id}${world.other_full.secret}"}, "invalid_credentials"),
    ]
    for headers, code in cases:
        request = kwargs(world)
        response = live.http(method, path, headers={**request.pop("headers", {}), **headers}, **request)
        _assert_error(response, 401, code)
        assert response.headers["www-authenticate"].startswith("Token")
        assert owner.secret not in response.text


@pytest.mark.parametrize(("name", "method", "template", "scope", "kwargs", "ok"), ENDPOINTS, ids=IDS)
def test_key_without_the_scope_is_403(live, world, name, method, template, scope, kwargs, ok):
    lacking = [
        key for needed, key in world.owner_keys.items() if needed != scope and scope not in key_scopes(needed)
    ]
    assert lacking
    for key in lacking:
        request = kwargs(world)
        response = live.http(method, _path(template, world), key=key, **request)
        _assert_error(response, 403, "missing_scope")


def key_scopes(name: str) -> tuple[str, ...]:
    return ("read", "upload", "stake") if name == "all_but_admin" else (name,)


@pytest.mark.parametrize(("name", "method", "template", "scope", "kwargs", "ok"), ENDPOINTS, ids=IDS)
def test_right_key_is_allowed(live, world, name, method, template, scope, kwargs, ok):
    key = live.admin_key if scope == "admin" else world.owner_keys[scope]
    response = live.http(method, _path(template, world), key=key, **kwargs(world))
    assert response.status_code == ok, response.text


MODEL_ENDPOINTS = [entry for entry in ENDPOINTS if "{model}" in entry[2]]


def _owner_state(live, world) -> tuple:
    service = live.context.service
    model = service.get_model(world.owner_model)
    stake = service.stake(model.id)
    return (
        stake.stake,
        stake.at_risk,
        stake.pending,
        service.wallet(model.account_id),
        tuple((s.id, s.sha256) for s in service.list_submissions(model=model.id)),
    )


@pytest.mark.parametrize(
    ("name", "method", "template", "scope", "kwargs", "ok"),
    MODEL_ENDPOINTS,
    ids=[e[0] for e in MODEL_ENDPOINTS],
)
def test_another_accounts_key_sees_no_model(live, world, name, method, template, scope, kwargs, ok):
    before = _owner_state(live, world)
    for model in (world.owner_model, str(live.context.service.get_model(world.owner_model).id)):
        response = live.http(method, _path(template, world, model), key=world.other_full, **kwargs(world))
        _assert_error(response, 404, "model_not_found")
        # the same answer as for a model that does not exist: nothing to probe
        missing = live.http(
            method, _path(template, world, "no_such_model"), key=world.other_full, **kwargs(world)
        )
        assert (
            missing.json()["error"]["message"].replace("no_such_model", model)
            == response.json()["error"]["message"]
        )
    assert _owner_state(live, world) == before


def test_other_account_reads_only_its_own_things(live, world):
    other = live.client(world.other_full)
    assert other.get_account()["name"] == "other"
    assert set(other.get_models()) == {world.other_model}
    owner = live.client(world.owner_full)
    assert world.other_model not in owner.get_models()
    # a model created with the other account's key belongs to the other account
    created = other.create_model("made_by_other")
    assert created["account_id"] == live.context.service.get_account("other").id
    assert "made_by_other" not in owner.get_models()
    own = {f"wallet:{other.get_account()['id']}"}
    own |= {f"{kind}:{m}" for m in other.get_models().values() for kind in ("stake", "pending")}
    rows = other.wallet_transactions()
    assert rows and {r["source"] for r in rows} | {r["destination"] for r in rows} <= own | {"payout_pool"}


def test_admin_key_of_a_plain_account_cannot_escalate(live, world):
    # the owner's admin-scoped key can run admin endpoints (the scope is what counts) ...
    response = live.http("GET", "/v1/admin/accounts", key=world.owner_keys["admin"])
    assert response.status_code == 200
    # ... but an admin-only key does not grant the account scopes
    response = live.http("GET", "/v1/account", key=world.owner_keys["admin"])
    _assert_error(response, 403, "missing_scope")


@pytest.mark.parametrize(("method", "template"), PUBLIC)
def test_public_endpoints_need_no_key(live, world, method, template):
    response = live.http(method, _path(template, world))
    assert response.status_code == 200, response.text


def test_meta_model_is_public_but_lagged(live, world):
    response = live.http("GET", f"/v1/meta-models/{world.round_number}")
    _assert_error(response, 409, "not_releasable")


def test_failed_stake_change_changes_nothing(live, world):
    before = _owner_state(live, world)
    too_much = live.http(
        "POST",
        f"/v1/models/{world.owner_model}/stake/decrease",
        key=world.owner_full,
        json={"amount": "1000000"},
    )
    _assert_error(too_much, 409, "insufficient_balance")
    for amount in ("0", "-1", "1.0000001", "abc", "1e3", ""):
        bad = live.http(
            "POST",
            f"/v1/models/{world.owner_model}/stake/increase",
            key=world.owner_full,
            json={"amount": amount},
        )
        assert bad.status_code == 422, (amount, bad.text)
    assert _owner_state(live, world) == before
    wallet = Decimal(live.client(world.owner_full).get_account()["wallet_balance"])
    assert wallet == Decimal(before[3]) / 1_000_000


def test_every_request_body_has_the_size_limit(live, world):
    too_big = {"ids": [f"x{i:06d}" for i in range(20_000)], "close_time": "2031-01-01T00:00:00Z"}
    response = live.http("POST", "/v1/admin/rounds", key=live.admin_key, json=too_big)
    _assert_error(response, 413, "payload_too_large")
    assert response.json()["error"]["type"] == "PayloadTooLargeError"

    def chunks():  # no Content-Length: refused while it streams
        yield b'{"ids": ['
        for i in range(20_000):
            yield f'"y{i:06d}",'.encode()
        yield b'"z"], "close_time": "2031-01-01T00:00:00Z"}'

    response = live.http(
        "POST",
        "/v1/admin/rounds",
        key=live.admin_key,
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    _assert_error(response, 413, "payload_too_large")
    assert all(r.n_universe < 20_000 for r in live.context.service.list_rounds())
