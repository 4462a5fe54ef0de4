"""The mutations numerapi 3.1.1 sends: submissions, diagnostics and stake changes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from kardashev.api.convert import tokens, units
from kardashev.api.graphql import types as t
from kardashev.api.graphql.access import CLASSIC, SIGNALS, GraphQLContext
from kardashev.api.graphql.transfers import create_diagnostics, create_submission
from kardashev.errors import InvalidInputError

__all__ = ["Mutation"]

Ctx = Info[GraphQLContext, None]
ModelId = Annotated[str | None, strawberry.argument(name="modelId")]
Datestamp = Annotated[int | None, strawberry.argument(name="dataDatestamp")]
TriggerId = Annotated[str | None, strawberry.argument(name="triggerId")]


def _amount(value: str | None) -> int:
    if value is None:
        raise InvalidInputError("'value' is required", code="missing_argument")
    return units(str(value).strip())


def _stake_request(
    ctx: GraphQLContext, model_id: int, kind: str, amount: int, *, drain: bool = False
) -> t.StakeRequest:
    """A decrease is ``pending`` while its tokens wait for the rounds holding the stake to resolve."""
    due: dt.datetime | None = None
    status = "done"
    if kind == "decrease":
        waiting = [r for r in ctx.service.pending_releases(model_id) if r.released_at is None]
        if waiting:
            status = "pending"
            after = max((r.release_after_round or 0) for r in waiting)
            due = ctx.rounds()[after].resolve_time if after in ctx.rounds() else None
    return t.StakeRequest(
        id=None, type=kind, status=status, requested_amount=tokens(amount), due_date=due, drain=drain
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(name="create_submission", description="Submit the uploaded Classic predictions.")
    def create_submission(
        self,
        info: Ctx,
        filename: str | None = None,
        tournament: int | None = None,
        model_id: ModelId = None,
        trigger_id: TriggerId = None,
        source: str | None = None,
        data_datestamp: Datestamp = None,
    ) -> t.CreatedId:
        submission, _ = create_submission(
            info.context, filename, model_id, tournament or CLASSIC, data_datestamp
        )
        return t.CreatedId(id=str(submission.id))

    @strawberry.mutation(description="Submit the uploaded Signals predictions.")
    def create_signals_submission(
        self,
        info: Ctx,
        filename: str | None = None,
        model_id: ModelId = None,
        trigger_id: TriggerId = None,
        source: str | None = None,
        data_datestamp: Datestamp = None,
    ) -> t.CreatedId:
        submission, effective = create_submission(info.context, filename, model_id, SIGNALS, data_datestamp)
        return t.CreatedId(id=str(submission.id), first_effective_date=effective)

    @strawberry.mutation(description="Run diagnostics of the uploaded validation predictions.")
    def create_diagnostics(
        self, info: Ctx, filename: str | None = None, tournament: int | None = None, model_id: ModelId = None
    ) -> t.CreatedId:
        return t.CreatedId(id=create_diagnostics(info.context, filename, model_id))

    @strawberry.mutation(description="Increase or decrease a model's stake (scope stake).")
    def v2_change_stake(
        self,
        info: Ctx,
        value: str | None = None,
        type: str | None = None,
        model_id: ModelId = None,
        tournament_number: Annotated[int | None, strawberry.argument(name="tournamentNumber")] = None,
    ) -> t.StakeRequest:
        ctx = info.context
        model = ctx.own_model(ctx.principal("stake"), model_id)
        amount = _amount(value)
        if type == "increase":
            ctx.service.stake_increase(model.id, amount, now=ctx.now())
        elif type == "decrease":
            ctx.service.stake_decrease(model.id, amount, now=ctx.now())
        else:
            raise InvalidInputError(
                f"type must be 'increase' or 'decrease', got {type!r}", code="invalid_type"
            )
        return _stake_request(ctx, model.id, type, amount)

    @strawberry.mutation(description="Take the whole free stake out (drain: true).")
    def release_stake(
        self, info: Ctx, drain: t.LowerBool | None = None, model_id: ModelId = None, amount: str | None = None
    ) -> t.StakeRequest:
        ctx = info.context
        model = ctx.own_model(ctx.principal("stake"), model_id)
        if not drain:
            raise InvalidInputError("releaseStake takes drain: true", code="invalid_argument")
        before = ctx.service.stake(model.id)
        if before.stake <= 0:
            raise InvalidInputError("this model has no free stake to release", code="no_stake")
        ctx.service.stake_decrease(model.id, before.stake, now=ctx.now())
        return _stake_request(ctx, model.id, "decrease", before.stake, drain=True)
