"""Tournament records: accounts, models, rounds, submissions, stakes, scores, payouts.

Plain frozen dataclasses, independent of any database: the store layer maps its
rows onto them. Token amounts are integers in *units* (``UNITS_PER_TOKEN`` units
make one token), so balances are exact; convert at the edges with
:func:`tokens_to_units` / :func:`units_to_tokens`.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from kardashev.errors import InvalidInputError

__all__ = [
    "UNITS_PER_TOKEN",
    "Account",
    "ApiKey",
    "DailyScore",
    "Model",
    "Payout",
    "PendingRelease",
    "Round",
    "RoundKind",
    "RoundStatus",
    "StakeSnapshot",
    "Submission",
    "tokens_to_units",
    "units_to_tokens",
]

UNITS_PER_TOKEN = 1_000_000
"""Integer ledger units per token (micro-tokens)."""


def tokens_to_units(tokens: str | int | Decimal) -> int:
    """Convert a token amount (``"12.5"``) to integer units, exactly; more than 6 decimals is an error."""
    if isinstance(tokens, float):
        raise InvalidInputError("token amounts must be given as a string or Decimal, not a float")
    try:
        value = Decimal(str(tokens).strip())
    except InvalidOperation as exc:
        raise InvalidInputError(f"not a token amount: {tokens!r}") from exc
    if not value.is_finite():
        raise InvalidInputError(f"not a finite token amount: {tokens!r}")
    units = value * UNITS_PER_TOKEN
    if units != units.to_integral_value():
        raise InvalidInputError(f"token amount {tokens!r} has more than 6 decimal places")
    return int(units)


def units_to_tokens(units: int) -> Decimal:
    """Integer units as an exact decimal number of tokens."""
    return Decimal(int(units)) / UNITS_PER_TOKEN


class RoundKind(str, enum.Enum):
    """Tournament kind: Classic (obfuscated features, ``id``), Signals (tickers) or Crypto (``symbol``)."""

    CLASSIC = "classic"
    SIGNALS = "signals"
    CRYPTO = "crypto"


class RoundStatus(str, enum.Enum):
    """Lifecycle state of a round: open → closed (scored daily) → resolved."""

    OPEN = "open"
    CLOSED = "closed"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Model:
    id: int
    account_id: int
    name: str
    created_at: dt.datetime


@dataclass(frozen=True)
class ApiKey:
    """An API key: public ``key_id``, the hash of its secret (hashed by the API layer), scopes."""

    id: int
    key_id: str
    secret_hash: str
    scopes: frozenset[str]
    account_id: int
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class Round:
    """A tournament round.

    Submissions before ``close_time`` are on time (staked, in the meta model); until
    ``late_close_time`` they are accepted as late (scored only). Scores arrive day by
    day for ``horizon_days`` days; the round resolves after the last one.
    """

    number: int
    kind: RoundKind
    universe_sha256: str
    n_universe: int
    target_name: str
    horizon_days: int
    open_time: dt.datetime
    close_time: dt.datetime
    late_close_time: dt.datetime
    resolve_time: dt.datetime
    status: RoundStatus
    closed_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    days_scored: int = 0
    meta_model_sha256: str | None = None
    naive_meta_model_sha256: str | None = None
    predictions_sha256: str | None = None  # the on-time prediction matrix stored at close
    n_staked_models: int = 0
    n_contributors: int = 0


@dataclass(frozen=True)
class Submission:
    """A stored submission: ``sha256`` names the parquet blob of the validated predictions,
    ``checksum`` is the validator's checksum of the submitted content."""

    id: int
    round_number: int
    model_id: int
    sha256: str
    checksum: str
    n_rows: int
    submitted_at: dt.datetime
    late: bool
    filename: str | None = None


@dataclass(frozen=True)
class StakeSnapshot:
    """Stake of a model in a round, frozen at close: ``stake`` drives payouts and
    meta-model weights; ``at_risk`` (≥ the largest possible burn) is escrowed."""

    round_number: int
    model_id: int
    stake: int
    at_risk: int


@dataclass(frozen=True)
class DailyScore:
    round_number: int
    model_id: int
    day: int
    metric: str
    value: float


@dataclass(frozen=True)
class Payout:
    """Settlement of one model in one round: ``amount`` > 0 minted, < 0 burned (units)."""

    round_number: int
    model_id: int
    stake: int
    payout_fraction: float
    amount: int


@dataclass(frozen=True)
class PendingRelease:
    """A stake decrease waiting for the rounds holding that stake to resolve."""

    id: int
    model_id: int
    amount: int
    requested_at: dt.datetime
    release_after_round: int | None
    released_at: dt.datetime | None
