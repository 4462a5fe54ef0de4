"""Conversions between stored rows and the tournament's domain records (UTC times, ids)."""

from __future__ import annotations

import datetime as dt
import numbers

from kardashev.store import models as m
from kardashev.tournament.domain import (
    Account,
    ApiKey,
    Model,
    Round,
    RoundKind,
    RoundStatus,
    Submission,
)

__all__ = [
    "ROUND_FIELDS",
    "ROUND_TIMES",
    "is_id",
    "to_account",
    "to_api_key",
    "to_model",
    "to_round",
    "to_submission",
    "utc",
    "utc_or_none",
]


def utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back naive: they were stored as UTC."""
    return (
        moment.replace(tzinfo=dt.timezone.utc)
        if moment.tzinfo is None
        else moment.astimezone(dt.timezone.utc)
    )


def utc_or_none(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else utc(moment)


def is_id(key: object) -> bool:
    """Integers (numpy ones too) are ids; strings are names."""
    return isinstance(key, numbers.Integral) and not isinstance(key, bool)


def to_account(row: m.AccountRow) -> Account:
    return Account(row.id, row.name, utc(row.created_at))


def to_model(row: m.ModelRow) -> Model:
    return Model(row.id, row.account_id, row.name, utc(row.created_at))


def to_api_key(row: m.ApiKeyRow) -> ApiKey:
    return ApiKey(
        row.id,
        row.key_id,
        row.secret_hash,
        frozenset(row.scopes.split()),
        row.account_id,
        utc(row.created_at),
        utc_or_none(row.revoked_at),
    )


ROUND_FIELDS = (
    "number",
    "universe_sha256",
    "n_universe",
    "target_name",
    "horizon_days",
    "days_scored",
    "meta_model_sha256",
    "naive_meta_model_sha256",
    "predictions_sha256",
    "n_staked_models",
    "n_contributors",
)
ROUND_TIMES = ("open_time", "close_time", "late_close_time", "resolve_time", "closed_at", "resolved_at")


def to_round(row: m.RoundRow) -> Round:
    values = {name: getattr(row, name) for name in ROUND_FIELDS}
    values.update({name: utc_or_none(getattr(row, name)) for name in ROUND_TIMES})
    return Round(kind=RoundKind(row.kind), status=RoundStatus(row.status), **values)


def to_submission(row: m.SubmissionRow) -> Submission:
    return Submission(
        row.id,
        row.round_number,
        row.model_id,
        row.sha256,
        row.checksum,
        row.n_rows,
        utc(row.submitted_at),
        bool(row.late),
        row.filename,
    )
