"""The queries numerapi 3.1.1 sends, with its argument names and types.

Argument types are those numerapi declares for its variables (``ID`` for ``submissionScores(modelId)``,
``String`` elsewhere), all nullable so that both its ``Int`` and ``Int!`` variables validate; required
values are checked here and refused with a message numerapi shows.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, TypeVar

import strawberry
from strawberry.types import Info

from kardashev.api.convert import tokens
from kardashev.api.graphql import types as t
from kardashev.api.graphql import views
from kardashev.api.graphql.access import SIGNALS, GraphQLContext, kind_of, tournament_of
from kardashev.api.graphql.diagnostics_types import Diagnostics
from kardashev.api.graphql.transfers import dataset_names, dataset_url, diagnostics_view, upload_auth
from kardashev.errors import InvalidInputError, NotFoundError
from kardashev.tournament.domain import RoundKind, RoundStatus

__all__ = ["Query"]

Ctx = Info[GraphQLContext, None]
T = TypeVar("T")
_UPLOAD_MINUTES = 60
_DOWNLOAD_MINUTES = 60


def _arg(name: str):
    return strawberry.argument(name=name)


def _required(value: T | None, name: str) -> T:
    if value is None or value == "":
        raise InvalidInputError(f"'{name}' is required", code="missing_argument")
    return value


@strawberry.type
class Query:
    @strawberry.field(
        description="Rounds of a tournament, newest first; number 0 is the open round (or null)."
    )
    def rounds(
        self,
        info: Ctx,
        tournament: int | None = None,
        number: int | None = None,
        target: str | None = None,
        status: t.RoundStatusName | None = None,
        limit: int | None = None,
    ) -> list[t.RoundInfo | None]:
        ctx = info.context
        kind, now = kind_of(tournament), ctx.now()
        rounds = sorted(
            (r for r in ctx.rounds().values() if r.kind is kind), key=lambda r: r.number, reverse=True
        )
        if number == 0:
            open_now = [
                r for r in rounds if r.status is RoundStatus.OPEN and r.open_time <= now < r.close_time
            ]
            return [views.round_view(open_now[0], now) if open_now else None]
        result: list[t.RoundInfo | None] = [
            views.round_view(r, now) for r in rounds if number is None or r.number == number
        ]
        result = [
            r for r in result if r is not None and target in (None, r.target) and status in (None, r.status)
        ]
        return result[: max(limit, 0)] if limit is not None else result

    @strawberry.field(description="The caller's account, wallet, models and API keys (scope read).")
    def account(self, info: Ctx) -> t.Account:
        ctx = info.context
        return views.account_view(ctx, ctx.principal("read"))

    @strawberry.field(description="One of the caller's models (scope read).")
    def model(self, info: Ctx, model_id: Annotated[str | None, _arg("modelId")] = None) -> t.ModelInfo:
        ctx = info.context
        model = ctx.own_model(ctx.principal("read"), _required(model_id, "modelId"))
        return views.model_views(ctx, model)[0]

    @strawberry.field(
        description="A public model's profile: stake and daily performances of resolved rounds."
    )
    def v3_user_profile(
        self,
        info: Ctx,
        model_name: Annotated[str | None, _arg("model_name")] = None,
        modelName: str | None = None,
        tournament: int | None = None,
    ) -> t.UserProfile:
        ctx = info.context
        model = ctx.public_model(_required(model_name or modelName, "modelName"))
        stake = tokens(ctx.service.stake(model.id).total)
        return t.UserProfile(
            id=str(model.id),
            username=model.name,
            start_date=model.created_at,
            stake_value=stake,
            nmr_staked=stake,
            daily_model_performances=views.daily_performances(ctx, model, kind_of(tournament)),
        )

    @strawberry.field(description="A Signals model's daily performances of resolved rounds.")
    def v2_signals_profile(self, info: Ctx, modelName: str | None = None) -> t.SignalsProfile:
        ctx = info.context
        model = ctx.public_model(_required(modelName, "modelName"))
        return t.SignalsProfile(
            username=model.name,
            daily_model_performances=views.daily_performances(ctx, model, RoundKind.SIGNALS),
        )

    @strawberry.field(description="The models of an account (name and id).")
    def account_profile(
        self, info: Ctx, username: str | None = None, tournament: int | None = None
    ) -> t.AccountProfile:
        ctx = info.context
        name = str(_required(username, "username"))[:64]
        try:
            account = ctx.service.get_account(name)
        except NotFoundError:
            raise NotFoundError(f"no account {name!r}", code="account_not_found") from None
        kind = kind_of(tournament)
        models = [m for m in ctx.service.list_models(account=account.id) if kind in views.model_kinds(ctx, m)]
        return t.AccountProfile(
            username=account.name, models=[t.ProfileModel(id=str(m.id), display_name=m.name) for m in models]
        )

    @strawberry.field(description="The files published for a tournament.")
    def list_datasets(self, info: Ctx, round: int | None = None, tournament: int | None = None) -> list[str]:
        return dataset_names(info.context, kind_of(tournament))

    @strawberry.field(description="A signed URL to download a published file.")
    def dataset(
        self,
        info: Ctx,
        filename: str | None = None,
        round: int | None = None,
        tournament: int | None = None,
    ) -> str:
        name = str(_required(filename, "filename"))
        return dataset_url(info.context, name, kind_of(tournament), minutes=_DOWNLOAD_MINUTES)

    @strawberry.field(name="submission_upload_auth", description="Upload URL for Classic predictions.")
    def submission_upload_auth(
        self,
        info: Ctx,
        filename: str | None = None,
        tournament: int | None = None,
        model_id: Annotated[str | None, _arg("modelId")] = None,
    ) -> t.UploadAuth:
        kind = kind_of(tournament)
        return upload_auth(
            info.context, "submission", filename, tournament_of(kind), model_id, _UPLOAD_MINUTES
        )

    @strawberry.field(description="Upload URL for Signals predictions.")
    def submission_upload_signals_auth(
        self,
        info: Ctx,
        filename: str | None = None,
        tournament: int | None = None,
        model_id: Annotated[str | None, _arg("modelId")] = None,
    ) -> t.UploadAuth:
        return upload_auth(info.context, "submission", filename, SIGNALS, model_id, _UPLOAD_MINUTES)

    @strawberry.field(description="Upload URL for a diagnostics file (Classic validation predictions).")
    def diagnostics_upload_auth(
        self,
        info: Ctx,
        filename: str | None = None,
        tournament: int | None = None,
        model_id: Annotated[str | None, _arg("modelId")] = None,
    ) -> t.UploadAuth:
        kind = kind_of(tournament)
        return upload_auth(
            info.context, "diagnostics", filename, tournament_of(kind), model_id, _UPLOAD_MINUTES
        )

    @strawberry.field(description="Diagnostics of one of the caller's models (latest run without an id).")
    def diagnostics(
        self,
        info: Ctx,
        id: str | None = None,
        model_id: Annotated[str | None, _arg("modelId")] = None,
    ) -> Diagnostics:  # type: ignore[valid-type]
        ctx = info.context
        model = ctx.own_model(ctx.principal("read"), _required(model_id, "modelId"))
        return diagnostics_view(ctx.diagnostics.load(model.id, id))

    @strawberry.field(description="The caller's submissions of a model, oldest first (scope read).")
    def submissions(
        self, info: Ctx, model_id: Annotated[str | None, _arg("modelId")] = None
    ) -> list[t.SubmissionInfo]:
        ctx = info.context
        model = ctx.own_model(ctx.principal("read"), model_id)
        rounds = ctx.rounds()
        rows = sorted(ctx.service.list_submissions(model=model.id), key=lambda s: s.submitted_at)
        return [views.submission_view(s, rounds[s.round_number], selected=True) for s in rows]

    @strawberry.field(description="A signed URL to download one of the caller's stored submissions.")
    def submission_download_auth(self, info: Ctx, id: str | None = None) -> t.UploadAuth:
        from kardashev.api.graphql.transfers import submission_download

        return submission_download(info.context, str(_required(id, "id")), minutes=_DOWNLOAD_MINUTES)

    @strawberry.field(description="Per round: latest and daily scores (resolved rounds; all for the owner).")
    def v2_round_model_performances(
        self,
        info: Ctx,
        model_id: Annotated[str | None, _arg("modelId")] = None,
        tournament: int | None = None,
    ) -> list[t.RoundPerformance]:
        ctx = info.context
        model = ctx.public_model(_required(model_id, "modelId"))
        return views.round_performances(ctx, model, tournament)

    @strawberry.field(description="Daily scores (resolved rounds; all for the owner), newest round first.")
    def submission_scores(
        self,
        info: Ctx,
        model_id: Annotated[strawberry.ID | None, _arg("modelId")] = None,
        display_name: Annotated[str | None, _arg("displayName")] = None,
        version: str | None = None,
        day: int | None = None,
        resolved: bool | None = None,
        tournament: int | None = None,
        last_n_rounds: Annotated[int | None, _arg("lastNRounds")] = None,
        distinct_on_round: Annotated[bool | None, _arg("distinctOnRound")] = None,
    ) -> list[t.SubmissionScore]:
        ctx = info.context
        model = ctx.public_model(_required(model_id, "modelId"))
        return views.submission_scores(
            ctx,
            model,
            tournament=tournament,
            display_name=display_name,
            day=day,
            resolved=resolved,
            last_n_rounds=last_n_rounds,
            distinct_on_round=distinct_on_round,
        )

    @strawberry.field(description="Settled payouts and the closed rounds still running (scope read).")
    def pending_model_payouts(self, info: Ctx, tournament: int | None = None) -> t.Payouts:
        ctx = info.context
        principal = ctx.principal("read")
        kind, rounds = kind_of(tournament), ctx.rounds()
        actual: list[t.ModelPayout] = []
        pending: list[t.ModelPayout] = []
        for model in ctx.service.list_models(account=principal.account_id):
            payouts = {p.round_number: p for p in ctx.service.payouts(model=model.id)}
            for snapshot in ctx.service.stake_snapshots(model=model.id):
                round_ = rounds[snapshot.round_number]
                if round_.kind is not kind:
                    continue
                payout = payouts.get(round_.number)
                entry = t.ModelPayout(
                    round_id=str(round_.number),
                    round_number=round_.number,
                    round_resolve_time=round_.resolve_time,
                    model_id=str(model.id),
                    model_name=model.name,
                    model_display_name=model.name,
                    payout_nmr=tokens(payout.amount) if payout is not None else None,
                )
                (actual if round_.status is RoundStatus.RESOLVED else pending).append(entry)
        key = lambda e: (-e.round_number, e.model_name)  # noqa: E731
        return t.Payouts(actual=sorted(actual, key=key), pending=sorted(pending, key=key))

    @strawberry.field(description="The Classic leaderboard (resolved rounds).")
    def v2_leaderboard(
        self, info: Ctx, limit: int | None = 50, offset: int | None = 0
    ) -> list[t.LeaderboardEntry]:
        return views.classic_leaderboard(info.context, limit=limit or 50, offset=offset or 0)

    @strawberry.field(description="The Signals leaderboard (resolved rounds).")
    def signals_leaderboard(
        self, info: Ctx, limit: int | None = 50, offset: int | None = 0
    ) -> list[t.SignalsLeaderboardEntry]:
        return views.signals_leaderboard(info.context, limit=limit or 50, offset=offset or 0)

    @strawberry.field(description="Accounts ranked by their best model on the leaderboard.")
    def account_leaderboard(
        self, info: Ctx, limit: int | None = 50, offset: int | None = 0, tournament: int | None = None
    ) -> list[t.AccountLeaderboardEntry]:
        return views.account_leaderboard(
            info.context, kind_of(tournament), limit=limit or 50, offset=offset or 0
        )

    @strawberry.field(description="Server time (UTC).")
    def server_time(self, info: Ctx) -> dt.datetime:
        return info.context.now()
