"""Endpoints of the caller's own account: models, uploads, submissions, stakes, scores, diagnostics.

Every endpoint resolves the model inside the caller's account first: another account's model is a 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from kardashev.api import schemas
from kardashev.api.auth import Principal, owned_model, require
from kardashev.api.context import ApiContext, get_context
from kardashev.api.convert import finite_or_none, tokens, units
from kardashev.api.diagnostics import run_diagnostics
from kardashev.api.idempotency import IDEMPOTENCY_OPENAPI, idempotent_request, replayed
from kardashev.api.uploads import UPLOAD_OPENAPI_BODY, UploadedFile, read_upload
from kardashev.errors import InvalidInputError, NotFoundError
from kardashev.tournament.domain import Model, RoundStatus
from kardashev.tournament.service_accounts import MoneyMove, StakeInfo

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["account"])
Context = Annotated[ApiContext, Depends(get_context)]
Reader = Annotated[Principal, Depends(require("read"))]
Uploader = Annotated[Principal, Depends(require("upload"))]
Staker = Annotated[Principal, Depends(require("stake"))]
ModelRef = Annotated[str, Path(min_length=1, max_length=64, description="model name or id")]
RoundQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1)]

_AUTH_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": schemas.ErrorOut} for status in (401, 403, 404, 422)
}
_UPLOAD_ERRORS: dict[int | str, dict[str, object]] = {
    **_AUTH_ERRORS,
    **{status: {"model": schemas.ErrorOut} for status in (400, 409, 413, 415)},
}


def _account_out(context: ApiContext, principal: Principal) -> schemas.AccountOut:
    account = context.service.get_account(principal.account_id)
    return schemas.AccountOut(
        id=account.id,
        name=account.name,
        created_at=account.created_at,
        wallet_balance=tokens(context.service.wallet(account.id)),
    )


def _stake_out(context: ApiContext, info: StakeInfo, account_id: int) -> schemas.StakeOut:
    return schemas.StakeOut(
        model_id=info.model_id,
        stake=tokens(info.total),
        at_risk=tokens(info.at_risk),
        pending_release=tokens(info.pending),
        wallet_balance=tokens(context.service.wallet(account_id)),
    )


def _stake_move_out(move: MoneyMove) -> schemas.StakeOut:
    info = move.stake
    if info is None:  # pragma: no cover - a stake move always reads the stake
        raise NotFoundError("the stake move read no stake", code="internal")
    return schemas.StakeOut(
        model_id=info.model_id,
        stake=tokens(info.total),
        at_risk=tokens(info.at_risk),
        pending_release=tokens(info.pending),
        wallet_balance=tokens(move.wallet),
    )


def _model(context: ApiContext, principal: Principal, model: str) -> Model:
    with context.unit_of_work(read_only=True) as repo:
        return owned_model(repo, principal, model)


@router.get("/account", response_model=schemas.AccountOut, responses=_AUTH_ERRORS)
def get_account(context: Context, principal: Reader) -> schemas.AccountOut:
    """The caller's account and wallet balance."""
    return _account_out(context, principal)


@router.get(
    "/account/transactions", response_model=list[schemas.WalletTransactionOut], responses=_AUTH_ERRORS
)
def wallet_transactions(context: Context, principal: Reader) -> list[schemas.WalletTransactionOut]:
    """Movements of the caller's tokens (wallet, stakes, pending releases), oldest first."""
    return [
        schemas.WalletTransactionOut(
            transaction_id=row.transaction_id,
            kind=row.kind,
            source=row.source,
            destination=row.destination,
            amount=tokens(row.amount),
            time=row.time,
            round_number=row.round_number,
            model_id=row.model_id,
        )
        for row in context.service.wallet_transactions(principal.account_id)
    ]


@router.get("/models", response_model=list[schemas.ModelOut], responses=_AUTH_ERRORS)
def list_models(context: Context, principal: Reader) -> list[schemas.ModelOut]:
    """The caller's models."""
    models = context.service.list_models(account=principal.account_id)
    return [schemas.ModelOut.model_validate(m) for m in models]


@router.post(
    "/models",
    response_model=schemas.ModelOut,
    status_code=201,
    responses={**_AUTH_ERRORS, 409: {"model": schemas.ErrorOut}},
)
def create_model(context: Context, principal: Uploader, body: schemas.ModelCreate) -> schemas.ModelOut:
    """Create a model in the caller's account (names are unique across the tournament)."""
    model = context.service.create_model(principal.account_id, body.name, now=context.now())
    return schemas.ModelOut.model_validate(model)


@router.get("/models/{model}/submissions", response_model=list[schemas.SubmissionOut], responses=_AUTH_ERRORS)
def list_submissions(
    context: Context, principal: Reader, model: ModelRef, round_number: RoundQuery = None
) -> list[schemas.SubmissionOut]:
    """The model's submissions, newest round first."""
    found = _model(context, principal, model)
    rows = context.service.list_submissions(round_number=round_number, model=found.id)
    rows = sorted(rows, key=lambda s: (s.round_number, s.submitted_at), reverse=True)
    return [schemas.SubmissionOut.model_validate(s) for s in rows]


def _target_round(context: ApiContext, round_number: int | None) -> int:
    if round_number is not None:
        return round_number
    now = context.now()
    rounds = [
        r
        for r in context.service.list_rounds()
        if r.status is RoundStatus.OPEN and r.open_time <= now < r.close_time
    ]
    if not rounds:
        raise NotFoundError("no round is open for submissions now; pass round_number", code="no_open_round")
    kinds = {r.kind for r in rounds}
    if len(kinds) > 1:
        raise InvalidInputError(
            "a Classic and a Signals round are both open: pass round_number", code="ambiguous_round"
        )
    return max(r.number for r in rounds)


@router.post(
    "/models/{model}/submissions",
    response_model=schemas.SubmissionOut,
    status_code=201,
    responses=_UPLOAD_ERRORS,
    openapi_extra=UPLOAD_OPENAPI_BODY,
)
async def upload_predictions(
    request: Request, context: Context, principal: Uploader, model: ModelRef, round_number: RoundQuery = None
) -> schemas.SubmissionOut:
    """Upload predictions (CSV or parquet; Classic ``id,prediction`` or Signals ``ticker,signal``) to the
    current round or ``round_number``. The file is validated against the round's rules before anything is
    stored; a rejected file stores nothing. Before the close a new upload replaces the previous one."""
    found = _model(context, principal, model)
    number = _target_round(context, round_number)
    upload = await read_upload(request, max_bytes=context.settings.max_upload_bytes)
    return await run_in_threadpool(_store_submission, context, found.id, number, upload)


def _store_submission(
    context: ApiContext, model_id: int, round_number: int, upload: UploadedFile
) -> schemas.SubmissionOut:
    # The service parses and validates the bytes (kardashev.tournament.validation) and stores nothing
    # for a rejected file; a retried upload of the same content is a no-op.
    submission = context.service.submit(
        model_id, round_number, upload.data, now=context.now(), filename=upload.filename
    )
    return schemas.SubmissionOut.model_validate(submission)


@router.get("/models/{model}/stake", response_model=schemas.StakeOut, responses=_AUTH_ERRORS)
def stake_get(context: Context, principal: Reader, model: ModelRef) -> schemas.StakeOut:
    """The model's stake: total, escrowed at risk, and decreases pending release."""
    found = _model(context, principal, model)
    return _stake_out(context, context.service.stake(found.id), principal.account_id)


@router.post(
    "/models/{model}/stake/increase",
    response_model=schemas.StakeOut,
    responses={**_AUTH_ERRORS, 409: {"model": schemas.ErrorOut}},
    openapi_extra=IDEMPOTENCY_OPENAPI,
)
def stake_increase(
    request: Request, context: Context, principal: Staker, model: ModelRef, body: schemas.AmountIn
) -> schemas.StakeOut | Response:
    """Move tokens from the wallet to the model's stake (it counts from the next round to close).
    Send an ``Idempotency-Key`` header to make a retry safe."""
    found = _model(context, principal, model)
    once = idempotent_request(request, principal, body)
    if once is not None:  # the first response is stored with the move; a replay gets it unchanged
        return replayed(
            context.service.stake_increase_once(
                found.id, units(body.amount), now=context.now(), replay=once.replay(_stake_move_out)
            )
        )
    info = context.service.stake_increase(found.id, units(body.amount), now=context.now())
    return _stake_out(context, info, principal.account_id)


@router.post(
    "/models/{model}/stake/decrease",
    response_model=schemas.StakeOut,
    responses={**_AUTH_ERRORS, 409: {"model": schemas.ErrorOut}},
    openapi_extra=IDEMPOTENCY_OPENAPI,
)
def stake_decrease(
    request: Request, context: Context, principal: Staker, model: ModelRef, body: schemas.AmountIn
) -> schemas.StakeOut | Response:
    """Take tokens out of the stake; they return to the wallet once the rounds holding them resolve.
    Send an ``Idempotency-Key`` header to make a retry safe."""
    found = _model(context, principal, model)
    once = idempotent_request(request, principal, body)
    if once is not None:  # the first response is stored with the move; a replay gets it unchanged
        return replayed(
            context.service.stake_decrease_once(
                found.id, units(body.amount), now=context.now(), replay=once.replay(_stake_move_out)
            )
        )
    info = context.service.stake_decrease(found.id, units(body.amount), now=context.now())
    return _stake_out(context, info, principal.account_id)


@router.get("/models/{model}/daily-scores", response_model=list[schemas.ScoreRow], responses=_AUTH_ERRORS)
def daily_scores(
    context: Context, principal: Reader, model: ModelRef, round_number: RoundQuery = None
) -> list[schemas.ScoreRow]:
    """Every daily score of the model (``corr``, ``mmc``, ``fnc``, ``tc`` …), by round and day."""
    found = _model(context, principal, model)
    rows = context.service.scores(round_number=round_number, model=found.id)
    rows = sorted(rows, key=lambda s: (s.round_number, s.day, s.metric))
    return [
        schemas.ScoreRow(
            round_number=s.round_number, day=s.day, metric=s.metric, value=finite_or_none(s.value)
        )
        for s in rows
    ]


@router.get("/models/{model}/scores", response_model=list[schemas.RoundPerformance], responses=_AUTH_ERRORS)
def round_performances(
    context: Context, principal: Reader, model: ModelRef
) -> list[schemas.RoundPerformance]:
    """Per round the model took part in: latest daily scores, stake at close and, once resolved,
    the payout."""
    found = _model(context, principal, model)
    service = context.service
    scores = service.scores(model=found.id)
    snapshots = {s.round_number: s for s in service.stake_snapshots(model=found.id)}
    payouts = {p.round_number: p for p in service.payouts(model=found.id)}
    rounds = {s.round_number for s in service.list_submissions(model=found.id)}
    result = []
    for number in sorted(rounds, reverse=True):
        round_ = service.get_round(number)
        latest: dict[str, float | None] = {}
        for score in sorted((s for s in scores if s.round_number == number), key=lambda s: s.day):
            latest[score.metric] = finite_or_none(score.value)
        snapshot, payout = snapshots.get(number), payouts.get(number)
        result.append(
            schemas.RoundPerformance(
                round_number=number,
                round_status=round_.status.value,
                days_scored=round_.days_scored,
                latest=latest,
                stake=tokens(snapshot.stake) if snapshot else None,
                payout=tokens(payout.amount) if payout else None,
                payout_fraction=finite_or_none(payout.payout_fraction) if payout else None,
            )
        )
    return result


@router.post(
    "/models/{model}/diagnostics",
    response_model=schemas.DiagnosticsOut,
    responses={**_UPLOAD_ERRORS},
    openapi_extra=UPLOAD_OPENAPI_BODY,
)
async def diagnostics(
    request: Request, context: Context, principal: Uploader, model: ModelRef
) -> schemas.DiagnosticsOut:
    """Diagnostics of predictions on the validation data (per-era CORR, Sharpe, drawdown, feature exposure).
    The file is scored and discarded: nothing is stored."""
    _model(context, principal, model)
    upload = await read_upload(request, max_bytes=context.settings.max_upload_bytes)
    return await run_in_threadpool(run_diagnostics, context, upload)
