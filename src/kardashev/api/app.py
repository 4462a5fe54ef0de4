"""The FastAPI application factory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from kardashev import __version__
from kardashev.api.errors import install_error_handlers
from kardashev.api.middleware import BodyLimitMiddleware, RateLimitMiddleware, RequestIdMiddleware
from kardashev.api.settings import Settings
from kardashev.api.web import mount_web

if TYPE_CHECKING:
    from kardashev.api.context import Clock

__all__ = ["DOCS_ASSETS_URL", "create_app", "create_app_from_env"]

DOCS_ASSETS_URL = "/static-docs"

_DESCRIPTION = """
Submit predictions, stake on them and follow their scores in a Kardashev tournament.

**Auth.** Send an API key as `Authorization: Token PUBLIC_ID$SECRET`. Keys have scopes: `read` (own
account, models, submissions, stakes, scores), `upload` (submit predictions, create models, diagnostics),
`stake` (change stakes) and `admin` (operator endpoints under `/v1/admin`). Rounds, the leaderboard and
released meta models are public.

**Errors.** Every error is `{"error": {"code", "type", "message", "request_id"}}` with a 4xx status for
bad input; the `X-Request-ID` header identifies the request in the server log.

**Amounts** are exact decimal strings of tokens (`"12.5"`).

**Retries.** Stake moves and deposits take an `Idempotency-Key` header: a retry with the same key and body
posts nothing; the same key with another body is a 409. Over a rate limit (per key, per address) the
answer is 429 with `Retry-After`.
"""


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """Build the API application for ``settings`` (default: from the environment).

    Opens the tournament database (migrating it when ``settings.create_schema``) and the data
    directory; nothing is global, so several apps with different settings can live in one process.
    ``clock`` returns the current UTC time (default: the system clock); tests and simulations pass
    their own.
    """
    from kardashev.api.context import ApiContext
    from kardashev.api.graphql import router as graphql_router
    from kardashev.api.routes import include_routes

    settings = settings or Settings.from_env()
    context = ApiContext.open(settings, clock=clock)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        context.close()

    # /docs (Swagger UI) and /redoc with their scripts and styles served from the installed
    # fastapi-offline package under DOCS_ASSETS_URL: no CDN, so they work offline
    app = FastAPIOffline(
        lifespan=lifespan,
        title=settings.title,
        version=__version__,
        description=_DESCRIPTION,
        docs_url="/docs",
        redoc_url="/redoc",
        openapi_url="/openapi.json",
        static_url=DOCS_ASSETS_URL,
        swagger_ui_parameters={"validatorUrl": None},  # no call to the online validator
    )
    app.state.settings = settings
    app.state.context = context
    install_error_handlers(app)
    include_routes(app)
    app.include_router(graphql_router)  # numerapi-compatible /graphql
    mount_web(app)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_upload_bytes, max_json_bytes=settings.max_json_bytes
    )
    app.add_middleware(
        RateLimitMiddleware,
        per_key=settings.rate_limit_per_key,
        per_address=settings.rate_limit_per_address,
        storage_uri=settings.rate_limit_storage,
    )
    app.add_middleware(RequestIdMiddleware)  # added last: the outermost layer
    return app


def create_app_from_env() -> FastAPI:
    """Factory for server processes (``kardashev serve --workers N``): logging set up with request ids
    at ``$KARDASHEV_LOG_LEVEL``, settings from the ``KARDASHEV_*`` environment."""
    import os

    from kardashev.api.logs import configure_logging

    configure_logging(os.environ.get("KARDASHEV_LOG_LEVEL", "INFO").upper())
    return create_app(Settings.from_env())
