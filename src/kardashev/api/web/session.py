"""Web sessions: an API key signs in once, then a signed session cookie stands for it; CSRF on every form.

Signing in checks the key exactly as the API does (:func:`kardashev.api.auth.authenticate`). The cookie
holds the key's public id and a token signed (itsdangerous, with an expiry) under a secret that only the
server can form: the server pepper and the *stored hash* of that key's secret. So a cookie cannot be forged
without the database and the pepper, it works across worker processes and restarts, and revoking the key
ends its sessions at once. The secret itself is never kept in the cookie.

The cookie is ``Secure``, ``HttpOnly`` and ``SameSite=Strict``. Every form carries a CSRF token: a session's
token is an HMAC of its random nonce (synchronizer token); the sign-in form, before any session, uses a
random double-submit cookie. A POST whose token does not match, or whose ``Origin`` is another site, is
refused before anything else happens.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from kardashev.api.auth import Principal, authenticate
from kardashev.api.context import ApiContext
from kardashev.errors import AuthenticationError, NotFoundError, PermissionDeniedError

__all__ = [
    "ANON_COOKIE",
    "SESSION_COOKIE",
    "SESSION_MAX_AGE",
    "WebSession",
    "anonymous_csrf",
    "check_csrf",
    "end_session",
    "read_session",
    "remember_anonymous_csrf",
    "require_session",
    "start_session",
]

SESSION_COOKIE = "kardashev_session"
ANON_COOKIE = "kardashev_csrf"
SESSION_MAX_AGE = 12 * 3600
_SALT = "kardashev.web.session"
_KEY_ID = re.compile(r"^[A-Za-z0-9_]{1,64}$")


@dataclass(frozen=True)
class WebSession:
    """A signed-in visitor: the principal of the key it signed in with and the CSRF token of its forms."""

    principal: Principal
    csrf: str

    @property
    def is_operator(self) -> bool:
        return self.principal.has("admin")


def _secret(context: ApiContext, stored_hash: str) -> bytes:
    return f"{context.settings.key_pepper}\x00{stored_hash}".encode()


def _serializer(secret: bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def _csrf(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, b"csrf\x00" + nonce.encode(), hashlib.sha256).hexdigest()


def _set_cookie(response: Response, name: str, value: str, *, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict")


def start_session(context: ApiContext, token: str, response: Response) -> WebSession:
    """Check the API key ``token`` (``PUBLIC_ID$SECRET``) and set the session cookie on ``response``."""
    principal = authenticate(context, f"Token {token.strip()}")
    stored = context.service.get_api_key(principal.key_id)
    secret = _secret(context, stored.secret_hash)
    nonce = secrets.token_urlsafe(16)
    signed = _serializer(secret).dumps({"k": principal.key_id, "n": nonce})
    _set_cookie(response, SESSION_COOKIE, f"{principal.key_id}.{signed}", max_age=SESSION_MAX_AGE)
    response.delete_cookie(ANON_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return WebSession(principal=principal, csrf=_csrf(secret, nonce))


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")


def read_session(context: ApiContext, request: Request) -> WebSession | None:
    """The session of ``request``'s cookie; None when absent, expired, tampered with or its key revoked."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie or len(cookie) > 1024:
        return None
    key_id, dot, signed = cookie.partition(".")
    if not dot or not _KEY_ID.match(key_id):
        return None
    try:
        key = context.service.get_api_key(key_id)
    except NotFoundError:
        return None
    if not key.active:
        return None
    secret = _secret(context, key.secret_hash)
    try:
        payload = _serializer(secret).loads(signed, max_age=SESSION_MAX_AGE)
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(payload, dict) or payload.get("k") != key_id or not isinstance(payload.get("n"), str):
        return None
    account = context.service.get_account(key.account_id)
    principal = Principal(
        account_id=account.id, account_name=account.name, key_id=key.key_id, scopes=frozenset(key.scopes)
    )
    return WebSession(principal=principal, csrf=_csrf(secret, payload["n"]))


def anonymous_csrf(request: Request) -> str:
    """The double-submit CSRF token of a visitor without a session (a new one is set as a cookie by
    :func:`remember_anonymous_csrf`)."""
    token = request.cookies.get(ANON_COOKIE)
    if token and re.fullmatch(r"[A-Za-z0-9_-]{32,64}", token):
        return token
    token = getattr(request.state, "new_anon_csrf", None) or secrets.token_urlsafe(32)
    request.state.new_anon_csrf = token
    return token


def remember_anonymous_csrf(request: Request, response: Response) -> None:
    """Set the double-submit cookie on ``response`` when this request made a new token."""
    token = getattr(request.state, "new_anon_csrf", None)
    if token:
        _set_cookie(response, ANON_COOKIE, token, max_age=3600)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None  # no Origin (old clients): rely on the token; "null" is refused
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def check_csrf(request: Request, submitted: object, expected: str | None) -> None:
    """Refuse a form whose CSRF token is not ``expected`` or that comes from another origin."""
    if not _same_origin(request):
        raise PermissionDeniedError("this form was sent from another site", code="csrf_failed")
    if not expected or not isinstance(submitted, str) or not hmac.compare_digest(submitted, expected):
        raise PermissionDeniedError(
            "the form expired or was not sent from this site: reload the page and try again",
            code="csrf_failed",
        )


def require_session(session: WebSession | None, scope: str | None = None) -> WebSession:
    """The session, or AuthenticationError; PermissionDeniedError when its key lacks ``scope``."""
    if session is None:
        raise AuthenticationError("sign in with your API key first", code="not_signed_in")
    if scope is not None and not session.principal.has(scope):
        raise PermissionDeniedError(
            f"the key you signed in with lacks the '{scope}' scope", code="missing_scope"
        )
    return session
