"""Request ids, access log and the last-resort error response (pure ASGI, streaming-safe).

Every request gets an id: the client's ``X-Request-ID`` when it is a short token of safe characters,
otherwise a fresh random one. It is echoed in the ``X-Request-ID`` response header, stored in
``request.state.request_id`` (for error envelopes), put on every log record made while the request runs
(``record.request_id``), and written in one access-log line per request. The access log holds the method,
the path (never the query string or headers, so never a secret), the status, the time taken and the public
id of the API key when one was accepted; bodies are never logged.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestContextFilter", "RequestIdMiddleware", "current_request_id"]

access_logger = logging.getLogger("kardashev.api.access")
error_logger = logging.getLogger("kardashev.api")

_REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("kardashev_request_id", default=None)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def current_request_id() -> str | None:
    """Id of the request being handled in this context (None outside a request)."""
    return _REQUEST_ID.get()


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` to each log record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _REQUEST_ID.get() or "-"
        return True


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            try:
                text = value.decode("ascii")
            except UnicodeDecodeError:
                break
            if _SAFE_ID.match(text):
                return text
            break
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Assigns request ids, logs one access line per request and turns an escaped exception into a 500
    error envelope (the exception and its traceback go to the log, not to the client)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = _REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status_holder: dict[str, Any] = {"status": None}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_logger.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if status_holder["status"] is None:
                await _send_internal_error(send_with_id, request_id)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            access_logger.info(
                "%s %s %s %.1fms key=%s",
                scope.get("method"),
                scope.get("path"),
                status_holder["status"],
                elapsed_ms,
                scope["state"].get("key_id", "-"),
            )
            _REQUEST_ID.reset(token)


async def _send_internal_error(send: Send, request_id: str) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "internal_error",
                "type": "KardashevError",
                "message": "internal server error; quote the request id when reporting it",
                "request_id": request_id,
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
