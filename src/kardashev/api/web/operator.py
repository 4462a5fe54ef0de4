"""Operator pages (``admin`` scope): the round lifecycle and what each step waits for, a payout preview
before a resolve, the ledger audit, accounts and API keys.

Each action is the service call the admin API makes (:mod:`kardashev.api.routes.admin`); a day's market
data arrives as a file (``id``, ``target``, optional ``realized_return``, ``feature_*`` and ``exposure_*``
columns) read by the same bounded reader as submissions.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from kardashev.api import schemas
from kardashev.api.auth import issue_api_key
from kardashev.api.convert import units
from kardashev.api.keys import SCOPES
from kardashev.api.uploads import UploadedFile
from kardashev.api.web.forms import Visit, read_form, read_form_with_file, visit
from kardashev.api.web.render import PageRoute, page
from kardashev.api.web.session import require_session
from kardashev.data.era import Era
from kardashev.errors import DataFormatError, InvalidInputError, NotFoundError
from kardashev.tournament.domain import Account
from kardashev.tournament.dry_run import ResolvePreview, preview_resolve
from kardashev.tournament.lifecycle import next_step
from kardashev.tournament.operator_data import check_round_day, round_universe
from kardashev.tournament.round_work import round_day
from kardashev.tournament.validation import read_submission_table

__all__ = ["read_round_day", "router"]

router = APIRouter(prefix="/operator", route_class=PageRoute, include_in_schema=False)
Visitor = Annotated[Visit, Depends(visit)]
Number = Annotated[int, Path(ge=1, le=2**31 - 1)]
AccountId = Annotated[int, Path(ge=1, le=2**62)]
NOTICES = {
    "opened": "Round opened.",
    "closed": "Round closed: stakes frozen, meta models built.",
    "scored": "Day scored.",
    "resolved": "Round resolved: payouts and burns settled.",
    "account": "Account created.",
    "deposit": "Deposit made.",
    "revoked": "Key revoked.",
}


def _admin(visit: Visit) -> None:
    require_session(visit.session, "admin")


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.get("", response_class=HTMLResponse)
def lifecycle(request: Request, visit: Visitor) -> HTMLResponse:
    """Every round with its next step."""
    _admin(visit)
    now = visit.context.now()
    rounds = sorted(visit.context.service.list_rounds(), key=lambda r: r.number, reverse=True)
    return page(
        request,
        "operator.html",
        {
            "title": "Operator",
            "rounds": [{"round": r, "next": next_step(r, now)} for r in rounds],
            "now": now,
            "next_number": max((r.number for r in rounds), default=0) + 1,
            "message": NOTICES.get(request.query_params.get("done", "")),
        },
    )


def _ids_column(frame: pd.DataFrame) -> pd.Series:
    columns = {str(c).strip().lower(): c for c in frame.columns}
    for name in ("id", "ticker", "numerai_ticker"):
        if name in columns:
            return frame[columns[name]].astype(str).str.strip()
    raise DataFormatError("the file needs an 'id' (or 'ticker') column", code="wrong_headers")


def _parse_time(text: object, what: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise InvalidInputError(
            f"{what} is not a date and time (YYYY-MM-DDTHH:MM, UTC)", code="invalid_time"
        ) from None
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment


def _small_int(text: object, what: str, *, default: int | None = None) -> int:
    raw = str(text or "").strip()
    if not raw and default is not None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise InvalidInputError(f"{what} must be a whole number", code="invalid_number")
    return int(raw)


@router.post("/rounds")
async def open_round(visit: Visitor) -> Response:
    """Open the next round; its live universe is the uploaded file's ids."""
    _admin(visit)
    form, upload = await read_form_with_file(visit)
    context = visit.context
    frame = read_submission_table(
        upload.data, filename=upload.filename, max_rows=context.settings.max_upload_rows
    )
    ids = _ids_column(frame).tolist()
    kind = str(form.get("kind", "classic"))
    # numbered like the API's default: the next number (the upload reader allows 4 form fields)
    number = max((r.number for r in context.service.list_rounds()), default=0) + 1
    await run_in_threadpool(
        context.service.open_round,
        number,
        universe=ids,
        close_time=_parse_time(form.get("close_time"), "the close time"),
        now=context.now(),
        kind=kind,
        horizon_days=_small_int(form.get("horizon_days"), "the horizon", default=20),
    )
    return _redirect("/operator?done=opened")


@router.post("/rounds/{number}/close")
async def close_round(visit: Visitor, number: Number) -> Response:
    _admin(visit)
    await read_form(visit)
    await run_in_threadpool(visit.context.service.close_round, number, now=visit.context.now())
    return _redirect("/operator?done=closed")


def read_round_day(frame: pd.DataFrame, day: int) -> Era:
    """A scoring day from a table: ``id`` (or ``ticker``), ``target``, optional ``realized_return``,
    ``feature_*`` and ``exposure_*`` columns."""
    frame = frame.rename(columns=lambda c: str(c).strip().lower())
    if "target" not in frame.columns:
        raise DataFormatError("the day's data needs a 'target' column", code="wrong_headers")

    def numbers(columns: list[str]) -> np.ndarray | None:
        if not columns:
            return None
        values = frame[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
        return values

    features = sorted(c for c in frame.columns if c.startswith("feature"))
    exposures = sorted(c for c in frame.columns if c.startswith("exposure"))
    returns = frame["realized_return"] if "realized_return" in frame.columns else None
    return round_day(
        day=day,
        ids=_ids_column(frame).to_numpy(dtype=object),
        target=pd.to_numeric(frame["target"], errors="coerce").to_numpy(dtype=np.float64),
        realized_returns=None
        if returns is None
        else pd.to_numeric(returns, errors="coerce").to_numpy(np.float64),
        exposures=numbers(exposures),
        features=numbers(features),
    )


def _uploaded_day(visit: Visit, number: int, form: FormData, upload: UploadedFile) -> Era:
    """The day's data from a form's file, checked as the admin API checks it (ranges, coverage)."""
    frame = read_submission_table(
        upload.data, filename=upload.filename, max_rows=visit.context.settings.max_upload_rows
    )
    day = read_round_day(frame, _small_int(form.get("day"), "the day"))
    return check_round_day(day, universe=round_universe(visit.context.unit_of_work, number))


@router.post("/rounds/{number}/score")
async def score_day(visit: Visitor, number: Number) -> Response:
    """Score one day of a closed round; the final day with ``resolve`` checked also resolves it."""
    _admin(visit)
    form, upload = await read_form_with_file(visit)
    context = visit.context
    day = _uploaded_day(visit, number, form, upload)
    if form.get("resolve") == "yes":
        await run_in_threadpool(context.service.resolve_round, number, now=context.now(), day=day)
        return _redirect("/operator?done=resolved")
    await run_in_threadpool(context.service.score_round, number, day, now=context.now())
    return _redirect("/operator?done=scored")


@router.post("/rounds/{number}/resolve")
async def resolve_round(visit: Visitor, number: Number) -> Response:
    _admin(visit)
    await read_form(visit)
    await run_in_threadpool(visit.context.service.resolve_round, number, now=visit.context.now())
    return _redirect("/operator?done=resolved")


def _round_page(
    request: Request, visit: Visit, number: int, *, preview: ResolvePreview | None = None
) -> HTMLResponse:
    service = visit.context.service
    round_ = service.get_round(number)
    names = {m.id: m.name for m in service.list_models()} if preview is not None else {}
    rows = (
        [{"payout": p, "name": names.get(p.model_id, str(p.model_id))} for p in preview.payouts]
        if preview
        else []
    )
    return page(
        request,
        "operator_round.html",
        {
            "title": f"Round {round_.number}",
            "round": round_,
            "next": next_step(round_, visit.context.now()),
            "preview": preview,
            "rows": sorted(rows, key=lambda r: r["payout"].model_id),
        },
    )


@router.get("/rounds/{number}", response_class=HTMLResponse)
def round_page(request: Request, visit: Visitor, number: Number) -> HTMLResponse:
    """One round's next step, with the payout preview form before its resolve."""
    _admin(visit)
    return _round_page(request, visit, number)


@router.post("/rounds/{number}/preview", response_class=HTMLResponse)
async def preview_payouts(request: Request, visit: Visitor, number: Number) -> HTMLResponse:
    """The payouts and burns resolving the round would make (:func:`preview_resolve`), nothing written.

    A round whose final day is not scored yet is previewed with that day's file, as its resolve takes it.
    """
    _admin(visit)
    context = visit.context
    day = None
    if next_step(context.service.get_round(number), context.now()).step == "score":
        form, upload = await read_form_with_file(visit)
        day = _uploaded_day(visit, number, form, upload)
    else:
        await read_form(visit)
    preview = await run_in_threadpool(preview_resolve, context.service, number, now=context.now(), day=day)
    response = _round_page(request, visit, number, preview=preview)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, visit: Visitor) -> HTMLResponse:
    """The ledger audit: balanced transactions, stored balances, tokens conserved."""
    _admin(visit)
    return page(request, "audit.html", {"title": "Ledger audit", "audit": visit.context.service.audit()})


@router.get("/accounts", response_class=HTMLResponse)
def accounts(request: Request, visit: Visitor) -> HTMLResponse:
    _admin(visit)
    service = visit.context.service
    rows = [{"account": a, "wallet": service.wallet(a.id)} for a in service.list_accounts()]
    return page(
        request,
        "accounts.html",
        {"title": "Accounts", "rows": rows, "message": NOTICES.get(request.query_params.get("done", ""))},
    )


def _amount(text: object) -> int:
    try:
        return units(schemas.AmountIn(amount=str(text or "")).amount)
    except ValidationError:
        raise InvalidInputError(
            "the amount is a positive number of tokens with at most 6 decimals", code="invalid_amount"
        ) from None


@router.post("/accounts")
async def create_account(visit: Visitor) -> Response:
    _admin(visit)
    form = await read_form(visit)
    try:
        body = schemas.AccountCreate(name=str(form.get("name", "")))
    except ValidationError:
        raise InvalidInputError(
            "an account name starts with a letter and has only letters, digits, '_', '.' and '-'",
            code="invalid_name",
        ) from None
    deposit = _amount(form.get("deposit")) if str(form.get("deposit", "")).strip() else 0
    account = visit.context.service.create_account(body.name, now=visit.context.now(), tokens=deposit)
    return _redirect(f"/operator/accounts/{account.id}?done=account")


def _account(visit: Visit, account_id: int) -> Account:
    try:
        return visit.context.service.get_account(account_id)
    except NotFoundError:
        raise NotFoundError(f"no account {account_id}", code="account_not_found") from None


@router.post("/accounts/{account_id}/deposit")
async def deposit(visit: Visitor, account_id: AccountId) -> Response:
    _admin(visit)
    form = await read_form(visit)
    account = _account(visit, account_id)
    visit.context.service.deposit(account.id, _amount(form.get("amount")), now=visit.context.now())
    return _redirect(f"/operator/accounts/{account.id}?done=deposit")


def _account_page(request: Request, visit: Visit, account: Account, **extra: object) -> HTMLResponse:
    service = visit.context.service
    return page(
        request,
        "account.html",
        {
            "title": account.name,
            "account": account,
            "wallet": service.wallet(account.id),
            "models": service.list_models(account=account.id),
            "keys": service.list_api_keys(account.id),
            "scopes": SCOPES,
            "new_key": None,
            "message": NOTICES.get(request.query_params.get("done", "")),
            **extra,
        },
    )


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
def account_page(request: Request, visit: Visitor, account_id: AccountId) -> HTMLResponse:
    _admin(visit)
    return _account_page(request, visit, _account(visit, account_id))


@router.post("/accounts/{account_id}/keys", response_class=HTMLResponse)
async def create_key(request: Request, visit: Visitor, account_id: AccountId) -> HTMLResponse:
    """Create a key; its secret is shown on this response only (the server keeps a hash)."""
    _admin(visit)
    form = await read_form(visit)
    account = _account(visit, account_id)
    scopes = [s for s in form.getlist("scopes") if isinstance(s, str)]
    context = visit.context
    key, _ = issue_api_key(
        context.service, account.id, scopes, pepper=context.settings.key_pepper, now=context.now()
    )
    response = _account_page(request, visit, account, new_key=key)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/keys/{public_id}/revoke")
async def revoke_key(
    visit: Visitor, public_id: Annotated[str, Path(min_length=1, max_length=64)]
) -> Response:
    _admin(visit)
    await read_form(visit)
    key = visit.context.service.revoke_api_key(public_id, now=visit.context.now())
    return _redirect(f"/operator/accounts/{key.account_id}?done=revoked")
