"""The ``Idempotency-Key`` header of the endpoints that move tokens.

A client sends a fresh key with each money move and the same key when it retries that move (after a
timeout, a dropped connection or a 503). The key is scoped to the caller's account and stored with
the ledger transaction it posted (unique in the ledger), together with a digest of the request
(method, path and body) and the rendered first response, in the transaction that posts the move
(:mod:`kardashev.tournament.replay`): a retry with the same key and the same request posts nothing
and answers the first response byte for byte (status and body), whatever moved since; the same key
with a different request is a 409 ``idempotency_key_reused``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from kardashev.api.auth import Principal
from kardashev.errors import InvalidInputError
from kardashev.tournament.replay import Replay, StoredResponse
from kardashev.tournament.service_accounts import MoneyMove

__all__ = [
    "IDEMPOTENCY_HEADER",
    "IDEMPOTENCY_OPENAPI",
    "IdempotentRequest",
    "idempotent_request",
    "replayed",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

IDEMPOTENCY_OPENAPI: dict[str, object] = {
    "parameters": [
        {
            "name": IDEMPOTENCY_HEADER,
            "in": "header",
            "required": False,
            "description": "a fresh key per money move, the same one on a retry (1-100 of "
            "A-Z a-z 0-9 . _ : -); a replay posts nothing and answers the first response unchanged, "
            "the same key with another request is a 409",
            "schema": {"type": "string", "maxLength": 100},
        }
    ]
}
"""OpenAPI description of the header, for ``openapi_extra``."""


@dataclass(frozen=True)
class IdempotentRequest:
    """The caller's account, the ledger's idempotency key (scoped to it) and the request's digest."""

    account_id: int
    key: str
    request_hash: str

    def replay(self, out: Callable[[MoneyMove], BaseModel], *, status_code: int = 200) -> Replay[MoneyMove]:
        """The service's replayable request: the move's result rendered by ``out`` as the JSON body."""

        def render(move: MoneyMove) -> StoredResponse:
            return StoredResponse(status_code, bytes(JSONResponse(jsonable_encoder(out(move))).body))

        return Replay(self.account_id, self.key, self.request_hash, render)


def replayed(stored: StoredResponse) -> Response:
    """The stored response as sent the first time (the same status and body bytes)."""
    return Response(content=stored.body, status_code=stored.status_code, media_type="application/json")


def idempotent_request(request: Request, principal: Principal, body: BaseModel) -> IdempotentRequest | None:
    """The request's idempotency key and digest; None without the header (422 when it is malformed)."""
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        return None
    if not _KEY.match(raw):
        raise InvalidInputError(
            f"the {IDEMPOTENCY_HEADER} header must be 1 to 100 characters of A-Z a-z 0-9 . _ : -",
            code="invalid_idempotency_key",
        )
    payload = {
        "method": request.method,
        "path": request.url.path,
        "body": body.model_dump(mode="json"),
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return IdempotentRequest(
        account_id=principal.account_id, key=f"api:{principal.account_id}:{raw}", request_hash=digest
    )
