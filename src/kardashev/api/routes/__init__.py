"""The API's endpoints, grouped by who may call them."""

from __future__ import annotations

from fastapi import FastAPI

from kardashev.api.routes import account, admin, public

__all__ = ["include_routes"]


def include_routes(app: FastAPI) -> None:
    """Mount every router on ``app``."""
    app.include_router(public.router)
    app.include_router(account.router)
    app.include_router(admin.router)
