"""API keys: generation, hashing and constant-time verification (no database here).

A key is a pair: a public id (``kdk_`` + 20 base32 characters, safe to log and to show in lists) and a
secret (43 url-safe characters = 256 random bits), sent as ``Authorization: Token PUBLIC$SECRET``.
Only ``HMAC-SHA256(pepper, salt ‖ secret)`` and the per-key random salt are stored. Because the secret is
high-entropy, a fast keyed hash is as strong as a slow password hash here, and it keeps every request
cheap; the server pepper means a stolen database alone cannot even test guesses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from kardashev.errors import AuthenticationError, InvalidInputError

__all__ = [
    "SCOPES",
    "GeneratedKey",
    "generate_key",
    "hash_secret",
    "parse_authorization",
    "parse_scopes",
    "verify_secret",
]

SCOPES: tuple[str, ...] = ("read", "upload", "stake", "admin")
_PUBLIC_PREFIX = "kdk_"
_MAX_TOKEN_LENGTH = 256


@dataclass(frozen=True)
class GeneratedKey:
    """A new key: the secret is shown once to its owner and never stored."""

    public_id: str
    secret: str
    salt: str
    secret_hash: str
    scopes: tuple[str, ...]

    @property
    def token(self) -> str:
        """The value of the ``Authorization: Token …`` header."""
        return f"{self.public_id}${self.secret}"

    def __repr__(self) -> str:  # never show the secret in a repr / log
        return f"GeneratedKey(public_id={self.public_id!r}, scopes={self.scopes!r}, secret='***')"


def parse_scopes(scopes: object) -> tuple[str, ...]:
    """Validated, de-duplicated scopes in canonical order; raises InvalidInputError for an unknown one."""
    if isinstance(scopes, str):
        scopes = [part for part in scopes.replace(",", " ").split() if part]
    if not isinstance(scopes, (list, tuple, set, frozenset)):
        raise InvalidInputError(f"scopes must be a list of names from {list(SCOPES)}", code="invalid_scope")
    unknown = sorted(str(scope) for scope in scopes if scope not in SCOPES)
    if unknown:
        raise InvalidInputError(
            f"unknown scope(s) {unknown}; allowed scopes are {list(SCOPES)}", code="invalid_scope"
        )
    if not scopes:
        raise InvalidInputError("a key needs at least one scope", code="invalid_scope")
    return tuple(scope for scope in SCOPES if scope in scopes)


def hash_secret(secret: str, salt: str, *, pepper: str = "") -> str:
    """Hex ``HMAC-SHA256(pepper, salt ‖ 0x00 ‖ secret)``."""
    message = salt.encode("utf-8") + b"\x00" + secret.encode("utf-8")
    return hmac.new(pepper.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_secret(secret: str, *, salt: str, secret_hash: str, pepper: str = "") -> bool:
    """Whether ``secret`` matches the stored hash (constant-time comparison)."""
    candidate = hash_secret(secret, salt, pepper=pepper)
    return hmac.compare_digest(candidate.encode("ascii"), secret_hash.encode("ascii", "replace"))


def generate_key(scopes: object, *, pepper: str = "") -> GeneratedKey:
    """A fresh random key with the given scopes."""
    checked = parse_scopes(scopes)
    public_id = _PUBLIC_PREFIX + base64.b32encode(secrets.token_bytes(20)).decode("ascii")[:20].lower()
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    return GeneratedKey(
        public_id=public_id,
        secret=secret,
        salt=salt,
        secret_hash=hash_secret(secret, salt, pepper=pepper),
        scopes=checked,
    )


def parse_authorization(header: str | None) -> tuple[str, str]:
    """``(public_id, secret)`` from an ``Authorization`` header value.

    Accepts ``Token PUBLIC$SECRET`` (numerapi style) and ``Bearer PUBLIC$SECRET``. Raises
    AuthenticationError, whose message never repeats the secret.
    """
    if header is None or not header.strip():
        raise AuthenticationError(
            "missing credentials: send 'Authorization: Token PUBLIC_ID$SECRET'", code="missing_credentials"
        )
    if len(header) > _MAX_TOKEN_LENGTH:
        raise AuthenticationError("malformed Authorization header: too long", code="malformed_credentials")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() not in ("token", "bearer"):
        raise AuthenticationError(
            "malformed Authorization header: the scheme must be 'Token'", code="malformed_credentials"
        )
    public_id, sep, secret = token.strip().partition("$")
    if not sep or not public_id or not secret:
        raise AuthenticationError(
            "malformed Authorization header: expected 'Token PUBLIC_ID$SECRET'", code="malformed_credentials"
        )
    return public_id, secret
