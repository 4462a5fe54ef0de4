"""GraphQL object types with the field names and types numerapi 3.1.1 reads.

Amounts are decimal strings of tokens (numerapi parses them with ``Decimal``), ids are strings, times are
ISO 8601. Fields Numerai has and Kardashev does not (wallet addresses, e-mail, payout multipliers …) are
present so numerapi's queries validate, and are null.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, NewType

import strawberry

from kardashev.api.graphql.wallet import WalletTxn, resolve_wallet_txns

__all__ = [
    "SCALARS",
    "Account",
    "AccountLeaderboardEntry",
    "AccountProfile",
    "ApiToken",
    "CreatedId",
    "DailyPerformance",
    "LeaderboardEntry",
    "LowerBool",
    "ModelInfo",
    "ModelPayout",
    "Payouts",
    "ProfileModel",
    "RoundInfo",
    "RoundPerformance",
    "RoundStatusName",
    "ScoreEntry",
    "SignalsLeaderboardEntry",
    "SignalsProfile",
    "StakeRequest",
    "SubmissionInfo",
    "SubmissionScore",
    "UploadAuth",
    "UserProfile",
    "V2Stake",
]

# numerapi's ``stake_drain`` declares ``$drain: bool!`` (lower case): a scalar of that name lets it validate.
LowerBool = NewType("LowerBool", bool)


def _parse_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _utc_iso(moment: dt.datetime) -> str:
    """ISO 8601 with an explicit UTC offset (stored times without one are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).isoformat()


SCALARS: dict[object, Any] = {
    dt.datetime: strawberry.scalar(
        name="DateTime",
        description="Date and time, ISO 8601 in UTC.",
        serialize=_utc_iso,
        parse_value=dt.datetime.fromisoformat,
    ),
    LowerBool: strawberry.scalar(
        name="bool",
        description="A boolean (the type name numerapi's stake_drain declares).",
        serialize=bool,
        parse_value=_parse_bool,
    ),
}


@strawberry.enum(name="RoundStatus")
class RoundStatusName(enum.Enum):
    UPCOMING = "UPCOMING"
    OPEN = "OPEN"
    RESOLVING = "RESOLVING"
    RESOLVED = "RESOLVED"


@strawberry.type
class RoundScoreConfig:
    id: str
    score_config_id: str | None = None
    round_number_start: int | None = None
    round_number_end: int | None = None
    name: str | None = None
    version: str | None = None
    display_name: str | None = None
    total_score_days: int | None = None
    returns_lag_days: int | None = None
    data_delay_days: int | None = None
    universe: str | None = None
    is_canon_score: bool | None = None
    is_payout: bool | None = None
    scoring_start: dt.datetime | None = None
    scoring_end: dt.datetime | None = None
    min_multiplier: float | None = None
    max_multiplier: float | None = None
    default_multiplier: float | None = None
    clip_threshold: float | None = None
    stake_threshold: str | None = None
    payout_factor: str | None = None


@strawberry.type
class RoundInfo:
    id: str
    tournament: int
    number: int
    target: str
    status: RoundStatusName
    open_time: dt.datetime
    close_time: dt.datetime
    close_staking_time: dt.datetime
    score_time: dt.datetime
    resolve_time: dt.datetime
    resolved_general: bool
    resolved_staking: bool
    data_datestamp: int
    payout_factor: str | None = None
    stake_threshold: str | None = None
    round_score_configs: list[RoundScoreConfig] = strawberry.field(default_factory=list)


@strawberry.type
class RoundRef:
    tournament: int
    number: int


@strawberry.type
class SubmissionInfo:
    id: str
    filename: str | None
    inserted_at: dt.datetime
    selected: bool
    round: RoundRef


@strawberry.type
class V2Stake:
    status: str | None
    tx_hash: str | None = None


@strawberry.type
class ModelInfo:
    id: str
    name: str
    tournament: int
    submissions: list[SubmissionInfo]
    v2_stake: V2Stake


@strawberry.type
class ApiToken:
    name: str
    public_id: str = strawberry.field(name="public_id")
    scopes: list[str]


@strawberry.type
class Account:
    id: str
    username: str
    available_nmr: str
    inserted_at: dt.datetime
    models: list[ModelInfo]
    api_tokens: list[ApiToken]
    status: str = "active"
    mfa_enabled: bool = False
    email: str | None = None
    wallet_address: str | None = None
    wallet_txns: list[WalletTxn] = strawberry.field(
        resolver=resolve_wallet_txns, description="Movements of the account's tokens, oldest first."
    )


@strawberry.type
class ProfileModel:
    id: str
    display_name: str


@strawberry.type
class AccountProfile:
    username: str
    models: list[ProfileModel]


@strawberry.type
class DailyPerformance:
    """One resolved round of a model: its final scores (``…Rep``) and ranks among that round's models."""

    date: dt.datetime
    round_number: int
    corr_rep: float | None = None
    corr_rank: int | None = None
    mmc_rep: float | None = None
    mmc_rank: int | None = None
    fnc_rep: float | None = None
    fnc_rank: int | None = None
    fnc_v3_rep: float | None = None
    fnc_v3_rank: int | None = None
    tc_rep: float | None = None
    tc_rank: int | None = None
    ic_rep: float | None = None
    ic_rank: int | None = None
    corr20d_rep: float | None = None
    corr20d_rank: int | None = None
    corr60_rep: float | None = None
    corr60_rank: int | None = None
    mmc20d_rep: float | None = None
    mmc20d_rank: int | None = None


@strawberry.type
class UserProfile:
    id: str
    username: str
    start_date: dt.datetime
    stake_value: str
    nmr_staked: str
    daily_model_performances: list[DailyPerformance]
    bio: str | None = None


@strawberry.type
class SignalsProfile:
    username: str
    daily_model_performances: list[DailyPerformance]


@strawberry.type
class UploadAuth:
    filename: str
    url: str


@strawberry.type
class CreatedId:
    id: str
    first_effective_date: dt.datetime | None = None


@strawberry.type
class StakeRequest:
    """A stake change as numerapi shows it; ``status`` is ``done`` (applied) or ``pending`` (a decrease
    waiting for the rounds holding the stake to resolve, until ``dueDate``)."""

    id: str | None
    type: str
    status: str
    requested_amount: str
    due_date: dt.datetime | None
    drain: bool = False


@strawberry.type
class ScoreEntry:
    date: dt.datetime
    day: int
    display_name: str
    value: float | None
    payout_pending: str | None = None
    payout_settled: str | None = None
    percentile: float | None = None


@strawberry.type
class PayoutMultiplier:
    id: str
    score_config_id: str | None = None
    name: str | None = None
    version: str | None = None
    display_name: str | None = None
    multiplier: float | None = None


@strawberry.type
class RoundPerformance:
    round_number: int
    round_open_time: dt.datetime
    round_resolve_time: dt.datetime
    round_resolved: bool
    round_target: str
    at_risk: str | None
    submission_scores: list[ScoreEntry]
    intra_round_submission_scores: list[ScoreEntry]
    round_payout_factor: str | None = None
    payout_multipliers: list[PayoutMultiplier] = strawberry.field(default_factory=list)


@strawberry.type
class SubmissionScore:
    round_id: str
    submission_id: str | None
    round_number: int
    round_resolve_time: dt.datetime
    round_score_time: dt.datetime
    round_close_staking_time: dt.datetime
    value: float | None
    display_name: str
    date: dt.datetime
    day: int
    resolved: bool
    resolve_date: dt.datetime | None
    version: str | None = None
    percentile: float | None = None


@strawberry.type
class ModelPayout:
    round_id: str
    round_number: int
    round_resolve_time: dt.datetime
    model_id: str
    model_name: str
    model_display_name: str
    payout_nmr: str | None
    payout_value: str | None = None
    currency_symbol: str | None = None


@strawberry.type
class Payouts:
    actual: list[ModelPayout]
    pending: list[ModelPayout]


@strawberry.type
class LeaderboardEntry:
    """A row of the Classic leaderboard (``v2Leaderboard``)."""

    username: str
    rank: int
    nmr_staked: str
    corr20_rep: float | None = None
    corr20_v2_rep: float | None = None
    corj60_rep: float | None = None
    fnc_rep: float | None = None
    fnc_v3_rep: float | None = None
    tc_rep: float | None = None
    mmc_rep: float | None = None
    bmc_rep: float | None = None
    team: bool = False
    return_1_day: float | None = strawberry.field(name="return_1_day", default=None)
    return_13_weeks: float | None = strawberry.field(name="return_13_weeks", default=None)
    return_52_weeks: float | None = strawberry.field(name="return_52_weeks", default=None)


@strawberry.type
class SignalsLeaderboardEntry:
    username: str
    rank: int
    nmr_staked: str
    prev_rank: int | None = None
    sharpe: float | None = None
    today: float | None = None
    mmc: float | None = None
    mmc_rank: int | None = None
    ic_rep: float | None = None
    ic_rank: int | None = None
    tc_rep: float | None = None
    tc_rank: int | None = None


@strawberry.type
class AccountLeaderboardEntry:
    username: str
    display_name: str
    rank: int
    nmr_staked: str
    v2_corr20: float | None = None
    cort20: float | None = None
    cor_j60: float | None = None
    corr_v4: float | None = None
    fnc_v4: float | None = None
    ic_v2: float | None = None
    mmc: float | None = None
    ric: float | None = None
    return1y: float | None = None
    return3m: float | None = None
    return_all_time: float | None = None
    return1y_nmr: str | None = None
    return3m_nmr: str | None = None
    return_all_time_nmr: str | None = None
