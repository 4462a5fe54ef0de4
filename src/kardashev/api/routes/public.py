"""Public endpoints (no key needed): health, rounds and their universes, leaderboard, released meta models,
the fund's configuration (FUND.toml)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from kardashev import __version__
from kardashev.api import schemas
from kardashev.api.context import ApiContext, get_context
from kardashev.api.convert import round_out
from kardashev.api.publication import fund_config, leaderboard_rows, released_meta_model
from kardashev.contribution.fund_config import fund_config_dict, fund_config_toml
from kardashev.errors import NotFoundError
from kardashev.tournament.domain import RoundStatus
from kardashev.tournament.tables import decode_ids

__all__ = ["ROUND_NUMBER", "router"]

router = APIRouter(prefix="/v1", tags=["public"])
ROUND_NUMBER = Path(ge=1, le=2**31 - 1, description="round number")
Kind = Literal["classic", "signals"]
Status = Literal["open", "closed", "resolved"]
Context = Annotated[ApiContext, Depends(get_context)]
_ERRORS: dict[int | str, dict[str, object]] = {422: {"model": schemas.ErrorOut}}


@router.get("/health", response_model=schemas.HealthOut)
def health() -> schemas.HealthOut:
    """Liveness check."""
    return schemas.HealthOut(status="ok", version=__version__)


@router.get("/rounds", response_model=list[schemas.RoundOut], responses=_ERRORS)
def list_rounds(
    context: Context, kind: Kind | None = None, status: Status | None = None
) -> list[schemas.RoundOut]:
    """Every round, newest first (optionally of one kind or status)."""
    rounds = context.service.list_rounds()
    rounds = [
        r
        for r in rounds
        if (kind is None or r.kind.value == kind) and (status is None or r.status.value == status)
    ]
    return [round_out(r) for r in sorted(rounds, key=lambda r: r.number, reverse=True)]


@router.get(
    "/rounds/current",
    response_model=schemas.RoundOut,
    responses={404: {"model": schemas.ErrorOut}, **_ERRORS},
)
def current_round(context: Context, kind: Kind | None = None) -> schemas.RoundOut:
    """The newest round accepting on-time submissions now (404 when none is open)."""
    now = context.now()
    rounds = [
        r
        for r in context.service.list_rounds()
        if r.status is RoundStatus.OPEN
        and r.open_time <= now < r.close_time
        and (kind is None or r.kind.value == kind)
    ]
    if not rounds:
        what = f"{kind} round" if kind else "round"
        raise NotFoundError(f"no {what} is open for submissions now", code="no_open_round")
    return round_out(max(rounds, key=lambda r: r.number))


@router.get(
    "/rounds/{number}",
    response_model=schemas.RoundOut,
    responses={404: {"model": schemas.ErrorOut}, **_ERRORS},
)
def get_round(context: Context, number: Annotated[int, ROUND_NUMBER]) -> schemas.RoundOut:
    """One round."""
    return round_out(context.service.get_round(number))


@router.get(
    "/rounds/{number}/universe",
    response_model=schemas.UniverseOut,
    responses={404: {"model": schemas.ErrorOut}, **_ERRORS},
)
def round_universe(context: Context, number: Annotated[int, ROUND_NUMBER]) -> schemas.UniverseOut:
    """The live ids (Classic) or tickers (Signals) a submission to this round must cover."""
    with context.unit_of_work(read_only=True) as repo:
        round_ = repo.get_round(number)
        ids = decode_ids(repo.get_blob(round_.universe_sha256))
    return schemas.UniverseOut(round_number=round_.number, ids=[str(i) for i in ids])


@router.get("/leaderboard", response_model=list[schemas.LeaderboardRow], responses=_ERRORS)
def leaderboard(
    context: Context,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[schemas.LeaderboardRow]:
    """Models ranked by their rolling resolved scores (only resolved rounds are public)."""
    return leaderboard_rows(context, limit=limit, offset=offset)


@router.get(
    "/meta-models/{number}",
    response_class=Response,
    responses={
        200: {"content": {"application/vnd.apache.parquet": {}}, "description": "parquet: id, meta_model"},
        404: {"model": schemas.ErrorOut},
        409: {"model": schemas.ErrorOut},
        **_ERRORS,
    },
)
def meta_model(context: Context, number: Annotated[int, ROUND_NUMBER]) -> Response:
    """The naive (equal-weight) meta model of a round, released only after a lag and when enough
    models contributed that no single signal can be recovered from it."""
    data = released_meta_model(context, number)
    return Response(
        content=data,
        media_type="application/vnd.apache.parquet",
        headers={"Content-Disposition": f'attachment; filename="meta_model_{number}.parquet"'},
    )


@router.get(
    "/fund/config",
    response_class=Response,
    responses={
        200: {
            "content": {"application/json": {"schema": {"type": "object"}}, "application/toml": {}},
            "description": "FUND.toml as JSON tables (default) or as TOML text (format=toml)",
        },
        **_ERRORS,
    },
)
def get_fund_config(context: Context, format: Literal["json", "toml"] = "json") -> Response:
    """What a participant needs to estimate their TC at home with ``kardashev tc``: the fund's optimizer
    configuration and how its meta model is released (``kardashev fund-config --url`` saves it)."""
    config = fund_config(context)
    if format == "toml":
        return Response(
            content=fund_config_toml(config),
            media_type="application/toml",
            headers={"Content-Disposition": 'attachment; filename="FUND.toml"'},
        )
    return JSONResponse(fund_config_dict(config))
