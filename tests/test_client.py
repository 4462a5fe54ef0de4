"""The Python client against a scripted transport: requests it sends, answers it parses, errors it raises."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import httpx
import pandas as pd
import pytest

from kardashev import errors
from kardashev.client import KardashevClient


class Recorder:
    def __init__(self, responses):
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0)


def _client(*responses, **kwargs):
    recorder = Recorder(responses)
    client = KardashevClient(
        "http://api.test",
        public_id="kdk_pub",
        secret_key="s3cret",
        transport=httpx.MockTransport(recorder),
        **kwargs,
    )
    return client, recorder


def _error(status, code, type_name, message="bad", request_id="rid-1"):
    return httpx.Response(
        status,
        json={"error": {"code": code, "type": type_name, "message": message, "request_id": request_id}},
    )


def test_sends_the_token_header_and_parses_rounds():
    client, rec = _client(httpx.Response(200, json={"number": 7}), httpx.Response(404, json={"error": {}}))
    assert client.get_current_round("classic") == 7
    request = rec.requests[0]
    assert request.headers["authorization"] == "Token kdk_pub$s3cret"
    assert request.url.path == "/v1/rounds/current" and request.url.params["kind"] == "classic"
    assert client.get_current_round() is None  # 404: no open round


def test_anonymous_client_sends_no_authorization():
    recorder = Recorder([httpx.Response(200, json=[])])
    with KardashevClient("http://api.test", transport=httpx.MockTransport(recorder)) as client:
        assert client.get_leaderboard(limit=5, offset=10) == []
    request = recorder.requests[0]
    assert "authorization" not in request.headers
    assert dict(request.url.params) == {"limit": "5", "offset": "10"}


@pytest.mark.parametrize(
    ("status", "code", "type_name", "expected"),
    [
        (422, "duplicate_ids", "SubmissionError", errors.SubmissionError),
        (409, "round_closed", "StateError", errors.StateError),
        (409, "insufficient_balance", "InsufficientBalanceError", errors.InsufficientBalanceError),
        (401, "invalid_credentials", "AuthenticationError", errors.AuthenticationError),
        (403, "missing_scope", "PermissionDeniedError", errors.PermissionDeniedError),
        (404, "model_not_found", "NotFoundError", errors.NotFoundError),
        (413, "payload_too_large", "PayloadTooLargeError", errors.PayloadTooLargeError),
        (409, "x", "NotAKardashevClass", errors.ConflictError),  # unknown type: by status
        (418, "teapot", "os", errors.InvalidInputError),  # never getattr of arbitrary names
        (502, "gateway", "", errors.KardashevError),
    ],
)
def test_errors_come_back_as_domain_exceptions(status, code, type_name, expected):
    client, _ = _client(_error(status, code, type_name, message="what is wrong"))
    with pytest.raises(expected) as info:
        client.submissions("m")
    assert type(info.value) is expected
    assert info.value.code == code
    assert "what is wrong" in info.value.message and "rid-1" in info.value.message
    assert info.value.status_code == status


def test_non_json_error_body():
    client, _ = _client(httpx.Response(502, text="<html>bad gateway</html>"))
    with pytest.raises(errors.KardashevError) as info:
        client.get_account()
    assert info.value.code == "http_error" and "502" in info.value.message


def test_upload_chooses_the_media_type(tmp_path):
    ok = {"id": 11}
    client, rec = _client(*(httpx.Response(201, json=ok) for _ in range(3)))
    csv_path = tmp_path / "p.csv"
    csv_path.write_text("id,prediction\na,0.5\n")
    assert client.upload_predictions(csv_path, model_id="m1", round_number=3) == 11
    parquet_path = tmp_path / "p.parquet"
    frame = pd.DataFrame({"id": ["a", "b"], "prediction": [0.1, 0.9]})
    frame.to_parquet(parquet_path)
    client.upload_predictions(parquet_path, model_id="m1")
    client.upload_predictions(df=frame, model_id="m1")
    first, second, third = rec.requests
    assert first.method == "POST" and first.url.path == "/v1/models/m1/submissions"
    assert first.url.params["round_number"] == "3"
    assert first.headers["content-type"] == "text/csv" and first.content == csv_path.read_bytes()
    assert second.headers["content-type"] == "application/vnd.apache.parquet"
    assert "round_number" not in second.url.params
    assert pd.read_parquet(io.BytesIO(third.content)).equals(frame)


def test_upload_argument_errors(tmp_path):
    client, rec = _client()
    with pytest.raises(errors.InvalidInputError):
        client.upload_predictions(model_id="m")
    with pytest.raises(errors.InvalidInputError):
        client.upload_predictions(tmp_path / "x.csv", df=pd.DataFrame(), model_id="m")
    with pytest.raises(errors.NotFoundError):
        client.upload_predictions(tmp_path / "missing.csv", model_id="m")
    assert rec.requests == []


def test_stake_verbs_send_exact_amounts():
    stake = {"model_id": 1, "stake": "10.5", "at_risk": "0", "pending_release": "0", "wallet_balance": "89.5"}
    client, rec = _client(*(httpx.Response(200, json=stake) for _ in range(3)))
    assert client.stake_increase(Decimal("10.5"), "m1")["stake"] == "10.5"
    client.stake_decrease("0.000001", "m1")
    assert client.stake_get("m1") == Decimal("10.5")
    assert json.loads(rec.requests[0].content) == {"amount": "10.5"}
    assert rec.requests[0].url.path == "/v1/models/m1/stake/increase"
    assert json.loads(rec.requests[1].content) == {"amount": "0.000001"}
    assert rec.requests[2].method == "GET"


def test_admin_verbs_and_meta_model_download(tmp_path):
    responses = [
        httpx.Response(201, json={"id": 1, "name": "a"}),
        httpx.Response(201, json={"public_id": "kdk_x", "secret_key": "y", "scopes": ["read"]}),
        httpx.Response(201, json={"number": 1}),
        httpx.Response(200, json={"round": {}, "n_scores": 3}),
        httpx.Response(200, content=b"PAR1...PAR1"),
    ]
    client, rec = _client(*responses)
    client.create_account("a", deposit="5")
    client.create_api_key("a", ["read"])
    client.open_round(ids=["x", "y"], close_time="2030-01-01T00:00:00Z")
    client.score_round(1, day=1, ids=["x"], target=[0.5])
    data = client.download_meta_model(1, dest_path=tmp_path / "mm.parquet")
    assert data == b"PAR1...PAR1" and (tmp_path / "mm.parquet").read_bytes() == data
    assert len(rec.requests[0].headers["idempotency-key"]) >= 16  # opening with a deposit is replayable
    paths = [(r.method, r.url.path) for r in rec.requests]
    assert paths == [
        ("POST", "/v1/admin/accounts"),
        ("POST", "/v1/admin/accounts/a/keys"),
        ("POST", "/v1/admin/rounds"),
        ("POST", "/v1/admin/rounds/1/score"),
        ("GET", "/v1/meta-models/1"),
    ]
    assert json.loads(rec.requests[0].content) == {"name": "a", "deposit": "5"}
    assert json.loads(rec.requests[3].content) == {"day": 1, "ids": ["x"], "target": [0.5]}
    assert "s3cret" not in repr(client)


def test_in_process_client_against_a_real_app(tmp_path):
    import datetime as dt

    from kardashev.api import Settings, create_app
    from kardashev.api.auth import issue_api_key

    app = create_app(Settings(data_dir=tmp_path))
    service, now = app.state.context.service, dt.datetime.now(dt.timezone.utc)
    account = service.create_account("inproc", now=now, tokens=3_000_000)
    key, _ = issue_api_key(service, account.id, ["read", "stake"], pepper="", now=now)
    service.create_model(account.id, "inproc_model", now=now)
    try:
        with KardashevClient.for_app(app, public_id=key.public_id, secret_key=key.secret) as client:
            assert client.get_models() == {"inproc_model": service.get_model("inproc_model").id}
            assert client.stake_increase("1.5", "inproc_model")["wallet_balance"] == "1.5"
            with pytest.raises(errors.InsufficientBalanceError):
                client.stake_increase("2", "inproc_model")
            with pytest.raises(errors.PermissionDeniedError):
                client.create_model("not_allowed")  # the key has no upload scope
        with KardashevClient.for_app(app) as anonymous, pytest.raises(errors.AuthenticationError):
            anonymous.get_account()
    finally:
        app.state.context.close()


def _retryable(status: int, code: str, **headers: str) -> httpx.Response:
    body = {"error": {"code": code, "type": "", "message": code, "request_id": "r"}}
    return httpx.Response(status, json=body, headers=headers)


def _stake_body() -> dict:
    return {"model_id": 1, "stake": "1", "at_risk": "0", "pending_release": "0", "wallet_balance": "9"}


def test_money_moves_carry_one_key_across_retries_of_503_429_and_in_flight_duplicates():
    waits: list[float] = []
    client, recorder = _client(
        _retryable(503, "database_busy", **{"Retry-After": "2"}),
        _retryable(429, "too_many_requests", **{"Retry-After": "1"}),
        _retryable(409, "duplicate_request"),
        httpx.Response(200, json=_stake_body()),
        sleep=waits.append,
    )
    assert client.stake_increase("1", model_id="m")["stake"] == "1"
    keys = {request.headers["idempotency-key"] for request in recorder.requests}
    assert len(recorder.requests) == 4 and len(keys) == 1 and len(next(iter(keys))) >= 16
    assert [json.loads(r.content) for r in recorder.requests] == [{"amount": "1"}] * 4
    assert waits == [2.0, 1.0, 2.0]  # Retry-After when sent, else 0.5 s doubling per attempt


def test_a_given_key_is_sent_and_conflicts_are_not_retried():
    client, recorder = _client(_retryable(409, "idempotency_key_reused"), sleep=lambda _: None)
    with pytest.raises(errors.ConflictError) as info:
        client.deposit("ann", "5", idempotency_key="my-key-1")
    assert info.value.code == "idempotency_key_reused" and len(recorder.requests) == 1
    assert recorder.requests[0].headers["idempotency-key"] == "my-key-1"


def test_retries_give_up_after_the_limit():
    waits: list[float] = []
    client, recorder = _client(*[_retryable(503, "database_busy")] * 3, retries=2, sleep=waits.append)
    with pytest.raises(errors.KardashevError):
        client.stake_decrease("1", model_id="m")
    assert len(recorder.requests) == 3 and waits == [0.5, 1.0]
    with pytest.raises(errors.ConfigError):
        KardashevClient("http://api.test", retries=-1)
