"""The ``Idempotency-Key`` header of the endpoints that move tokens.

A client sends a fresh key with each money move and the same key when it retries that move (after a
timeout, a dropped connection or a 503). The key is scoped to the caller's account and stored with
the ledger transaction it posted (unique in the ledger), together with a digest of the request
(method, path and body): a retry with the same key and the same request posts nothing and answers
like the first call; the same key with a different request is a 409 ``idempotency_key_reused``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from fastapi import Request
from pydantic import BaseModel

from kardashev.api.auth import Principal
from kardashev.errors import InvalidInputError

__all__ = ["IDEMPOTENCY_HEADER", "IDEMPOTENCY_OPENAPI", "IdempotentRequest", "idempotent_request"]

IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

IDEMPOTENCY_OPENAPI: dict[str, object] = {
    "parameters": [
        {
            "name": IDEMPOTENCY_HEADER,
            "in": "header",
            "required": False,
            "description": "a fresh key per money move, the same one on a retry (1-100 of "
            "A-Z a-z 0-9 . _ : -); a replay posts nothing, the same key with another request is a 409",
            "schema": {"type": "string", "maxLength": 100},
        }
    ]
}
"""OpenAPI description of the header, for ``openapi_extra``."""


@dataclass(frozen=True)
class IdempotentRequest:
    """The ledger's idempotency key (scoped to the account) and the request's digest."""

    key: str
    request_hash: str


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
    return IdempotentRequest(key=f"api:{principal.account_id}:{raw}", request_hash=digest)
