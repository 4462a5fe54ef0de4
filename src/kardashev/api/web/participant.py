"""Participant pages: sign-in with an API key, the account's models, submissions, stakes, uploads and
the diagnostics of validation predictions.

Every action goes through the tournament service with the API's checks: the same ownership rule
(:func:`kardashev.api.auth.owned_model`: another account's model is "not found"), the same scopes, the
same amount syntax (:class:`kardashev.api.schemas.AmountIn`), the same upload reader and the service's
idempotency keys for stake changes (each form carries a fresh one, so a resubmitted form moves tokens once).
"""

from __future__ import annotations

import secrets
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from kardashev.api import schemas
from kardashev.api.auth import owned_model
from kardashev.api.convert import units
from kardashev.api.diagnostics import run_diagnostics
from kardashev.api.errors import status_for
from kardashev.api.routes.account import round_performances
from kardashev.api.web.charts import bar_figure, figure_json, line_figure
from kardashev.api.web.forms import Visit, read_form, read_form_with_file, visit
from kardashev.api.web.render import PageRoute, page
from kardashev.api.web.session import end_session, require_session, start_session
from kardashev.errors import AuthenticationError, InvalidInputError, KardashevError
from kardashev.tournament.domain import Model, Round, RoundStatus

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Visitor = Annotated[Visit, Depends(visit)]
ModelId = Annotated[int, Path(ge=1, le=2**62)]
NOTICES = {
    "stake": "Stake updated.",
    "upload": "Predictions accepted and stored.",
    "model": "Model created.",
    "signed-in": "Signed in.",
}


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("done", ""))


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, visit: Visitor) -> HTMLResponse:
    return page(request, "signin.html", {"title": "Sign in", "error": None})


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request, visit: Visitor) -> Response:
    """Check the key as the API does, then set the session cookie."""
    form = await read_form(visit)
    token = form.get("api_key")
    response = _redirect("/me?done=signed-in")
    try:
        if not isinstance(token, str) or not token.strip() or len(token) > 300:
            raise AuthenticationError("enter your API key: PUBLIC_ID$SECRET", code="invalid_credentials")
        session = await run_in_threadpool(start_session, visit.context, token, response)
    except AuthenticationError as exc:
        return page(request, "signin.html", {"title": "Sign in", "error": exc.message}, status_code=401)
    if session.is_operator and not session.principal.has("read"):
        response.headers["location"] = "/operator"
    return response


@router.post("/signout")
async def signout(visit: Visitor) -> Response:
    await read_form(visit)
    response = _redirect("/")
    end_session(response)
    return response


def _own_model(visit: Visit, model_id: int) -> Model:
    session = require_session(visit.session, "read")
    with visit.context.unit_of_work(read_only=True) as repo:
        return owned_model(repo, session.principal, str(model_id))


def _open_rounds(visit: Visit) -> list[Round]:
    now = visit.context.now()
    return sorted(
        (
            r
            for r in visit.context.service.list_rounds()
            if r.status is not RoundStatus.RESOLVED and r.open_time <= now < r.late_close_time
        ),
        key=lambda r: r.number,
        reverse=True,
    )


@router.get("/me", response_class=HTMLResponse)
def dashboard(request: Request, visit: Visitor) -> HTMLResponse:
    """The account: wallet, models with their stakes and latest submissions."""
    session = require_session(visit.session, "read")
    service = visit.context.service
    account_id = session.principal.account_id
    models = []
    for model in service.list_models(account=account_id):
        submissions = sorted(service.list_submissions(model=model.id), key=lambda s: s.round_number)
        models.append(
            {
                "model": model,
                "stake": service.stake(model.id),
                "latest": submissions[-1] if submissions else None,
            }
        )
    return page(
        request,
        "dashboard.html",
        {
            "title": "My models",
            "wallet": service.wallet(account_id),
            "models": models,
            "message": _notice(request),
        },
    )


@router.post("/me/models")
async def create_model(visit: Visitor) -> Response:
    session = require_session(visit.session, "upload")
    form = await read_form(visit)
    try:
        body = schemas.ModelCreate(name=str(form.get("name", "")))
    except ValidationError:
        raise InvalidInputError(
            "a model name starts with a letter and has only letters, digits, '_', '.' and '-' (at most 64)",
            code="invalid_name",
        ) from None
    model = visit.context.service.create_model(
        session.principal.account_id, body.name, now=visit.context.now()
    )
    return _redirect(f"/me/models/{model.id}?done=model")


@router.get("/me/models/{model_id}", response_class=HTMLResponse)
def own_model(request: Request, visit: Visitor, model_id: ModelId) -> HTMLResponse:
    """One of the account's models: stake and its forms, upload, submissions, per-round performance."""
    model = _own_model(visit, model_id)
    session = require_session(visit.session, "read")
    service = visit.context.service
    submissions = sorted(
        service.list_submissions(model=model.id), key=lambda s: (s.round_number, s.submitted_at), reverse=True
    )
    performances = round_performances(visit.context, session.principal, str(model.id))
    return page(
        request,
        "own_model.html",
        {
            "title": model.name,
            "model": model,
            "stake": service.stake(model.id),
            "wallet": service.wallet(session.principal.account_id),
            "pending": [p for p in service.pending_releases(model.id) if p.released_at is None],
            "submissions": submissions,
            "performances": performances,
            "open_rounds": _open_rounds(visit),
            "idempotency_key": secrets.token_urlsafe(16),
            "can_stake": session.principal.has("stake"),
            "can_upload": session.principal.has("upload"),
            "message": _notice(request),
        },
    )


@router.post("/me/models/{model_id}/stake")
async def change_stake(visit: Visitor, model_id: ModelId) -> Response:
    """Increase or decrease the stake (the service's idempotency key makes a resubmitted form a no-op)."""
    session = require_session(visit.session, "stake")
    form = await read_form(visit)
    model = _own_model(visit, model_id)
    direction = form.get("direction")
    if direction not in ("increase", "decrease"):
        raise InvalidInputError("choose to increase or decrease the stake", code="invalid_direction")
    try:
        amount = units(schemas.AmountIn(amount=str(form.get("amount", ""))).amount)
    except ValidationError:
        raise InvalidInputError(
            "the amount is a positive number of tokens with at most 6 decimals", code="invalid_amount"
        ) from None
    token = str(form.get("idempotency_key", ""))
    key = f"web:{session.principal.account_id}:{token}" if 16 <= len(token) <= 64 else None
    service = visit.context.service
    change = service.stake_increase if direction == "increase" else service.stake_decrease
    await run_in_threadpool(change, model.id, amount, now=visit.context.now(), idempotency_key=key)
    return _redirect(f"/me/models/{model.id}?done=stake")


@router.post("/me/models/{model_id}/submissions")
async def upload_predictions(visit: Visitor, model_id: ModelId) -> Response:
    """Upload predictions to an open round: validated by the service, nothing stored if rejected."""
    require_session(visit.session, "upload")
    form, upload = await read_form_with_file(visit)
    model = _own_model(visit, model_id)
    raw = str(form.get("round_number", "")).strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10):
        raise InvalidInputError("choose the round to submit to", code="invalid_round")
    await run_in_threadpool(
        visit.context.service.submit,
        model.id,
        int(raw),
        upload.data,
        now=visit.context.now(),
        filename=upload.filename,
    )
    return _redirect(f"/me/models/{model.id}?done=upload")


@router.get("/me/diagnostics", response_class=HTMLResponse)
def diagnostics_form(request: Request, visit: Visitor) -> HTMLResponse:
    require_session(visit.session, "upload")
    return page(
        request, "diagnostics.html", {"title": "Diagnostics", "result": None, "charts": [], "error": None}
    )


def _diagnostics_charts(result: schemas.DiagnosticsOut) -> list[dict[str, object]]:
    eras = [str(row["era"]) for row in result.per_era]
    scores = [name for name in ("corr", "fnc") if any(name in row for row in result.per_era)]
    per_era = {name: [row.get(name) for row in result.per_era] for name in scores}
    cumulative = {
        name: np.nancumsum(np.asarray([np.nan if v is None else v for v in values], dtype=float)).tolist()
        for name, values in per_era.items()
    }
    charts = [
        ("chart-era", bar_figure(eras, per_era, title="Per era", x_title="era")),
        ("chart-cumulative", line_figure(eras, cumulative, title="Cumulative", x_title="era")),
    ]
    exposure = {
        name: [row.get(name) for row in result.per_era]
        for name in ("feature_exposure_max", "feature_exposure_rms")
        if any(name in row for row in result.per_era)
    }
    if exposure:
        charts.append(("chart-exposure", bar_figure(eras, exposure, title="Feature exposure", x_title="era")))
    return [{"id": name, "json": figure_json(figure)} for name, figure in charts]


@router.post("/me/diagnostics", response_class=HTMLResponse)
async def diagnostics(request: Request, visit: Visitor) -> HTMLResponse:
    """Score validation predictions era by era (nothing is stored), as the API's diagnostics endpoint."""
    require_session(visit.session, "upload")
    _, upload = await read_form_with_file(visit)
    try:
        result = await run_in_threadpool(run_diagnostics, visit.context, upload)
    except KardashevError as exc:  # shown above the form, which stays usable
        values: dict[str, object] = {
            "title": "Diagnostics",
            "result": None,
            "charts": [],
            "error": exc.message,
        }
        return page(request, "diagnostics.html", values, status_code=status_for(exc))
    return page(
        request,
        "diagnostics.html",
        {"title": "Diagnostics", "result": result, "charts": _diagnostics_charts(result), "error": None},
    )
