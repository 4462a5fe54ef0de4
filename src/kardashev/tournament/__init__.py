"""Tournament engine: rounds, submissions, stakes ledger, scoring, payouts, leaderboard and grades.

The lifecycle lives in :class:`TournamentService`, which runs over any storage implementing
:class:`UnitOfWork` (``kardashev.store.Store`` does; this package never imports the store).
"""

from kardashev.tournament.domain import (
    UNITS_PER_TOKEN,
    Account,
    ApiKey,
    DailyScore,
    Model,
    Payout,
    PendingRelease,
    Round,
    RoundKind,
    RoundStatus,
    StakeSnapshot,
    Submission,
    tokens_to_units,
    units_to_tokens,
)
from kardashev.tournament.payout import ChurnRule, PayoutConfig
from kardashev.tournament.repository import TournamentRepository, UnitOfWork
from kardashev.tournament.round_scoring import ROUND_SCORES, RoundScorer, StandardScorer
from kardashev.tournament.round_work import round_day
from kardashev.tournament.service import TournamentService
from kardashev.tournament.service_accounts import LedgerAudit, StakeInfo
from kardashev.tournament.validation import ValidationConfig, validate_submission

__all__ = [
    "ROUND_SCORES",
    "UNITS_PER_TOKEN",
    "Account",
    "ApiKey",
    "ChurnRule",
    "DailyScore",
    "LedgerAudit",
    "Model",
    "Payout",
    "PayoutConfig",
    "PendingRelease",
    "Round",
    "RoundKind",
    "RoundScorer",
    "RoundStatus",
    "StakeInfo",
    "StakeSnapshot",
    "StandardScorer",
    "Submission",
    "TournamentRepository",
    "TournamentService",
    "UnitOfWork",
    "ValidationConfig",
    "round_day",
    "tokens_to_units",
    "units_to_tokens",
    "validate_submission",
]
