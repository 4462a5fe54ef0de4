"""Request and response bodies of the HTTP API (pydantic models; they make the OpenAPI schema).

Token amounts travel as exact decimal strings; ids of stocks and models as strings or integers.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "AccountCreate",
    "AccountOut",
    "AmountIn",
    "ApiKeyCreate",
    "ApiKeyOut",
    "AuditOut",
    "DiagnosticsOut",
    "ErrorBody",
    "ErrorOut",
    "HealthOut",
    "LeaderboardRow",
    "ModelCreate",
    "ModelOut",
    "PayoutOut",
    "ResolvePreviewOut",
    "ResolveStepOut",
    "RoundOpen",
    "RoundOut",
    "RoundPerformance",
    "ScoreDayIn",
    "ScoreRow",
    "ScoreStepOut",
    "StakeOut",
    "StepOut",
    "SubmissionOut",
    "UniverseOut",
    "ValidationDataOut",
]

Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$"
    ),
]
TokenAmount = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=16, pattern=r"^[0-9]{1,9}(\.[0-9]{1,6})?$"
    ),
]
"""Tokens as an exact decimal string: at most 999,999,999.999999 per request."""
Scope = Literal["read", "upload", "stake", "admin"]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    code: str = Field(description="machine-readable error code, e.g. 'duplicate_ids'")
    type: str = Field(description="Kardashev exception class, e.g. 'SubmissionError'")
    message: str
    request_id: str | None


class ErrorOut(BaseModel):
    error: ErrorBody


class HealthOut(_Out):
    status: Literal["ok"]
    version: str


class RoundOut(_Out):
    number: int
    kind: str
    status: str
    target_name: str
    horizon_days: int
    n_universe: int
    open_time: dt.datetime
    close_time: dt.datetime
    late_close_time: dt.datetime
    resolve_time: dt.datetime
    closed_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    days_scored: int = 0
    n_staked_models: int = 0
    n_contributors: int = 0


class UniverseOut(_Out):
    round_number: int
    ids: list[str]


class AccountOut(_Out):
    id: int
    name: str
    created_at: dt.datetime
    wallet_balance: str = Field(description="tokens free to stake (exact decimal string)")


class WalletTransactionOut(_Out):
    transaction_id: int = Field(description="the ledger transaction (one may move several of your holdings)")
    kind: str = Field(
        description="deposit, stake_increase, stake_decrease, release, payout or burn (round settlement)"
    )
    source: str = Field(description="ledger account the tokens left, e.g. 'wallet:3', 'payout_pool'")
    destination: str = Field(description="ledger account the tokens went to, e.g. 'stake:7', 'burn'")
    amount: str = Field(description="tokens moved (exact decimal string, > 0)")
    time: dt.datetime
    round_number: int | None = None
    model_id: int | None = None


class ModelOut(_Out):
    id: int
    name: str
    account_id: int
    created_at: dt.datetime


class ModelCreate(_In):
    name: Name


class SubmissionOut(_Out):
    id: int
    round_number: int
    model_id: int
    sha256: str = Field(description="content address of the stored (validated) predictions")
    checksum: str = Field(description="checksum of the submitted content: same predictions, same checksum")
    n_rows: int
    submitted_at: dt.datetime
    late: bool
    filename: str | None = None


class AmountIn(_In):
    amount: TokenAmount = Field(description="tokens, as an exact decimal string with at most 6 decimals")


class StakeOut(_Out):
    model_id: int
    stake: str = Field(description="current stake (exact decimal string of tokens)")
    at_risk: str = Field(description="stake escrowed in closed, unresolved rounds")
    pending_release: str = Field(description="decreases waiting for their rounds to resolve")
    wallet_balance: str


class ScoreRow(_Out):
    round_number: int
    day: int
    metric: str
    value: float | None


class RoundPerformance(_Out):
    round_number: int
    round_status: str
    days_scored: int
    latest: dict[str, float | None] = Field(description="latest daily value of each metric")
    stake: str | None = Field(description="stake frozen at close (None when not staked)")
    payout: str | None = Field(description="payout (negative: burn) once the round resolved")
    payout_fraction: float | None = None


class DiagnosticsOut(_Out):
    n_eras: int
    n_rows: int
    metrics: dict[str, float | None]
    per_era: list[dict[str, float | str | None]]


class LeaderboardRow(_Out):
    model: str
    model_id: int
    rank: int
    stake: str
    values: dict[str, float | None]


class AccountCreate(_In):
    name: Name
    deposit: TokenAmount | None = Field(default=None, description="tokens minted into the new wallet")


class ApiKeyCreate(_In):
    scopes: list[Scope] = Field(min_length=1, max_length=4)


class ApiKeyOut(_Out):
    public_id: str
    secret_key: str | None = Field(description="shown once, at creation; only its hash is stored")
    scopes: list[str]
    account_id: int
    created_at: dt.datetime
    revoked: bool = False


class ValidationDataOut(_Out):
    n_rows: int
    n_eras: int
    n_features: int
    sha256: str


def _check_time(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    if not _EARLIEST <= value <= _LATEST:
        raise ValueError("times must lie between the years 2000 and 2200")
    return value


_EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
_LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.timezone.utc)
Time = Annotated[dt.datetime, AfterValidator(_check_time)]
StockId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class RoundOpen(_In):
    kind: Literal["classic", "signals"] = "classic"
    number: int | None = Field(default=None, ge=1, le=2**31 - 1, description="default: the next number")
    ids: list[StockId] = Field(
        min_length=1, max_length=200_000, description="the live universe (ids or tickers)"
    )
    close_time: Time = Field(description="end of on-time submissions")
    open_time: Time | None = Field(default=None, description="default: now")
    late_close_time: Time | None = Field(
        default=None, description="end of late submissions (default close + 1 day)"
    )
    resolve_time: Time | None = Field(default=None, description="default: close + horizon_days")
    target_name: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "target"
    horizon_days: int = Field(default=20, ge=1, le=366)


class ScoreDayIn(_In):
    """The market data known on one scoring day; every array has one entry (row) per id."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    day: int = Field(ge=1, le=366)
    ids: list[StockId] = Field(min_length=1, max_length=200_000)
    target: list[float]
    realized_returns: list[float] | None = None
    exposures: list[list[float]] | None = None
    features: list[list[float]] | None = None

    @model_validator(mode="after")
    def _same_lengths(self) -> ScoreDayIn:
        n = len(self.ids)
        for name in ("target", "realized_returns", "exposures", "features"):
            values = getattr(self, name)
            if values is not None and len(values) != n:
                raise ValueError(f"{name} has {len(values)} entries but there are {n} ids")
        for name in ("exposures", "features"):
            rows = getattr(self, name)
            if rows is not None and (len({len(row) for row in rows}) != 1 or len(rows[0]) == 0):
                raise ValueError(f"{name} must be a non-empty matrix: every row the same length")
        if len(set(self.ids)) != n:
            raise ValueError("ids must be unique")
        return self


class StepOut(_Out):
    round: RoundOut


class ScoreStepOut(StepOut):
    n_scores: int


class PayoutOut(_Out):
    model_id: int
    stake: str
    payout_fraction: float | None
    amount: str


class ResolveStepOut(StepOut):
    payouts: list[PayoutOut]


class ResolvePreviewOut(_Out):
    """What resolving the round would do; nothing was written."""

    round_number: int
    already_resolved: bool = Field(description="the round is resolved: these are the payouts it made")
    payouts: list[PayoutOut]
    total_minted: str = Field(description="tokens the payouts would mint")
    total_burned: str = Field(description="tokens the burns would destroy")
    net: str = Field(description="minted minus burned")


class AuditOut(_Out):
    ok: bool
    n_transactions: int
    unbalanced_transactions: list[int]
    mismatched_accounts: list[str]
    negative_accounts: list[str]
    circulating: str
    minted: str
    burned: str
