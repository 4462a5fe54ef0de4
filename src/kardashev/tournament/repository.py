"""What the tournament service needs from storage (implemented by :mod:`kardashev.store`).

The service never imports the store: it receives a :class:`UnitOfWork` factory.
Each call ``with unit_of_work() as repo:`` opens ONE database transaction that is
committed when the block exits normally and rolled back when it raises, so a
lifecycle step either happens entirely or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

from kardashev.tournament.domain import (
    Account,
    ApiKey,
    DailyScore,
    Model,
    Payout,
    PendingRelease,
    Round,
    StakeSnapshot,
    Submission,
)
from kardashev.tournament.ledger import LedgerTransaction, Posting

if TYPE_CHECKING:
    from kardashev.tournament.replay import StoredReplay, StoredResponse

__all__ = ["TournamentRepository", "UnitOfWork"]


class TournamentRepository(Protocol):
    """Storage operations inside one transaction. ``get_*`` raise NotFoundError when absent."""

    # accounts, models, API keys
    def add_account(self, name: str, *, now: dt.datetime) -> Account: ...
    def get_account(self, account: int | str) -> Account: ...
    def list_accounts(self) -> list[Account]: ...
    def add_model(self, account_id: int, name: str, *, now: dt.datetime) -> Model: ...
    def get_model(self, model: int | str) -> Model: ...
    def list_models(self, *, account_id: int | None = None) -> list[Model]: ...
    def add_api_key(
        self, *, key_id: str, secret_hash: str, scopes: frozenset[str], account_id: int, now: dt.datetime
    ) -> ApiKey: ...
    def get_api_key(self, key_id: str) -> ApiKey: ...
    def list_api_keys(self, *, account_id: int | None = None) -> list[ApiKey]: ...
    def revoke_api_key(self, key_id: str, *, now: dt.datetime) -> ApiKey: ...

    # rounds
    def add_round(self, round_: Round) -> Round: ...
    def get_round(self, number: int, *, for_update: bool = False, for_share: bool = False) -> Round:
        """The round; ``for_update`` locks its row exclusively (lifecycle steps), ``for_share``
        in shared mode (submissions: they do not block each other, but a close waits for them)."""

    def list_rounds(self) -> list[Round]: ...
    def update_round(self, round_: Round) -> Round: ...

    # content-addressed blobs (parquet files in the data directory)
    def put_blob(self, data: bytes, *, kind: str) -> str: ...
    def get_blob(self, sha256: str) -> bytes: ...

    # submissions
    def upsert_submission(
        self,
        *,
        round_number: int,
        model_id: int,
        sha256: str,
        checksum: str,
        n_rows: int,
        submitted_at: dt.datetime,
        late: bool,
        filename: str | None,
    ) -> Submission | None:
        """Insert or atomically replace the one submission of (round, model).

        An on-time submission replaces a previous on-time one (last write wins); a
        late one is stored only when the model has none yet (returns None otherwise).
        """

    def list_submissions(
        self, *, round_number: int | None = None, model_id: int | None = None
    ) -> list[Submission]: ...

    # stakes, scores, payouts
    def add_stake_snapshots(self, snapshots: Sequence[StakeSnapshot]) -> None: ...
    def list_stake_snapshots(
        self, *, round_number: int | None = None, model_id: int | None = None
    ) -> list[StakeSnapshot]: ...
    def add_scores(self, scores: Sequence[DailyScore]) -> None: ...
    def list_scores(
        self, *, round_number: int | None = None, model_id: int | None = None, day: int | None = None
    ) -> list[DailyScore]: ...
    def add_payouts(self, payouts: Sequence[Payout]) -> None: ...
    def list_payouts(
        self, *, round_number: int | None = None, model_id: int | None = None
    ) -> list[Payout]: ...

    # ledger
    def post(
        self,
        postings: Sequence[Posting],
        *,
        kind: str,
        now: dt.datetime,
        round_number: int | None = None,
        memo: str = "",
        idempotency_key: str | None = None,
    ) -> int:
        """Record a balanced transaction, updating balances under row locks.

        Raises InsufficientBalanceError (and writes nothing) if a non-system
        account would go negative, ConflictError (``duplicate_request``) if another
        transaction already used ``idempotency_key``; returns the transaction id.
        """

    def find_transaction_kind(self, idempotency_key: str) -> str | None:
        """The kind of the transaction posted with this idempotency key, None if there is none."""

    def find_transaction(self, idempotency_key: str) -> tuple[str, str] | None:
        """``(kind, memo)`` of the transaction posted with this idempotency key, None if there is none."""

    # replayable requests: the first response of an idempotency key, scoped to the caller's account
    def find_response(self, account_id: int, key: str) -> StoredReplay | None:
        """The response stored for ``key`` in ``account_id``'s scope, None if there is none."""

    def add_response(
        self, *, account_id: int, key: str, request_hash: str, response: StoredResponse, now: dt.datetime
    ) -> None:
        """Store a first response; ConflictError (``duplicate_request``) if the key has one already."""

    def list_ledger_transactions(self, accounts: Collection[str]) -> list[LedgerTransaction]:
        """Transactions with an entry on one of ``accounts``, oldest first, each holding only its
        postings on those accounts (so another account's postings in a shared ``settle`` stay out)."""

    def balance(self, account: str) -> int: ...
    def balances(self, *, prefix: str | None = None) -> dict[str, int]: ...
    def ledger_entry_sums(self) -> dict[int, int]:
        """Σ amount of the entries of every transaction (all zero in a healthy ledger)."""

    def ledger_account_sums(self) -> dict[str, int]:
        """Balances recomputed from the entries (must equal :meth:`balances`)."""

    def add_pending_release(
        self, *, model_id: int, amount: int, requested_at: dt.datetime, release_after_round: int | None
    ) -> PendingRelease: ...
    def list_pending_releases(
        self, *, model_id: int | None = None, unreleased_only: bool = True
    ) -> list[PendingRelease]: ...
    def mark_released(self, release_id: int, *, now: dt.datetime) -> bool:
        """Mark a pending release done; False if it was released already (by a concurrent step)."""


class UnitOfWork(Protocol):
    """Factory of transactions: ``with unit_of_work() as repo: ...`` commits or rolls back.

    ``read_only=True`` marks a transaction that only reads: the store may run it without
    queueing behind writers (and refuses writes in it).
    """

    def __call__(self, *, read_only: bool = False) -> AbstractContextManager[TournamentRepository]: ...
