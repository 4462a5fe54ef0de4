"""Conversions between tournament records and API bodies (token units ↔ decimal strings)."""

from __future__ import annotations

import math

from kardashev.api import schemas
from kardashev.errors import InvalidInputError
from kardashev.tournament.domain import Round, tokens_to_units, units_to_tokens

__all__ = ["finite_or_none", "round_out", "tokens", "units"]


def tokens(units_amount: int) -> str:
    """Integer ledger units as an exact decimal string of tokens (``1500000`` → ``"1.5"``)."""
    text = format(units_to_tokens(units_amount), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def units(amount: str) -> int:
    """A positive decimal token string as integer units; InvalidInputError otherwise."""
    value = tokens_to_units(amount)
    if value <= 0:
        raise InvalidInputError(f"the amount must be positive, got {amount!r}", code="invalid_amount")
    return value


def finite_or_none(value: float | None) -> float | None:
    """JSON has no NaN or infinity: such values travel as null."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def round_out(round_: Round) -> schemas.RoundOut:
    return schemas.RoundOut(
        number=round_.number,
        kind=round_.kind.value,
        status=round_.status.value,
        target_name=round_.target_name,
        horizon_days=round_.horizon_days,
        n_universe=round_.n_universe,
        open_time=round_.open_time,
        close_time=round_.close_time,
        late_close_time=round_.late_close_time,
        resolve_time=round_.resolve_time,
        closed_at=round_.closed_at,
        resolved_at=round_.resolved_at,
        days_scored=round_.days_scored,
        n_staked_models=round_.n_staked_models,
        n_contributors=round_.n_contributors,
    )
