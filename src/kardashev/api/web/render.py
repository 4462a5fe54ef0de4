"""Rendering of the web pages: Jinja2 templates, HTML error pages, security headers, static assets.

Every template is autoescaped (model and account names are user input). Pages carry a strict Content
Security Policy: scripts only from this server (no inline script), so injected markup cannot run even if
escaping were ever missed. Chart data travels as JSON in ``<script type="application/json">`` elements
(``tojson`` escapes ``<``, ``>`` and ``&``) and ``static/charts.js`` draws them with plotly.js.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from kardashev import __version__
from kardashev.api.convert import tokens
from kardashev.api.errors import status_for
from kardashev.api.web.session import remember_anonymous_csrf
from kardashev.errors import KardashevError

__all__ = [
    "CSP",
    "PageRoute",
    "assets",
    "fmt_number",
    "fmt_time",
    "page",
    "plotly_js_path",
]

_HERE = Path(__file__).parent
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def fmt_number(value: object, digits: int = 4) -> str:
    """A score for a table cell: ``digits`` decimals, an en dash for missing or non-finite values."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    return f"{number:.{digits}f}" if math.isfinite(number) else "–"


def fmt_time(value: dt.datetime | None) -> str:
    """A UTC timestamp to the minute, an en dash for None."""
    if value is None:
        return "–"
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_number
    env.filters["time"] = fmt_time
    env.filters["tokens"] = tokens
    env.globals["version"] = __version__
    return env


templates = Jinja2Templates(env=_environment())


def page(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render ``template`` with ``context`` (plus ``request``, the signed-in ``user`` and its ``csrf``)."""
    values: dict[str, Any] = {"user": None, "csrf": "", "title": "", "message": None}
    values.update(getattr(request.state, "web_defaults", {}) or {})
    values.update(context or {})
    response = templates.TemplateResponse(request, template, values, status_code=status_code)
    response.headers.update(_HEADERS)
    remember_anonymous_csrf(request, response)
    if values.get("user") is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


def error_page(request: Request, status: int, message: str, code: str = "") -> HTMLResponse:
    titles = {401: "Sign-in needed", 403: "Not allowed", 404: "Not found", 409: "Not now"}
    return page(
        request,
        "error.html",
        {
            "title": titles.get(status, "Something is wrong"),
            "status": status,
            "detail": message,
            "code": code,
        },
        status_code=status,
    )


class PageRoute(APIRoute):
    """A route whose errors are HTML pages (the API's JSON error envelope is for API clients)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except KardashevError as exc:
                return error_page(request, status_for(exc), exc.message, exc.code)
            except RequestValidationError:
                return error_page(
                    request, 422, "the address or the form has a value that is not valid", "invalid_request"
                )

        return route


def plotly_js_path() -> Path:
    """plotly.min.js as shipped inside the installed ``plotly`` package."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


assets = APIRouter(include_in_schema=False)
_STATIC = {"style.css": "text/css", "charts.js": "text/javascript"}
_CACHE = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}


@assets.get("/web/static/plotly.min.js")
def plotly_js() -> FileResponse:
    return FileResponse(plotly_js_path(), media_type="text/javascript", headers=_CACHE)


@assets.get("/web/static/{name}")
def static_file(name: str) -> Response:
    if name not in _STATIC:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(_HERE / "static" / name, media_type=_STATIC[name], headers=_CACHE)
