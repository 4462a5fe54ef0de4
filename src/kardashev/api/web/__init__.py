"""Server-rendered web pages of ``kardashev serve``: public, participant and operator pages.

The pages read the same tournament service as the JSON API (:mod:`kardashev.api.routes`), through the same
helpers (the leaderboard is :func:`kardashev.api.publication.leaderboard_rows`, sign-in checks the key with
:func:`kardashev.api.auth.authenticate`), so a page never shows a number the API would not. Charts are drawn
by plotly.js, served from the installed ``plotly`` package, so the pages work offline.
"""

from __future__ import annotations

from fastapi import FastAPI

__all__ = ["mount_web"]


def mount_web(app: FastAPI) -> None:
    """Add the web pages and their static assets to ``app``."""
    from kardashev.api.web import operator, participant, public, render

    app.include_router(render.assets)
    app.include_router(public.router)
    app.include_router(participant.router)
    app.include_router(operator.router)
