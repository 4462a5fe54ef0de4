"""Authentication (API keys) and authorization (scopes, ownership) as FastAPI dependencies.

Every protected endpoint declares the scope it needs with ``Depends(require("upload"))``. A missing or
wrong key is 401; a valid key without the scope is 403. An account reaches only its own models: a model of
another account answers 404 exactly like a model that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from kardashev.api.context import ApiContext, get_context
from kardashev.api.keys import (
    SCOPES,
    GeneratedKey,
    generate_key,
    hash_secret,
    parse_authorization,
    verify_secret,
)
from kardashev.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from kardashev.tournament.domain import ApiKey, Model

__all__ = [
    "Principal",
    "api_key_header",
    "authenticate",
    "encode_hash",
    "issue_api_key",
    "owned_model",
    "require",
]

# Declares the scheme in OpenAPI (the "Authorize" button of /docs); the checks are ours.
api_key_header = APIKeyHeader(
    name="Authorization",
    scheme_name="ApiKey",
    description="`Token PUBLIC_ID$SECRET`",
    auto_error=False,
)

_HASH_SCHEME = "hmac-sha256"
_DUMMY_SALT = secrets.token_hex(16)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account of the API key and the key's scopes."""

    account_id: int
    account_name: str
    key_id: str
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return scope in self.scopes


def encode_hash(salt: str, secret_hash: str) -> str:
    """The stored form of a key hash: ``hmac-sha256$SALT$HEX``."""
    return f"{_HASH_SCHEME}${salt}${secret_hash}"


def _decode_hash(stored: str) -> tuple[str, str]:
    scheme, _, rest = stored.partition("$")
    salt, _, digest = rest.partition("$")
    if scheme != _HASH_SCHEME or not salt or not digest:
        return _DUMMY_SALT, ""
    return salt, digest


_INVALID = "invalid API key"


def authenticate(context: ApiContext, header: str | None) -> Principal:
    """The principal of an ``Authorization`` header; AuthenticationError when missing or wrong.

    The work done for an unknown public id is the same as for a wrong secret (one HMAC and one
    constant-time comparison), and both give the same message.
    """
    public_id, secret = parse_authorization(header)
    pepper = context.settings.key_pepper
    with context.unit_of_work(read_only=True) as repo:
        try:
            key = repo.get_api_key(public_id)
        except NotFoundError:
            verify_secret(secret, salt=_DUMMY_SALT, secret_hash=hash_secret("", _DUMMY_SALT), pepper=pepper)
            raise AuthenticationError(_INVALID, code="invalid_credentials") from None
        salt, digest = _decode_hash(key.secret_hash)
        if not verify_secret(secret, salt=salt, secret_hash=digest, pepper=pepper) or not digest:
            raise AuthenticationError(_INVALID, code="invalid_credentials")
        if not key.active:
            raise AuthenticationError("this API key has been revoked", code="revoked_key")
        account = repo.get_account(key.account_id)
    return Principal(
        account_id=account.id, account_name=account.name, key_id=key.key_id, scopes=frozenset(key.scopes)
    )


def require(scope: str) -> Callable[..., Principal]:
    """A dependency authenticating the caller and checking that its key has ``scope``."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def dependency(
        request: Request,
        authorization: str | None = Depends(api_key_header),
        context: ApiContext = Depends(get_context),
    ) -> Principal:
        principal = authenticate(context, authorization)
        request.state.key_id = principal.key_id
        if not principal.has(scope):
            raise PermissionDeniedError(
                f"this API key lacks the '{scope}' scope (it has: {', '.join(sorted(principal.scopes))})",
                code="missing_scope",
            )
        return principal

    dependency.__name__ = f"require_{scope}"
    return dependency


def owned_model(repo: object, principal: Principal, model: str) -> Model:
    """The model ``model`` (name or id) of the caller's account; NotFoundError otherwise."""
    digits = model.isascii() and model.isdigit() and len(model) <= 18
    reference: int | str = int(model) if digits else model
    try:
        found = repo.get_model(reference)  # type: ignore[attr-defined]
    except NotFoundError:
        found = None
    if found is None or found.account_id != principal.account_id:
        raise NotFoundError(f"your account has no model {model!r}", code="model_not_found")
    return found


def issue_api_key(
    service: object, account: int | str, scopes: object, *, pepper: str, now: object
) -> tuple[GeneratedKey, ApiKey]:
    """Create and store a key for ``account`` (hash only); returns the new key (with its secret, to hand
    to its owner once) and the stored record."""
    key = generate_key(scopes, pepper=pepper)
    stored = service.create_api_key(  # type: ignore[attr-defined]
        account,
        key_id=key.public_id,
        secret_hash=encode_hash(key.salt, key.secret_hash),
        scopes=frozenset(key.scopes),
        now=now,
    )
    return key, stored
