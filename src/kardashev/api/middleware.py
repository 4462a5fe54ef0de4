"""Request ids, access log, rate limits, body limit and the last-resort error response (pure ASGI,
streaming-safe).

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
import math
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "BodyLimitMiddleware",
    "RateLimitMiddleware",
    "RequestContextFilter",
    "RequestIdMiddleware",
    "current_request_id",
]

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


async def _send_error(
    send: Send,
    status: int,
    code: str,
    type_name: str,
    message: str,
    request_id: str,
    *,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = json.dumps(
        {"error": {"code": code, "type": type_name, "message": message, "request_id": request_id}}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(extra_headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _send_internal_error(send: Send, request_id: str) -> None:
    await _send_error(
        send,
        500,
        "internal_error",
        "KardashevError",
        "internal server error; quote the request id when reporting it",
        request_id,
    )


class BodyLimitMiddleware:
    """Refuses any request body over ``max_bytes`` with a 413 error envelope: at once when
    ``Content-Length`` announces more, else as soon as the streamed bytes pass the limit (the error is
    raised from ``receive`` as an HTTP 413, which the app's handlers turn into the envelope).

    A JSON body (``application/json`` or ``…+json``) outside ``json_exempt_prefix`` (the operator's
    endpoints, whose scoring days are large) has the lower limit ``max_json_bytes``: a participant's
    JSON is a name or an amount, and parsing a large JSON document costs many times its size.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_json_bytes: int | None = None,
        json_exempt_prefix: str = "/v1/admin/",
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_json_bytes = max_json_bytes
        self.json_exempt_prefix = json_exempt_prefix

    def _limit(self, scope: Scope) -> int:
        if self.max_json_bytes is None or str(scope.get("path", "")).startswith(self.json_exempt_prefix):
            return self.max_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-type":
                media = value.decode("latin-1").split(";", 1)[0].strip().lower()
                if media == "application/json" or media.endswith("+json"):
                    return min(self.max_bytes, self.max_json_bytes)
                break
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                request_id = scope.get("state", {}).get("request_id") or uuid.uuid4().hex
                await _send_error(
                    send, 413, "payload_too_large", "PayloadTooLargeError", self._message(limit), request_id
                )
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(status_code=413, detail=self._message(limit))
            return message

        await self.app(scope, limited_receive, send)

    @staticmethod
    def _message(limit: int) -> str:
        return f"request body is larger than the limit of {limit} bytes"


def _claimed_key(scope: Scope) -> str | None:
    """The public id an ``Authorization: Token PUBLIC_ID$SECRET`` header claims (not verified here:
    counting happens before the costly hash check, and a wrong key still counts against the address)."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text = value.decode("latin-1").strip()
            scheme, _, token = text.partition(" ")
            public_id = token.strip().partition("$")[0]
            if scheme.lower() == "token" and _SAFE_ID.match(public_id):
                return public_id
            return None
    return None


class RateLimitMiddleware:
    """Request rate limits per API key and per client address (the ``limits`` library, moving
    window). A request over either limit is answered 429 ``too_many_requests`` with ``Retry-After``
    (seconds until the window lets the next request in) before any other work is done.

    Every request counts against its address. A request counts against the API key it names only
    when it authenticates (its answer is not a 401), so nobody can use up another participant's
    allowance by sending their public id with a wrong secret; the key's limit is checked before the
    request runs and charged after it.
    """

    def __init__(
        self, app: ASGIApp, *, per_key: str, per_address: str, storage_uri: str = "memory://"
    ) -> None:
        from limits import parse_many, storage, strategies

        self.app = app
        self.per_key = parse_many(per_key) if per_key.strip() else []
        self.per_address = parse_many(per_address) if per_address.strip() else []
        self.limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))

    def _wait(self, item: Any, identifiers: tuple[str, ...]) -> float:
        reset = self.limiter.get_window_stats(item, *identifiers).reset_time
        return max(reset - time.time(), 0.0)

    def _hit(self, items: list[Any], *identifiers: str) -> float | None:
        """Charge one request; seconds to wait when one of ``items`` is exhausted (None: allowed)."""
        for item in items:
            if not self.limiter.hit(item, *identifiers):
                return self._wait(item, identifiers)
        return None

    def _test(self, items: list[Any], *identifiers: str) -> float | None:
        """Like :meth:`_hit` without charging anything."""
        for item in items:
            if not self.limiter.test(item, *identifiers):
                return self._wait(item, identifiers)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = str(client[0]) if client else "unknown"
        key = _claimed_key(scope) if self.per_key else None
        wait, what = self._hit(self.per_address, "address", address), "address"
        if wait is None and key is not None:
            wait, what = self._test(self.per_key, "key", key), "API key"
        if wait is not None:
            await self._refuse(scope, send, wait, what)
            return
        if key is None:
            await self.app(scope, receive, send)
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if status and status[0] != 401:
                self._hit(self.per_key, "key", key)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, wait: float, what: str) -> None:
        retry_after = max(1, math.ceil(wait))
        request_id = scope.get("state", {}).get("request_id") or uuid.uuid4().hex
        await _send_error(
            send,
            429,
            "too_many_requests",
            "RateLimitError",
            f"too many requests from this {what}; retry after {retry_after} s",
            request_id,
            extra_headers=[(b"retry-after", str(retry_after).encode())],
        )
