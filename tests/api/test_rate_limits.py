"""Rate limits per API key and per client address: 429 with Retry-After, other callers unaffected."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from kardashev import errors
from kardashev.api import Settings, create_app
from kardashev.api.auth import issue_api_key
from kardashev.client import KardashevClient


def _app(tmp_path, **limits):
    app = create_app(Settings(data_dir=tmp_path, key_pepper="p", **limits))
    service = app.state.context.service
    now = dt.datetime.now(dt.timezone.utc)
    keys = []
    for name in ("ann", "ben"):
        account = service.create_account(name, now=now)
        keys.append(issue_api_key(service, account.id, ["read"], pepper="p", now=now)[0])
    return app, keys


def _auth(key) -> dict[str, str]:
    return {"Authorization": f"Token {key.public_id}${key.secret}"}


def test_a_key_over_its_limit_gets_429_with_retry_after(tmp_path):
    app, (ann, ben) = _app(tmp_path, rate_limit_per_key="3/minute", rate_limit_per_address="")
    with TestClient(app) as client:
        statuses = [client.get("/v1/account", headers=_auth(ann)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = client.get("/v1/account", headers=_auth(ann))
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_requests"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["x-request-id"] == refused.json()["error"]["request_id"]
        # another key is counted apart
        assert client.get("/v1/account", headers=_auth(ben)).status_code == 200
        app.state.context.close()


def test_a_wrong_secret_does_not_use_up_the_named_key(tmp_path):
    app, (ann, _) = _app(tmp_path, rate_limit_per_key="2/minute", rate_limit_per_address="")
    wrong = {"Authorization": f"Token {ann.public_id}$not-the-secret"}
    with TestClient(app) as client:
        assert [client.get("/v1/account", headers=wrong).status_code for _ in range(5)] == [401] * 5
        statuses = [client.get("/v1/account", headers=_auth(ann)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        # once the key is over its limit, even a wrong secret naming it is refused before any work
        assert client.get("/v1/account", headers=wrong).status_code == 429
        app.state.context.close()


def test_an_address_over_its_limit_gets_429(tmp_path):
    app, (ann, ben) = _app(tmp_path, rate_limit_per_key="", rate_limit_per_address="2/minute")
    with TestClient(app) as client:
        assert client.get("/v1/health").status_code == 200
        assert client.get("/v1/account", headers=_auth(ann)).status_code == 200
        refused = client.get("/v1/account", headers=_auth(ben))  # same address, another key
        assert refused.status_code == 429 and "address" in refused.json()["error"]["message"]
        assert int(refused.headers["retry-after"]) >= 1
        app.state.context.close()


def test_empty_limits_turn_limiting_off_and_bad_ones_are_config_errors(tmp_path):
    app, (ann, _) = _app(tmp_path, rate_limit_per_key="", rate_limit_per_address="")
    with TestClient(app) as client:
        assert all(client.get("/v1/account", headers=_auth(ann)).status_code == 200 for _ in range(30))
        app.state.context.close()
    with pytest.raises(errors.ConfigError):
        Settings(rate_limit_per_key="lots")


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("KARDASHEV_RATE_LIMIT_PER_KEY", "5/second")
    monkeypatch.setenv("KARDASHEV_RATE_LIMIT_PER_ADDRESS", "")
    settings = Settings.from_env()
    assert settings.rate_limit_per_key == "5/second" and settings.rate_limit_per_address == ""


def test_the_client_raises_rate_limit_error_and_retries_money_moves(tmp_path):
    app, (ann, _) = _app(tmp_path, rate_limit_per_key="1/minute", rate_limit_per_address="")
    client = KardashevClient.for_app(app, public_id=ann.public_id, secret_key=ann.secret)
    client.get_account()
    with pytest.raises(errors.RateLimitError) as info:
        client.get_account()
    assert info.value.code == "too_many_requests"
    waits: list[float] = []
    client.retries, client._sleep = 2, waits.append
    with pytest.raises(errors.RateLimitError):  # still limited after its retries
        client.stake_increase("1", model_id="nothing")
    assert len(waits) == 2 and all(1 <= w <= 60 for w in waits)  # it waited Retry-After each time
    client.close()
    app.state.context.close()
