"""SQLAlchemy 2 ORM tables of the tournament (schema changes go through Alembic migrations)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AccountRow",
    "ApiKeyRow",
    "Base",
    "BlobRow",
    "IdempotentResponseRow",
    "LedgerBalanceRow",
    "LedgerEntryRow",
    "LedgerTransactionRow",
    "ModelRow",
    "PayoutRow",
    "PendingReleaseRow",
    "RoundRow",
    "ScoreRow",
    "StakeSnapshotRow",
    "SubmissionRow",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class AccountRow(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(100), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(500))
    scopes: Mapped[str] = mapped_column(String(500))  # space-separated, sorted
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(Timestamp, nullable=True)


class ModelRow(Base):
    __tablename__ = "models"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class BlobRow(Base):
    """A content-addressed file in the data directory (``sha256`` of its bytes)."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(BigInteger)


class RoundRow(Base):
    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed', 'resolved')", name="status"),
        CheckConstraint("kind IN ('classic', 'signals')", name="kind"),
        CheckConstraint("horizon_days >= 1", name="horizon"),
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20))
    universe_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    n_universe: Mapped[int] = mapped_column(Integer)
    target_name: Mapped[str] = mapped_column(String(200))
    horizon_days: Mapped[int] = mapped_column(Integer)
    open_time: Mapped[dt.datetime] = mapped_column(Timestamp)
    close_time: Mapped[dt.datetime] = mapped_column(Timestamp)
    late_close_time: Mapped[dt.datetime] = mapped_column(Timestamp)
    resolve_time: Mapped[dt.datetime] = mapped_column(Timestamp)
    status: Mapped[str] = mapped_column(String(20), index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp, nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(Timestamp, nullable=True)
    days_scored: Mapped[int] = mapped_column(Integer, default=0)
    meta_model_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), nullable=True)
    naive_meta_model_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), nullable=True)
    predictions_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), nullable=True)
    n_staked_models: Mapped[int] = mapped_column(Integer, default=0)
    n_contributors: Mapped[int] = mapped_column(Integer, default=0)


class SubmissionRow(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("round_number", "model_id", name="uq_submissions_round_model"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_number: Mapped[int] = mapped_column(ForeignKey("rounds.number"))
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    checksum: Mapped[str] = mapped_column(String(64))
    n_rows: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    late: Mapped[bool] = mapped_column(Boolean)
    filename: Mapped[str | None] = mapped_column(String(500), nullable=True)


class StakeSnapshotRow(Base):
    __tablename__ = "stake_snapshots"
    __table_args__ = (CheckConstraint("stake >= 0 AND at_risk >= 0", name="non_negative"),)
    round_number: Mapped[int] = mapped_column(ForeignKey("rounds.number"), primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True)
    stake: Mapped[int] = mapped_column(BigInteger)
    at_risk: Mapped[int] = mapped_column(BigInteger)


class ScoreRow(Base):
    __tablename__ = "scores"
    round_number: Mapped[int] = mapped_column(ForeignKey("rounds.number"), primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)


class PayoutRow(Base):
    __tablename__ = "payouts"
    round_number: Mapped[int] = mapped_column(ForeignKey("rounds.number"), primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True)
    stake: Mapped[int] = mapped_column(BigInteger)
    payout_fraction: Mapped[float] = mapped_column(Float)
    amount: Mapped[int] = mapped_column(BigInteger)


class LedgerTransactionRow(Base):
    __tablename__ = "ledger_transactions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    round_number: Mapped[int | None] = mapped_column(ForeignKey("rounds.number"), nullable=True)
    memo: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    # A client's retry of the same request carries the same key: unique, so it posts once.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)


class IdempotentResponseRow(Base):
    """The first response of a replayable request, stored with the money move it answered (same
    transaction); a retry with the same key in the same caller's account gets it back byte for byte."""

    __tablename__ = "idempotent_responses"
    __table_args__ = (
        UniqueConstraint("account_id", "idempotency_key", name="uq_idempotent_responses_account_key"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))  # the caller's account: the scope
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class LedgerEntryRow(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_account", "account"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account: Mapped[str] = mapped_column(String(100))
    amount: Mapped[int] = mapped_column(BigInteger)


class LedgerBalanceRow(Base):
    """Running balance per ledger account (row-locked while posting); the database itself
    refuses a negative balance for any account but the payout pool (the mint)."""

    __tablename__ = "ledger_balances"
    __table_args__ = (CheckConstraint("balance >= 0 OR account = 'payout_pool'", name="non_negative"),)
    account: Mapped[str] = mapped_column(String(100), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger)


class PendingReleaseRow(Base):
    __tablename__ = "pending_releases"
    __table_args__ = (CheckConstraint("amount > 0", name="positive"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    requested_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    release_after_round: Mapped[int | None] = mapped_column(Integer, nullable=True)
    released_at: Mapped[dt.datetime | None] = mapped_column(Timestamp, nullable=True)
