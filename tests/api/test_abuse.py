"""The abuse catalogue over HTTP, on SQLite and on PostgreSQL.

A participant with an ordinary key sends every hostile file of :mod:`tests.abuse` to every endpoint that
parses files (submissions, diagnostics; the operator's validation-data upload too), replays and twists
money moves, and posts implausible operator data (the tests run in file order, like a season: the
round is open for the uploads, then closed and resolved). Every answer is a 4xx with its code,
nothing is stored half-way, a replayed money move changes nothing, and the ledger audit balances.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from kardashev.api import Settings
from kardashev.client import KardashevClient
from kardashev.tournament import tokens_to_units
from tests.abuse import HOSTILE_FILES, HOSTILE_REQUESTS, hostile
from tests.api.conftest import START, FakeClock, LiveServer, classic_csv, running_server, universe
from tests.conftest import _postgres_schema

MAX_UPLOAD = 16 * 1024 * 1024
IDS = universe()


def _settings(root: Path, database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=root / "data",
        max_upload_bytes=MAX_UPLOAD,
        key_pepper="abuse-pepper",
        meta_model_lag_rounds=1,
        meta_model_min_models=2,
        rate_limit_per_key="",
        rate_limit_per_address="",
    )


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request, tmp_path_factory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("abuse")
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{root / 'kardashev.db'}"])
    else:
        urls = _postgres_schema()
    url = next(urls)
    try:
        with running_server(_settings(root, url), FakeClock(START)) as live:
            yield live
    finally:
        for _ in urls:  # drops the PostgreSQL schema
            pass


@pytest.fixture(scope="module")
def world(server):
    service, now = server.context.service, server.clock()
    account = service.create_account("mallory", now=now, tokens=100_000_000)
    key = server.new_key(account.id, ["read", "upload", "stake"])
    service.create_model(account.id, "mallory_model", now=now)
    other = service.create_account("trent", now=now, tokens=100_000_000)
    other_key = server.new_key(other.id, ["read", "upload", "stake"])
    service.create_model(other.id, "trent_model", now=now)
    number = service.open_round(
        1, universe=IDS, close_time=now + dt.timedelta(hours=1), now=now, horizon_days=2
    ).number
    rng = np.random.default_rng(3)
    validation = pd.DataFrame(
        {
            "era": np.repeat(["0001", "0002"], len(IDS) // 2),
            "id": IDS,
            "target": rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], len(IDS)),
            "feature_a": rng.integers(0, 5, len(IDS)).astype(float),
        }
    )
    sink = io.BytesIO()
    validation.to_parquet(sink, index=False)
    response = server.http(
        "PUT",
        "/v1/admin/validation-data",
        key=server.admin_key,
        content=sink.getvalue(),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    )
    assert response.status_code == 200, response.text
    return {"key": key, "other_key": other_key, "round": number, "account": account.id}


ENDPOINTS = {
    "submission": ("POST", "/v1/models/mallory_model/submissions?round_number=1"),
    "diagnostics": ("POST", "/v1/models/mallory_model/diagnostics"),
    "validation_data": ("PUT", "/v1/admin/validation-data"),
}


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("entry", HOSTILE_FILES, ids=lambda e: e.name)
def test_hostile_files_are_refused_with_a_4xx(server, world, entry, endpoint):
    method, path = ENDPOINTS[endpoint]
    key = server.admin_key if endpoint == "validation_data" else world["key"]
    before = len(server.context.service.list_submissions())
    response = server.http(
        method, path, key=key, content=hostile(entry.name), headers={"Content-Type": entry.content_type}
    )
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    if endpoint == "validation_data" and not entry.http_only:  # wider operator bounds: another rule
        assert response.status_code == 422 and error["code"], error
    else:
        assert (response.status_code, error["code"]) == (entry.status, entry.code), error
    assert len(error["message"]) < 1000
    assert len(server.context.service.list_submissions()) == before


@pytest.mark.parametrize("entry", HOSTILE_REQUESTS, ids=lambda e: e.name)
def test_hostile_json_is_refused_before_it_is_parsed_or_posted(server, world, entry):
    wallet = _wallet(server, world)
    response = server.http(
        "POST",
        entry.path.format(model="mallory_model"),
        key=world["key"],
        content=entry.build(),
        headers={"Content-Type": entry.content_type},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (entry.status, entry.code)
    assert _wallet(server, world) == wallet


def test_the_json_limit_spares_the_operator(server, world):
    ids = [f"operator-id-{i:06d}" for i in range(5000)]  # ~ 110 KB of JSON, over the 64 KiB limit
    response = server.http(
        "POST",
        "/v1/admin/rounds",
        key=server.admin_key,
        json={"number": 99, "ids": ids, "close_time": "2031-01-01T00:00:00Z"},
    )
    assert response.status_code == 201, response.text
    padded = {"amount": "1", "pad": "x" * 70_000}
    response = server.http("POST", "/v1/models/mallory_model/stake/increase", key=world["key"], json=padded)
    assert response.status_code == 413


def test_a_valid_upload_still_works_after_the_catalogue(server, world):
    response = server.http(
        "POST",
        "/v1/models/trent_model/submissions?round_number=1",
        key=world["other_key"],
        content=classic_csv(IDS, seed=4),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text


def _stake(server, key, amount, *, idem=None, decrease=False):
    headers = {} if idem is None else {"Idempotency-Key": idem}
    verb = "decrease" if decrease else "increase"
    return server.http(
        "POST",
        f"/v1/models/mallory_model/stake/{verb}",
        key=key,
        json={"amount": amount},
        headers=headers,
    )


def _wallet(server, world) -> int:
    return server.context.service.wallet(world["account"])


def test_a_replayed_stake_move_changes_nothing(server, world):
    wallet = _wallet(server, world)
    first = _stake(server, world["key"], "1.5", idem="move-1")
    assert first.status_code == 200, first.text
    replay = _stake(server, world["key"], "1.5", idem="move-1")
    assert replay.status_code == 200 and replay.json() == first.json()
    assert _wallet(server, world) == wallet - 1_500_000
    down = _stake(server, world["key"], "0.5", idem="move-2", decrease=True)
    again = _stake(server, world["key"], "0.5", idem="move-2", decrease=True)
    assert down.status_code == again.status_code == 200 and down.json() == again.json()
    assert server.context.service.stake("mallory_model").stake == 1_000_000


def test_the_same_key_with_another_request_is_a_conflict(server, world):
    wallet = _wallet(server, world)
    assert _stake(server, world["key"], "1", idem="move-3").status_code == 200
    for twisted in (
        _stake(server, world["key"], "2", idem="move-3"),
        _stake(server, world["key"], "1", idem="move-3", decrease=True),
    ):
        assert twisted.status_code == 409, twisted.text
        assert twisted.json()["error"]["code"] in ("idempotency_key_reused", "duplicate_request")
    assert _wallet(server, world) == wallet - 1_000_000


def test_keys_are_per_account_and_malformed_keys_are_refused(server, world):
    trent_wallet = server.context.service.wallet("trent")
    response = server.http(
        "POST",
        "/v1/models/trent_model/stake/increase",
        key=world["other_key"],
        json={"amount": "1"},
        headers={"Idempotency-Key": "move-1"},  # mallory used it: trent's is another key
    )
    assert response.status_code == 200, response.text
    assert server.context.service.wallet("trent") == trent_wallet - 1_000_000
    for bad in ("", "x" * 101, "space here", "é".encode()):
        response = _stake(server, world["key"], "1", idem=bad)
        assert response.status_code in (400, 422), response.text
        if response.status_code == 422:
            assert response.json()["error"]["code"] == "invalid_idempotency_key"


def test_concurrent_duplicates_post_once(server, world):
    wallet = _wallet(server, world)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: _stake(server, world["key"], "0.25", idem="burst"), range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert 200 in statuses and set(statuses) <= {200, 409}, [r.text for r in responses]
    assert all(r.json()["error"]["code"] == "duplicate_request" for r in responses if r.status_code == 409)
    assert _wallet(server, world) == wallet - 250_000


def test_deposits_are_idempotent(server, world):
    wallet = _wallet(server, world)
    for _ in range(2):
        response = server.http(
            "POST",
            "/v1/admin/accounts/mallory/deposit",
            key=server.admin_key,
            json={"amount": "3"},
            headers={"Idempotency-Key": "deposit-1"},
        )
        assert response.status_code == 200, response.text
    assert _wallet(server, world) == wallet + 3_000_000


class _LoseFirstResponse(httpx.HTTPTransport):
    """Delivers the first request of each path to the server, then acts as if it timed out."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.sent.append(request.headers.get("idempotency-key"))
        if len(self.sent) == 1:
            response.close()
            raise httpx.ReadTimeout("response lost", request=request)
        return response


def test_the_client_retries_a_lost_response_without_double_staking(server, world):
    transport = _LoseFirstResponse()
    waits: list[float] = []
    key = world["key"]
    client = KardashevClient(
        server.base_url,
        public_id=key.public_id,
        secret_key=key.secret,
        transport=transport,
        sleep=waits.append,
    )
    wallet = _wallet(server, world)
    with client:
        result = client.stake_increase("2", model_id="mallory_model")
    assert len(transport.sent) == 2 and transport.sent[0] == transport.sent[1] is not None
    assert waits == [0.5] and result["model_id"]
    assert _wallet(server, world) == wallet - 2_000_000


def _day(day: int, **overrides) -> dict:
    rng = np.random.default_rng(day)
    body = {
        "day": day,
        "ids": IDS,
        "target": rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], len(IDS)).tolist(),
        "realized_returns": rng.normal(0, 0.02, len(IDS)).tolist(),
        "exposures": np.column_stack([np.ones(len(IDS)), rng.normal(size=len(IDS))]).tolist(),
    }
    body.update(overrides)
    return body


def _implausible_days() -> list[tuple[str, dict, str]]:
    n = len(IDS)
    rng = np.random.default_rng(9)
    base = rng.normal(size=n)
    return [
        ("returns 1e300", _day(1, realized_returns=[1e300] * n), "implausible_values"),
        (
            "collinear 1e200 exposures",
            _day(1, exposures=np.column_stack([base * 1e200, base * 2e200]).tolist()),
            "implausible_values",
        ),
        (
            "collinear exposures",
            _day(1, exposures=np.column_stack([base, 2 * base, np.ones(n)]).tolist()),
            "collinear_exposures",
        ),
        ("constant target", _day(1, target=[0.5] * n), "constant_target"),
        ("target 1e300", _day(1, target=[1e300] + [0.5] * (n - 1)), "implausible_values"),
        (
            "a tenth of the universe",
            {
                **_day(1),
                "ids": IDS[:12],
                "target": [0.0, 1.0] * 6,
                "realized_returns": [0.01] * 12,
                "exposures": None,
            },
            "low_coverage",
        ),
    ]


def _close(server, world) -> None:
    """Close the catalogue's round (once: closing is idempotent)."""
    server.clock.advance(hours=2)
    server.context.service.close_round(world["round"], now=server.clock())


def test_implausible_operator_data_is_refused_before_any_score(server, world):
    service = server.context.service
    _close(server, world)
    for name, body, code in _implausible_days():
        for path in ("score", "resolve", "resolve/dry-run"):
            response = server.http(
                "POST", f"/v1/admin/rounds/{world['round']}/{path}", key=server.admin_key, json=body
            )
            assert response.status_code == 422, (name, path, response.text)
            assert response.json()["error"]["code"] == code, (name, path, response.json())
    assert service.scores(round_number=world["round"]) == []
    assert service.get_round(world["round"]).days_scored == 0


def test_the_resolve_dry_run_shows_what_the_resolve_does_and_writes_nothing(server, world):
    service = server.context.service
    _close(server, world)
    server.clock.advance(days=3)
    final = _day(2)
    before = (service.get_round(world["round"]), service.balances(), service.audit())
    dry = server.http(
        "POST", f"/v1/admin/rounds/{world['round']}/resolve/dry-run", key=server.admin_key, json=final
    )
    assert dry.status_code == 200, dry.text
    preview = dry.json()
    assert preview["already_resolved"] is False and preview["payouts"], preview
    assert (service.get_round(world["round"]), service.balances(), service.audit()) == before
    resolved = server.http(
        "POST", f"/v1/admin/rounds/{world['round']}/resolve", key=server.admin_key, json=final
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["payouts"] == preview["payouts"]
    audit = service.audit()
    amounts = [tokens_to_units(p["amount"]) for p in preview["payouts"]]
    minted = sum(a for a in amounts if a > 0)
    assert audit.minted - before[2].minted == minted == tokens_to_units(preview["total_minted"])


def test_the_ledger_audit_balances_after_the_catalogue(server, world):
    response = server.http("GET", "/v1/admin/ledger/audit", key=server.admin_key)
    assert response.status_code == 200 and response.json()["ok"] is True, response.text
    assert len(server.context.service.list_submissions()) == 1  # the one valid upload
