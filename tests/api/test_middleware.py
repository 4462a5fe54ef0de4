"""Error envelope, request ids, logs without secrets, and the 500 fallback (in-process app)."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from kardashev import errors
from kardashev.api import Settings, create_app
from kardashev.api.auth import issue_api_key
from kardashev.api.errors import status_for
from kardashev.api.logs import LOG_FORMAT
from kardashev.api.middleware import RequestContextFilter
from tests.api.conftest import classic_csv, universe


@pytest.fixture
def app_and_key(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, key_pepper="p"))
    service = app.state.context.service
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    account = service.create_account("logger", now=now)
    key, _ = issue_api_key(service, account.id, ["read", "upload"], pepper="p", now=now)
    service.create_model(account.id, "log_model", now=now)
    service.open_round(1, universe=universe(), close_time=now + dt.timedelta(hours=1), now=now)

    @app.get("/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("secret internals")

    yield app, key
    app.state.context.close()


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.SubmissionError("x", code="nan_values"), 422),
        (errors.DataFormatError("x"), 422),
        (errors.InvalidInputError("x"), 422),
        (errors.DataFormatError("x", code="unsupported_media_type"), 415),
        (errors.PayloadTooLargeError("x"), 413),
        (errors.AuthenticationError("x"), 401),
        (errors.PermissionDeniedError("x"), 403),
        (errors.NotFoundError("x"), 404),
        (errors.ConflictError("x"), 409),
        (errors.StateError("x", code="round_closed"), 409),
        (errors.InsufficientBalanceError("x"), 409),
        (errors.InfeasibleError("x"), 422),
        (errors.SolverError("x"), 500),
    ],
)
def test_status_table(error, status):
    assert status_for(error) == status


def test_request_id_is_echoed_or_made(app_and_key):
    app, _ = app_and_key
    with TestClient(app) as client:
        given = client.get("/v1/health", headers={"X-Request-ID": "abc-123"})
        assert given.headers["x-request-id"] == "abc-123"
        made = client.get("/v1/health", headers={"X-Request-ID": "bad id\twith spaces"})
        assert (
            made.headers["x-request-id"] != "bad id\twith spaces" and len(made.headers["x-request-id"]) == 32
        )
        other = client.get("/v1/health")
        assert other.headers["x-request-id"] != made.headers["x-request-id"]


def test_unknown_route_and_method_use_the_envelope(app_and_key):
    app, _ = app_and_key
    with TestClient(app) as client:
        missing = client.get("/v1/nothing-here")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
        wrong_method = client.delete("/v1/rounds")
        assert wrong_method.status_code == 405
        assert wrong_method.json()["error"]["request_id"] == wrong_method.headers["x-request-id"]
        invalid = client.get("/v1/rounds/0")
        assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "invalid_request"
        assert "number" in invalid.json()["error"]["message"]


def test_unexpected_error_is_a_500_envelope_without_internals(app_and_key, caplog):
    app, _ = app_and_key
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        response = client.get("/boom", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    body = response.json()["error"]
    assert body == {
        "code": "internal_error",
        "type": "KardashevError",
        "message": "internal server error; quote the request id when reporting it",
        "request_id": "boom-1",
    }
    assert "secret internals" not in response.text
    assert any("secret internals" in (record.exc_text or "") or record.exc_info for record in caplog.records)


def test_logs_carry_the_request_id_and_no_secret_or_prediction(app_and_key, caplog):
    app, key = app_and_key
    content = classic_csv(universe(), seed=3)
    handler_lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            handler_lines.append(self.format(record))

    collect = Collect()
    collect.setFormatter(logging.Formatter(LOG_FORMAT))
    collect.addFilter(RequestContextFilter())
    logger = logging.getLogger("kardashev")
    logger.addHandler(collect)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        with TestClient(app) as client:
            ok = client.post(
                "/v1/models/log_model/submissions",
                content=content,
                headers={
                    "Authorization": f"Token {key.public_id}${key.secret}",
                    "Content-Type": "text/csv",
                    "X-Request-ID": "upload-42",
                },
            )
            assert ok.status_code == 201, ok.text
            bad = client.get(
                "/v1/account", headers={"Authorization": f"Token {key.public_id}$guessed-secret"}
            )
            assert bad.status_code == 401
    finally:
        logger.removeHandler(collect)
        logger.setLevel(old_level)
    text = "\n".join(handler_lines)
    assert "[upload-42]" in text and "POST /v1/models/log_model/submissions 201" in text
    assert f"key={key.public_id}" in text  # the public id is logged: it identifies, it does not authenticate
    assert key.secret not in text and "guessed-secret" not in text
    first_prediction = content.decode().splitlines()[1].split(",")[1]
    assert first_prediction not in text
