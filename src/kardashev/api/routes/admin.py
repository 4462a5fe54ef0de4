"""Operator endpoints (``admin`` scope): accounts, API keys, deposits, round lifecycle, validation data."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Body, Depends, Path, Request, Response

from kardashev.api import schemas
from kardashev.api.auth import Principal, issue_api_key, require
from kardashev.api.context import ApiContext, get_context
from kardashev.api.convert import finite_or_none, round_out, tokens, units
from kardashev.api.diagnostics import store_validation_data
from kardashev.api.idempotency import IDEMPOTENCY_OPENAPI, idempotent_request, replayed
from kardashev.api.routes.public import ROUND_NUMBER
from kardashev.api.uploads import UPLOAD_OPENAPI_BODY, read_upload
from kardashev.data.era import Era
from kardashev.errors import NotFoundError
from kardashev.tournament.domain import Account, Payout
from kardashev.tournament.dry_run import preview_resolve
from kardashev.tournament.operator_data import check_round_day, round_universe
from kardashev.tournament.round_work import round_day
from kardashev.tournament.service_accounts import MoneyMove

__all__ = ["router"]

router = APIRouter(prefix="/v1/admin", tags=["admin"])
Context = Annotated[ApiContext, Depends(get_context)]
Admin = Annotated[Principal, Depends(require("admin"))]
AccountRef = Annotated[str, Path(min_length=1, max_length=64, description="account name or id")]
Number = Annotated[int, ROUND_NUMBER]
_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": schemas.ErrorOut} for status in (401, 403, 404, 409, 422)
}


def _account(context: ApiContext, reference: str) -> Account:
    digits = reference.isascii() and reference.isdigit() and len(reference) <= 18
    try:
        return context.service.get_account(int(reference) if digits else reference)
    except NotFoundError:
        raise NotFoundError(f"no account {reference!r}", code="account_not_found") from None


def _account_out(context: ApiContext, account: Account) -> schemas.AccountOut:
    return schemas.AccountOut(
        id=account.id,
        name=account.name,
        created_at=account.created_at,
        wallet_balance=tokens(context.service.wallet(account.id)),
    )


@router.get("/accounts", response_model=list[schemas.AccountOut], responses=_ERRORS)
def list_accounts(context: Context, _: Admin) -> list[schemas.AccountOut]:
    """Every account with its wallet balance."""
    return [_account_out(context, account) for account in context.service.list_accounts()]


def _moved_account_out(move: MoneyMove) -> schemas.AccountOut:
    account = move.account
    return schemas.AccountOut(
        id=account.id, name=account.name, created_at=account.created_at, wallet_balance=tokens(move.wallet)
    )


@router.post(
    "/accounts",
    response_model=schemas.AccountOut,
    status_code=201,
    responses=_ERRORS,
    openapi_extra=IDEMPOTENCY_OPENAPI,
)
def create_account(
    request: Request, context: Context, admin: Admin, body: schemas.AccountCreate
) -> schemas.AccountOut | Response:
    """Create an account, optionally minting ``deposit`` tokens into its wallet (send an
    ``Idempotency-Key`` header to make a retry safe: it answers the first response)."""
    deposit = units(body.deposit) if body.deposit is not None else 0
    once = idempotent_request(request, admin, body)
    if once is not None:
        return replayed(
            context.service.create_account_once(
                body.name,
                now=context.now(),
                tokens=deposit,
                replay=once.replay(_moved_account_out, status_code=201),
            )
        )
    account = context.service.create_account(body.name, now=context.now(), tokens=deposit)
    return _account_out(context, account)


@router.post(
    "/accounts/{account}/deposit",
    response_model=schemas.AccountOut,
    responses=_ERRORS,
    openapi_extra=IDEMPOTENCY_OPENAPI,
)
def deposit(
    request: Request, context: Context, admin: Admin, account: AccountRef, body: schemas.AmountIn
) -> schemas.AccountOut | Response:
    """Mint tokens into an account's wallet (send an ``Idempotency-Key`` header to make a retry safe:
    it answers the first response)."""
    found = _account(context, account)
    once = idempotent_request(request, admin, body)
    if once is not None:
        return replayed(
            context.service.deposit_once(
                found.id, units(body.amount), now=context.now(), replay=once.replay(_moved_account_out)
            )
        )
    context.service.deposit(found.id, units(body.amount), now=context.now())
    return _account_out(context, found)


def _key_out(key, secret: str | None) -> schemas.ApiKeyOut:  # key: tournament ApiKey
    return schemas.ApiKeyOut(
        public_id=key.key_id,
        secret_key=secret,
        scopes=sorted(key.scopes),
        account_id=key.account_id,
        created_at=key.created_at,
        revoked=not key.active,
    )


@router.post("/accounts/{account}/keys", response_model=schemas.ApiKeyOut, status_code=201, responses=_ERRORS)
def create_api_key(
    context: Context, _: Admin, account: AccountRef, body: schemas.ApiKeyCreate
) -> schemas.ApiKeyOut:
    """Create an API key for an account. The secret is in this response only; the server keeps a hash."""
    found = _account(context, account)
    key, stored = issue_api_key(
        context.service, found.id, body.scopes, pepper=context.settings.key_pepper, now=context.now()
    )
    return _key_out(stored, key.secret)


@router.get("/accounts/{account}/keys", response_model=list[schemas.ApiKeyOut], responses=_ERRORS)
def list_api_keys(context: Context, _: Admin, account: AccountRef) -> list[schemas.ApiKeyOut]:
    """An account's API keys (public ids and scopes; secrets are never shown again)."""
    found = _account(context, account)
    return [_key_out(key, None) for key in context.service.list_api_keys(found.id)]


@router.delete("/keys/{public_id}", response_model=schemas.ApiKeyOut, responses=_ERRORS)
def revoke_api_key(
    context: Context, _: Admin, public_id: Annotated[str, Path(min_length=1, max_length=64)]
) -> schemas.ApiKeyOut:
    """Revoke an API key at once (revoking twice is harmless)."""
    return _key_out(context.service.revoke_api_key(public_id, now=context.now()), None)


@router.post("/rounds", response_model=schemas.RoundOut, status_code=201, responses=_ERRORS)
def open_round(context: Context, _: Admin, body: schemas.RoundOpen) -> schemas.RoundOut:
    """Open a round with its live universe (re-opening with the same settings returns it unchanged)."""
    number = body.number
    if number is None:
        number = max((r.number for r in context.service.list_rounds()), default=0) + 1
    round_ = context.service.open_round(
        number,
        universe=body.ids,
        close_time=body.close_time,
        now=context.now(),
        kind=body.kind,
        target_name=body.target_name,
        horizon_days=body.horizon_days,
        open_time=body.open_time,
        late_close_time=body.late_close_time,
        resolve_time=body.resolve_time,
    )
    return round_out(round_)


@router.post("/rounds/{number}/close", response_model=schemas.RoundOut, responses=_ERRORS)
def close_round(context: Context, _: Admin, number: Number) -> schemas.RoundOut:
    """Close a round: freeze stakes at risk and build the meta models (a closed round is left as is)."""
    return round_out(context.service.close_round(number, now=context.now()))


def _round_day(context: ApiContext, number: int, body: schemas.ScoreDayIn) -> Era:
    """The day's data, checked against plausible ranges and the round's universe before any use."""

    def matrix(rows: list[list[float]] | None) -> np.ndarray | None:
        return None if rows is None else np.asarray(rows, dtype=np.float64)

    day = round_day(
        day=body.day,
        ids=np.asarray(body.ids, dtype=object),
        target=np.asarray(body.target, dtype=np.float64),
        realized_returns=None
        if body.realized_returns is None
        else np.asarray(body.realized_returns, dtype=np.float64),
        exposures=matrix(body.exposures),
        features=matrix(body.features),
    )
    return check_round_day(day, universe=round_universe(context.unit_of_work, number))


@router.post("/rounds/{number}/score", response_model=schemas.ScoreStepOut, responses=_ERRORS)
def score_round(context: Context, _: Admin, number: Number, body: schemas.ScoreDayIn) -> schemas.ScoreStepOut:
    """Score every submission of a closed round with one day's data (a day already scored is left as is)."""
    scores = context.service.score_round(number, _round_day(context, number, body), now=context.now())
    return schemas.ScoreStepOut(round=round_out(context.service.get_round(number)), n_scores=len(scores))


@router.post("/rounds/{number}/resolve", response_model=schemas.ResolveStepOut, responses=_ERRORS)
def resolve_round(
    context: Context,
    _: Admin,
    number: Number,
    body: Annotated[
        schemas.ScoreDayIn | None, Body(description="the final day's data, if not scored yet")
    ] = None,
) -> schemas.ResolveStepOut:
    """Settle a round: final scores, payouts and burns, release of escrow (a resolved round is left as is)."""
    day = _round_day(context, number, body) if body is not None else None
    payouts = context.service.resolve_round(number, now=context.now(), day=day)
    return schemas.ResolveStepOut(
        round=round_out(context.service.get_round(number)), payouts=[_payout_out(p) for p in payouts]
    )


def _payout_out(payout: Payout) -> schemas.PayoutOut:
    return schemas.PayoutOut(
        model_id=payout.model_id,
        stake=tokens(payout.stake),
        payout_fraction=finite_or_none(payout.payout_fraction),
        amount=tokens(payout.amount),
    )


@router.post("/rounds/{number}/resolve/dry-run", response_model=schemas.ResolvePreviewOut, responses=_ERRORS)
def resolve_round_dry_run(
    context: Context,
    _: Admin,
    number: Number,
    body: Annotated[
        schemas.ScoreDayIn | None, Body(description="the final day's data, if not scored yet")
    ] = None,
) -> schemas.ResolvePreviewOut:
    """What resolving the round would do (payouts, burns and their totals), with nothing written."""
    day = _round_day(context, number, body) if body is not None else None
    preview = preview_resolve(context.service, number, now=context.now(), day=day)
    return schemas.ResolvePreviewOut(
        round_number=preview.round_number,
        already_resolved=preview.already_resolved,
        payouts=[_payout_out(p) for p in preview.payouts],
        total_minted=tokens(preview.total_minted),
        total_burned=tokens(preview.total_burned),
        net=tokens(preview.net),
    )


@router.get("/ledger/audit", response_model=schemas.AuditOut, responses=_ERRORS)
def audit(context: Context, _: Admin) -> schemas.AuditOut:
    """Check the whole stakes ledger: balanced transactions, stored balances, tokens conserved."""
    result = context.service.audit()
    return schemas.AuditOut(
        ok=result.ok,
        n_transactions=result.n_transactions,
        unbalanced_transactions=list(result.unbalanced_transactions),
        mismatched_accounts=list(result.mismatched_accounts),
        negative_accounts=list(result.negative_accounts),
        circulating=tokens(result.circulating),
        minted=tokens(result.minted),
        burned=tokens(result.burned),
    )


@router.put(
    "/validation-data",
    response_model=schemas.ValidationDataOut,
    responses={**_ERRORS, 413: {"model": schemas.ErrorOut}, 415: {"model": schemas.ErrorOut}},
    openapi_extra=UPLOAD_OPENAPI_BODY,
)
async def put_validation_data(request: Request, context: Context, _: Admin) -> schemas.ValidationDataOut:
    """Replace the validation data used by diagnostics: a table with ``era``, ``id``, ``target`` and
    optional ``feature_*`` columns (CSV or parquet)."""
    upload = await read_upload(request, max_bytes=context.settings.max_upload_bytes)
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(store_validation_data, context, upload)
