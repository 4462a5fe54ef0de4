"""Tournament records shaped as numerapi's GraphQL objects (read side).

Everything comes from the tournament service, as in the REST routes, and amounts and scores go through
the same conversions (:mod:`kardashev.api.convert`), so a value read through numerapi is the value the REST
API returns. Where Numerai has a notion Kardashev lacks, the mapping is stated here once:

* a score's ``date`` is the round's close time plus its scoring day (Kardashev scores by day index);
* ``dailyModelPerformances`` has one entry per *resolved* round: the final scores (``corrRep`` …) and the
  model's rank among that round's models for each score;
* an account's row of ``accountLeaderboard`` gathers its models on that board: ``nmrStaked`` is their
  total stake, the scores are their means, and accounts rank by their best model's rank;
* leaderboards are the REST leaderboard (same ranks and values) restricted to the models that entered
  the tournament: ``corr20Rep``/``icRep`` = ``corr_20r``, ``mmcRep``/``mmc`` = ``mmc_20r``,
  ``tcRep`` = ``tc_20r``, ``fncRep`` = ``fnc_20r``, ``return_1_day`` = the latest round's return on
  stake, ``return_52_weeks`` = ``return_1y``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

from kardashev.api.auth import Principal
from kardashev.api.convert import finite_or_none, tokens
from kardashev.api.graphql import types as t
from kardashev.api.graphql.access import NUMERAPI_SCOPES, GraphQLContext, kind_of, tournament_of
from kardashev.api.publication import leaderboard_rows
from kardashev.api.schemas import LeaderboardRow
from kardashev.tournament.domain import (
    DailyScore,
    Model,
    Round,
    RoundKind,
    RoundStatus,
    Submission,
    tokens_to_units,
)

__all__ = [
    "account_leaderboard",
    "account_view",
    "classic_leaderboard",
    "daily_performances",
    "model_kinds",
    "model_views",
    "round_performances",
    "round_view",
    "score_date",
    "signals_leaderboard",
    "submission_scores",
    "submission_view",
]

_CLASSIC_BOARD = {"corr20_rep": "corr_20r", "mmc_rep": "mmc_20r", "tc_rep": "tc_20r", "fnc_rep": "fnc_20r"}
_CLASSIC_RETURNS = {"return_1_day": "return", "return_52_weeks": "return_1y"}
_SIGNALS_BOARD = {"ic_rep": "corr_20r", "mmc": "mmc_20r", "tc_rep": "tc_20r"}
_DAILY_FIELDS = {"corr": "corr", "mmc": "mmc", "fnc": "fnc", "tc": "tc"}


def score_date(round_: Round, day: int) -> dt.datetime:
    """The nominal date of a scoring day: the round's close plus ``day`` days."""
    return round_.close_time + dt.timedelta(days=int(day))


def _status(round_: Round, now: dt.datetime) -> t.RoundStatusName:
    if round_.status is RoundStatus.RESOLVED:
        return t.RoundStatusName.RESOLVED
    if round_.status is RoundStatus.CLOSED:
        return t.RoundStatusName.RESOLVING
    return t.RoundStatusName.UPCOMING if now < round_.open_time else t.RoundStatusName.OPEN


def round_view(round_: Round, now: dt.datetime) -> t.RoundInfo:
    resolved = round_.status is RoundStatus.RESOLVED
    return t.RoundInfo(
        id=str(round_.number),
        tournament=tournament_of(round_.kind),
        number=round_.number,
        target=round_.target_name,
        status=_status(round_, now),
        open_time=round_.open_time,
        close_time=round_.close_time,
        close_staking_time=round_.close_time,
        score_time=score_date(round_, 1),
        resolve_time=round_.resolve_time,
        resolved_general=resolved,
        resolved_staking=resolved,
        data_datestamp=int(round_.open_time.strftime("%Y%m%d")),
    )


def model_kinds(ctx: GraphQLContext, model: Model) -> list[RoundKind]:
    """The tournaments a model is listed in: those it entered, or both while it entered none."""
    rounds = ctx.rounds()
    kinds = {rounds[s.round_number].kind for s in ctx.service.list_submissions(model=model.id)}
    return sorted(kinds or {RoundKind.CLASSIC, RoundKind.SIGNALS}, key=lambda k: k.value)


def submission_view(submission: Submission, round_: Round, *, selected: bool) -> t.SubmissionInfo:
    return t.SubmissionInfo(
        id=str(submission.id),
        filename=submission.filename,
        inserted_at=submission.submitted_at,
        selected=selected,
        round=t.RoundRef(tournament=tournament_of(round_.kind), number=round_.number),
    )


def model_views(ctx: GraphQLContext, model: Model) -> list[t.ModelInfo]:
    """One entry per tournament the model is listed in, with that tournament's submissions."""
    rounds = ctx.rounds()
    submissions = sorted(ctx.service.list_submissions(model=model.id), key=lambda s: s.submitted_at)
    stake = ctx.service.stake(model.id).total
    views = []
    for kind in model_kinds(ctx, model):
        mine = [s for s in submissions if rounds[s.round_number].kind is kind]
        views.append(
            t.ModelInfo(
                id=str(model.id),
                name=model.name,
                tournament=tournament_of(kind),
                submissions=[submission_view(s, rounds[s.round_number], selected=True) for s in mine],
                v2_stake=t.V2Stake(status="staked" if stake > 0 else None),
            )
        )
    return views


def account_view(ctx: GraphQLContext, principal: Principal) -> t.Account:
    service = ctx.service
    account = service.get_account(principal.account_id)
    models = service.list_models(account=account.id)
    keys = [key for key in service.list_api_keys(account.id) if key.active]
    return t.Account(
        id=str(account.id),
        username=account.name,
        available_nmr=tokens(service.wallet(account.id)),
        inserted_at=account.created_at,
        models=[view for model in models for view in model_views(ctx, model)],
        api_tokens=[
            t.ApiToken(
                name=key.key_id,
                public_id=key.key_id,
                scopes=[
                    name for scope in sorted(key.scopes) for name in NUMERAPI_SCOPES.get(scope, (scope,))
                ],
            )
            for key in keys
        ],
    )


def _visible_scores(ctx: GraphQLContext, model: Model, tournament: int | None) -> dict[int, list[DailyScore]]:
    """The model's daily scores by round, for the rounds of ``tournament`` the caller may see."""
    kind = kind_of(tournament)
    rounds = ctx.rounds()
    by_round: dict[int, list[DailyScore]] = defaultdict(list)
    for score in ctx.service.scores(model=model.id):
        round_ = rounds[score.round_number]
        if round_.kind is kind and ctx.visible(round_, model):
            by_round[score.round_number].append(score)
    return by_round


def _entry(round_: Round, score: DailyScore) -> t.ScoreEntry:
    return t.ScoreEntry(
        date=score_date(round_, score.day),
        day=score.day,
        display_name=score.metric,
        value=finite_or_none(score.value),
    )


def round_performances(ctx: GraphQLContext, model: Model, tournament: int | None) -> list[t.RoundPerformance]:
    """Per round (newest first): the latest day's scores, every daily score, stake at risk and payout."""
    rounds = ctx.rounds()
    scores = _visible_scores(ctx, model, tournament)
    kind = kind_of(tournament)
    entered = {s.round_number for s in ctx.service.list_submissions(model=model.id)}
    snapshots = {s.round_number: s for s in ctx.service.stake_snapshots(model=model.id)}
    payouts = {p.round_number: p for p in ctx.service.payouts(model=model.id)}
    result = []
    for number in sorted(entered, reverse=True):
        round_ = rounds[number]
        if round_.kind is not kind or not ctx.visible(round_, model):
            continue
        daily = sorted(scores.get(number, []), key=lambda s: (s.day, s.metric))
        latest: dict[str, DailyScore] = {s.metric: s for s in daily}
        payout = payouts.get(number)
        snapshot = snapshots.get(number)
        final = [_entry(round_, s) for s in sorted(latest.values(), key=lambda s: s.metric)]
        for entry in final:
            settled = tokens(payout.amount) if payout is not None else None
            entry.payout_settled = settled
        result.append(
            t.RoundPerformance(
                round_number=number,
                round_open_time=round_.open_time,
                round_resolve_time=round_.resolve_time,
                round_resolved=round_.status is RoundStatus.RESOLVED,
                round_target=round_.target_name,
                at_risk=tokens(snapshot.at_risk) if snapshot is not None else None,
                submission_scores=final,
                intra_round_submission_scores=[_entry(round_, s) for s in daily],
            )
        )
    return result


def submission_scores(
    ctx: GraphQLContext,
    model: Model,
    *,
    tournament: int | None,
    display_name: str | None,
    day: int | None,
    resolved: bool | None,
    last_n_rounds: int | None,
    distinct_on_round: bool | None,
) -> list[t.SubmissionScore]:
    rounds = ctx.rounds()
    submissions = {s.round_number: s for s in ctx.service.list_submissions(model=model.id)}
    by_round = _visible_scores(ctx, model, tournament)
    numbers = sorted(by_round, reverse=True)
    if last_n_rounds is not None:
        numbers = numbers[: max(int(last_n_rounds), 0)]
    result = []
    for number in numbers:
        round_ = rounds[number]
        is_resolved = round_.status is RoundStatus.RESOLVED
        if resolved is not None and resolved != is_resolved:
            continue
        rows = [
            s
            for s in by_round[number]
            if (display_name is None or s.metric == display_name) and (day is None or s.day == day)
        ]
        if distinct_on_round:
            last_day = max((s.day for s in rows), default=None)
            rows = [s for s in rows if s.day == last_day]
        submission = submissions.get(number)
        for score in sorted(rows, key=lambda s: (s.day, s.metric)):
            result.append(
                t.SubmissionScore(
                    round_id=str(number),
                    submission_id=str(submission.id) if submission else None,
                    round_number=number,
                    round_resolve_time=round_.resolve_time,
                    round_score_time=score_date(round_, 1),
                    round_close_staking_time=round_.close_time,
                    value=finite_or_none(score.value),
                    display_name=score.metric,
                    date=score_date(round_, score.day),
                    day=score.day,
                    resolved=is_resolved,
                    resolve_date=round_.resolved_at,
                )
            )
    return result


def _rank(values: dict[int, float], model_id: int) -> int | None:
    mine = values.get(model_id)
    if mine is None or not math.isfinite(mine):
        return None
    return 1 + sum(1 for v in values.values() if math.isfinite(v) and v > mine)


def daily_performances(ctx: GraphQLContext, model: Model, kind: RoundKind) -> list[t.DailyPerformance]:
    """One entry per resolved round of ``kind`` the model was scored in (oldest first)."""
    rounds = ctx.rounds()
    entered = sorted({s.round_number for s in ctx.service.list_submissions(model=model.id)})
    result = []
    for number in entered:
        round_ = rounds[number]
        if round_.kind is not kind or round_.status is not RoundStatus.RESOLVED or round_.days_scored == 0:
            continue
        final: dict[str, dict[int, float]] = defaultdict(dict)
        for score in ctx.service.scores(round_number=number, day=round_.days_scored):
            final[score.metric][score.model_id] = float(score.value)
        if not any(model.id in values for values in final.values()):
            continue
        entry = t.DailyPerformance(date=round_.resolved_at or round_.resolve_time, round_number=number)
        for metric, field in _DAILY_FIELDS.items():
            values = final.get(metric, {})
            setattr(entry, f"{field}_rep", finite_or_none(values.get(model.id)))
            setattr(entry, f"{field}_rank", _rank(values, model.id))
        if kind is RoundKind.SIGNALS:
            entry.ic_rep, entry.ic_rank = entry.corr_rep, entry.corr_rank
        result.append(entry)
    return result


def _entered_models(ctx: GraphQLContext, kind: RoundKind) -> set[int]:
    rounds = ctx.rounds()
    return {
        s.model_id
        for s in ctx.service.list_submissions()
        if rounds[s.round_number].kind is kind and rounds[s.round_number].status is RoundStatus.RESOLVED
    }


def _board(ctx: GraphQLContext, kind: RoundKind) -> list[LeaderboardRow]:
    entered = _entered_models(ctx, kind)
    return [row for row in leaderboard_rows(ctx.api, limit=10**6, offset=0) if row.model_id in entered]


def _page(rows: list, limit: int, offset: int) -> list:
    return rows[max(offset, 0) : max(offset, 0) + max(min(limit, 1000), 0)]


def _mean(values: list[float | None]) -> float | None:
    finite = [v for v in values if v is not None]
    return sum(finite) / len(finite) if finite else None


def account_leaderboard(
    ctx: GraphQLContext, kind: RoundKind, *, limit: int, offset: int
) -> list[t.AccountLeaderboardEntry]:
    """Accounts of the ``kind`` leaderboard's models, ranked by their best model."""
    by_account: dict[int, list[LeaderboardRow]] = defaultdict(list)
    for row in _board(ctx, kind):
        by_account[ctx.service.get_model(row.model_id).account_id].append(row)
    ordered = sorted(by_account.items(), key=lambda item: min(row.rank for row in item[1]))
    entries = []
    for rank, (account_id, rows) in enumerate(ordered, start=1):
        name = ctx.service.get_account(account_id).name
        entries.append(
            t.AccountLeaderboardEntry(
                username=name,
                display_name=name,
                rank=rank,
                nmr_staked=tokens(sum(tokens_to_units(row.stake) for row in rows)),
                v2_corr20=_mean([row.values.get("corr_20r") for row in rows]),
                mmc=_mean([row.values.get("mmc_20r") for row in rows]),
            )
        )
    return _page(entries, limit, offset)


def signals_leaderboard(ctx: GraphQLContext, *, limit: int, offset: int) -> list[t.SignalsLeaderboardEntry]:
    """The REST leaderboard's rows (same rank, stake and values) of the models that entered Signals."""
    return [
        t.SignalsLeaderboardEntry(
            username=row.model,
            rank=row.rank,
            nmr_staked=row.stake,
            **{field: row.values.get(column) for field, column in _SIGNALS_BOARD.items()},
        )
        for row in _page(_board(ctx, RoundKind.SIGNALS), limit, offset)
    ]


def classic_leaderboard(ctx: GraphQLContext, *, limit: int, offset: int) -> list[t.LeaderboardEntry]:
    """The REST leaderboard's rows (same rank, stake and values) of the models that entered Classic."""
    columns = {**_CLASSIC_BOARD, **_CLASSIC_RETURNS}
    return [
        t.LeaderboardEntry(
            username=row.model,
            rank=row.rank,
            nmr_staked=row.stake,
            **{field: row.values.get(column) for field, column in columns.items()},
        )
        for row in _page(_board(ctx, RoundKind.CLASSIC), limit, offset)
    ]
