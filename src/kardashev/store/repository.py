"""SQL implementation of :class:`kardashev.tournament.repository.TournamentRepository`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kardashev.errors import ConflictError, InsufficientBalanceError, NotFoundError
from kardashev.store import models as m
from kardashev.store.blobs import BlobStore
from kardashev.store.convert import (
    ROUND_FIELDS,
    ROUND_TIMES,
    is_id,
    to_account,
    to_api_key,
    to_model,
    to_round,
    to_submission,
    utc,
    utc_or_none,
)
from kardashev.tournament import ledger
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
    units_to_tokens,
)
from kardashev.tournament.ledger import LedgerTransaction, Posting
from kardashev.tournament.replay import StoredReplay, StoredResponse

__all__ = ["SqlRepository"]


class SqlRepository:
    """Repository over one SQLAlchemy session (one transaction) and the blob directory."""

    def __init__(self, session: Session, blobs: BlobStore) -> None:
        self.session = session
        self.blobs = blobs

    def _insert(self, table):  # type: ignore[no-untyped-def]
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    def _add(self, row: m.Base, what: str) -> None:
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError as exc:
            raise ConflictError(f"{what} exists already", code="exists") from exc

    # ------------------------------------------------------------ accounts, models, keys
    def add_account(self, name: str, *, now: dt.datetime) -> Account:
        row = m.AccountRow(name=name, created_at=now)
        self._add(row, f"account {name!r}")
        return to_account(row)

    def get_account(self, account: int | str) -> Account:
        column = m.AccountRow.id if is_id(account) else m.AccountRow.name
        row = self.session.scalar(select(m.AccountRow).where(column == account))
        if row is None:
            raise NotFoundError(f"no account {account!r}")
        return to_account(row)

    def list_accounts(self) -> list[Account]:
        return [to_account(r) for r in self.session.scalars(select(m.AccountRow).order_by(m.AccountRow.id))]

    def add_model(self, account_id: int, name: str, *, now: dt.datetime) -> Model:
        row = m.ModelRow(account_id=account_id, name=name, created_at=now)
        self._add(row, f"model {name!r}")
        return to_model(row)

    def get_model(self, model: int | str) -> Model:
        column = m.ModelRow.id if is_id(model) else m.ModelRow.name
        row = self.session.scalar(select(m.ModelRow).where(column == model))
        if row is None:
            raise NotFoundError(f"no model {model!r}")
        return to_model(row)

    def list_models(self, *, account_id: int | None = None) -> list[Model]:
        query = select(m.ModelRow).order_by(m.ModelRow.id)
        if account_id is not None:
            query = query.where(m.ModelRow.account_id == account_id)
        return [to_model(r) for r in self.session.scalars(query)]

    def add_api_key(
        self, *, key_id: str, secret_hash: str, scopes: frozenset[str], account_id: int, now: dt.datetime
    ) -> ApiKey:
        row = m.ApiKeyRow(
            key_id=key_id,
            secret_hash=secret_hash,
            scopes=" ".join(sorted(scopes)),
            account_id=account_id,
            created_at=now,
        )
        self._add(row, f"API key {key_id!r}")
        return to_api_key(row)

    def _api_key_row(self, key_id: str) -> m.ApiKeyRow:
        row = self.session.scalar(select(m.ApiKeyRow).where(m.ApiKeyRow.key_id == key_id))
        if row is None:
            raise NotFoundError(f"no API key {key_id!r}")
        return row

    def get_api_key(self, key_id: str) -> ApiKey:
        return to_api_key(self._api_key_row(key_id))

    def list_api_keys(self, *, account_id: int | None = None) -> list[ApiKey]:
        query = select(m.ApiKeyRow).order_by(m.ApiKeyRow.id)
        if account_id is not None:
            query = query.where(m.ApiKeyRow.account_id == account_id)
        return [to_api_key(r) for r in self.session.scalars(query)]

    def revoke_api_key(self, key_id: str, *, now: dt.datetime) -> ApiKey:
        row = self._api_key_row(key_id)
        if row.revoked_at is None:
            row.revoked_at = now
            self.session.flush()
        return to_api_key(row)

    # ------------------------------------------------------------ rounds
    def add_round(self, round_: Round) -> Round:
        values = {name: getattr(round_, name) for name in (*ROUND_FIELDS, *ROUND_TIMES)}
        row = m.RoundRow(kind=round_.kind.value, status=round_.status.value, **values)
        self._add(row, f"round {round_.number}")
        return to_round(row)

    def get_round(self, number: int, *, for_update: bool = False, for_share: bool = False) -> Round:
        query = select(m.RoundRow).where(m.RoundRow.number == number)
        if for_update:
            query = query.with_for_update()
        elif for_share:
            query = query.with_for_update(read=True)
        row = self.session.scalar(query.execution_options(populate_existing=True))
        if row is None:
            raise NotFoundError(f"no round {number}")
        return to_round(row)

    def list_rounds(self) -> list[Round]:
        return [to_round(r) for r in self.session.scalars(select(m.RoundRow).order_by(m.RoundRow.number))]

    def update_round(self, round_: Round) -> Round:
        values = {name: getattr(round_, name) for name in (*ROUND_FIELDS, *ROUND_TIMES) if name != "number"}
        self.session.execute(
            update(m.RoundRow)
            .where(m.RoundRow.number == round_.number)
            .values(kind=round_.kind.value, status=round_.status.value, **values)
        )
        return self.get_round(round_.number)

    # ------------------------------------------------------------ blobs
    def put_blob(self, data: bytes, *, kind: str) -> str:
        sha256 = self.blobs.put(data)  # the file exists before any row can reference it
        self.session.execute(
            self._insert(m.BlobRow).values(sha256=sha256, kind=kind, size=len(data)).on_conflict_do_nothing()
        )
        return sha256

    def get_blob(self, sha256: str) -> bytes:
        return self.blobs.get(sha256)

    # ------------------------------------------------------------ submissions
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
        values = dict(
            round_number=round_number,
            model_id=model_id,
            sha256=sha256,
            checksum=checksum,
            n_rows=n_rows,
            submitted_at=submitted_at,
            late=late,
            filename=filename,
        )
        insert = self._insert(m.SubmissionRow).values(**values)
        if late:
            statement = insert.on_conflict_do_nothing(index_elements=["round_number", "model_id"])
        else:  # one atomic statement: the unique (round, model) row is inserted or replaced
            excluded = insert.excluded
            statement = insert.on_conflict_do_update(
                index_elements=["round_number", "model_id"],
                set_={k: getattr(excluded, k) for k in values if k not in ("round_number", "model_id")},
                where=m.SubmissionRow.late.is_(False),
            )
        new_id = self.session.execute(statement.returning(m.SubmissionRow.id)).scalar()
        if new_id is None:
            return None
        row = self.session.scalar(
            select(m.SubmissionRow)
            .where(m.SubmissionRow.id == new_id)
            .execution_options(populate_existing=True)
        )
        if row is None:  # pragma: no cover - the row was just written in this transaction
            raise NotFoundError(f"submission {new_id} vanished")
        return to_submission(row)

    def list_submissions(
        self, *, round_number: int | None = None, model_id: int | None = None
    ) -> list[Submission]:
        query = select(m.SubmissionRow).order_by(m.SubmissionRow.round_number, m.SubmissionRow.model_id)
        if round_number is not None:
            query = query.where(m.SubmissionRow.round_number == round_number)
        if model_id is not None:
            query = query.where(m.SubmissionRow.model_id == model_id)
        return [
            to_submission(r) for r in self.session.scalars(query.execution_options(populate_existing=True))
        ]

    # ------------------------------------------------------------ stakes, scores, payouts
    def add_stake_snapshots(self, snapshots: Sequence[StakeSnapshot]) -> None:
        self.session.add_all(
            m.StakeSnapshotRow(
                round_number=s.round_number, model_id=s.model_id, stake=s.stake, at_risk=s.at_risk
            )
            for s in snapshots
        )
        self.session.flush()

    def list_stake_snapshots(
        self, *, round_number: int | None = None, model_id: int | None = None
    ) -> list[StakeSnapshot]:
        query = select(m.StakeSnapshotRow).order_by(
            m.StakeSnapshotRow.round_number, m.StakeSnapshotRow.model_id
        )
        if round_number is not None:
            query = query.where(m.StakeSnapshotRow.round_number == round_number)
        if model_id is not None:
            query = query.where(m.StakeSnapshotRow.model_id == model_id)
        return [
            StakeSnapshot(r.round_number, r.model_id, r.stake, r.at_risk) for r in self.session.scalars(query)
        ]

    def add_scores(self, scores: Sequence[DailyScore]) -> None:
        self.session.add_all(
            m.ScoreRow(
                round_number=s.round_number,
                model_id=s.model_id,
                day=s.day,
                metric=s.metric,
                value=s.value if s.value == s.value else None,
            )  # NaN stored as NULL
            for s in scores
        )
        self.session.flush()

    def list_scores(
        self, *, round_number: int | None = None, model_id: int | None = None, day: int | None = None
    ) -> list[DailyScore]:
        query = select(m.ScoreRow).order_by(
            m.ScoreRow.round_number, m.ScoreRow.day, m.ScoreRow.model_id, m.ScoreRow.metric
        )
        for column, value in (
            (m.ScoreRow.round_number, round_number),
            (m.ScoreRow.model_id, model_id),
            (m.ScoreRow.day, day),
        ):
            if value is not None:
                query = query.where(column == value)
        return [
            DailyScore(
                r.round_number, r.model_id, r.day, r.metric, float("nan") if r.value is None else r.value
            )
            for r in self.session.scalars(query)
        ]

    def add_payouts(self, payouts: Sequence[Payout]) -> None:
        self.session.add_all(
            m.PayoutRow(
                round_number=p.round_number,
                model_id=p.model_id,
                stake=p.stake,
                payout_fraction=p.payout_fraction,
                amount=p.amount,
            )
            for p in payouts
        )
        self.session.flush()

    def list_payouts(self, *, round_number: int | None = None, model_id: int | None = None) -> list[Payout]:
        query = select(m.PayoutRow).order_by(m.PayoutRow.round_number, m.PayoutRow.model_id)
        if round_number is not None:
            query = query.where(m.PayoutRow.round_number == round_number)
        if model_id is not None:
            query = query.where(m.PayoutRow.model_id == model_id)
        return [
            Payout(r.round_number, r.model_id, r.stake, r.payout_fraction, r.amount)
            for r in self.session.scalars(query)
        ]

    # ------------------------------------------------------------ ledger
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
        ledger.check_balanced(postings)
        deltas: dict[str, int] = {}
        for posting in postings:
            deltas[posting.account] = deltas.get(posting.account, 0) + posting.amount
        accounts = sorted(deltas)  # fixed lock order: concurrent posters cannot deadlock
        for account in accounts:
            self.session.execute(
                self._insert(m.LedgerBalanceRow).values(account=account, balance=0).on_conflict_do_nothing()
            )
        current = dict(
            self.session.execute(
                select(m.LedgerBalanceRow.account, m.LedgerBalanceRow.balance)
                .where(m.LedgerBalanceRow.account.in_(accounts))
                .order_by(m.LedgerBalanceRow.account)
                .with_for_update()
            ).all()
        )
        new_balances = {account: int(current[account]) + deltas[account] for account in accounts}
        for account, balance in new_balances.items():
            if balance < 0 and account != ledger.PAYOUT_POOL:
                raise InsufficientBalanceError(
                    f"not enough tokens for this {kind.replace('_', ' ')}: {account} holds "
                    f"{units_to_tokens(current[account])} tokens, {units_to_tokens(-deltas[account])} needed"
                )
        transaction = m.LedgerTransactionRow(
            kind=kind, round_number=round_number, memo=memo, created_at=now, idempotency_key=idempotency_key
        )
        try:
            with self.session.begin_nested():
                self.session.add(transaction)
                self.session.flush()
        except IntegrityError as exc:  # the same key committed concurrently: the retry must re-read
            raise ConflictError(
                f"a request with idempotency key {idempotency_key!r} is being or was processed",
                code="duplicate_request",
            ) from exc
        self.session.add_all(
            m.LedgerEntryRow(transaction_id=transaction.id, account=p.account, amount=p.amount)
            for p in postings
        )
        self.session.flush()
        for account in accounts:
            self.session.execute(
                update(m.LedgerBalanceRow)
                .where(m.LedgerBalanceRow.account == account)
                .values(balance=m.LedgerBalanceRow.balance + deltas[account])
                .execution_options(synchronize_session=False)
            )
        return transaction.id

    def find_transaction_kind(self, idempotency_key: str) -> str | None:
        return self.session.scalar(
            select(m.LedgerTransactionRow.kind).where(
                m.LedgerTransactionRow.idempotency_key == idempotency_key
            )
        )

    def find_transaction(self, idempotency_key: str) -> tuple[str, str] | None:
        row = self.session.execute(
            select(m.LedgerTransactionRow.kind, m.LedgerTransactionRow.memo).where(
                m.LedgerTransactionRow.idempotency_key == idempotency_key
            )
        ).first()
        return None if row is None else (str(row[0]), str(row[1] or ""))

    def find_response(self, account_id: int, key: str) -> StoredReplay | None:
        row = self.session.scalar(
            select(m.IdempotentResponseRow)
            .where(
                m.IdempotentResponseRow.account_id == account_id,
                m.IdempotentResponseRow.idempotency_key == key,
            )
            .execution_options(populate_existing=True)
        )
        if row is None:
            return None
        return StoredReplay(row.request_hash, StoredResponse(int(row.status_code), bytes(row.body)))

    def add_response(
        self, *, account_id: int, key: str, request_hash: str, response: StoredResponse, now: dt.datetime
    ) -> None:
        row = m.IdempotentResponseRow(
            account_id=account_id,
            idempotency_key=key,
            request_hash=request_hash,
            status_code=response.status_code,
            body=response.body,
            created_at=now,
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError as exc:  # the same key committed concurrently: the retry must re-read
            raise ConflictError(
                f"a request with idempotency key {key!r} is being or was processed", code="duplicate_request"
            ) from exc

    def list_ledger_transactions(self, accounts: Collection[str]) -> list[LedgerTransaction]:
        names = sorted({str(a) for a in accounts})
        if not names:
            return []
        rows = self.session.execute(
            select(
                m.LedgerTransactionRow.id,
                m.LedgerTransactionRow.kind,
                m.LedgerTransactionRow.created_at,
                m.LedgerTransactionRow.round_number,
                m.LedgerEntryRow.account,
                m.LedgerEntryRow.amount,
            )
            .join(m.LedgerEntryRow, m.LedgerEntryRow.transaction_id == m.LedgerTransactionRow.id)
            .where(m.LedgerEntryRow.account.in_(names))
            .order_by(m.LedgerTransactionRow.id, m.LedgerEntryRow.id)
        ).all()
        found: dict[int, tuple[str, dt.datetime, int | None, list[Posting]]] = {}
        for tx_id, kind, created_at, round_number, account, amount in rows:
            found.setdefault(tx_id, (kind, utc(created_at), round_number, []))[3].append(
                Posting(account, int(amount))
            )
        return [
            LedgerTransaction(tx_id, kind, created_at, round_number, tuple(postings))
            for tx_id, (kind, created_at, round_number, postings) in found.items()
        ]

    def balance(self, account: str) -> int:
        value = self.session.scalar(
            select(m.LedgerBalanceRow.balance).where(m.LedgerBalanceRow.account == account)
        )
        return int(value or 0)

    def balances(self, *, prefix: str | None = None) -> dict[str, int]:
        query = select(m.LedgerBalanceRow.account, m.LedgerBalanceRow.balance)
        if prefix is not None:
            query = query.where(m.LedgerBalanceRow.account.startswith(prefix, autoescape=True))
        return {account: int(balance) for account, balance in self.session.execute(query)}

    def ledger_entry_sums(self) -> dict[int, int]:
        query = (
            select(m.LedgerTransactionRow.id, func.coalesce(func.sum(m.LedgerEntryRow.amount), 0))
            .outerjoin(m.LedgerEntryRow, m.LedgerEntryRow.transaction_id == m.LedgerTransactionRow.id)
            .group_by(m.LedgerTransactionRow.id)
        )
        return {int(t): int(s) for t, s in self.session.execute(query)}

    def ledger_account_sums(self) -> dict[str, int]:
        query = select(m.LedgerEntryRow.account, func.sum(m.LedgerEntryRow.amount)).group_by(
            m.LedgerEntryRow.account
        )
        return {a: int(s) for a, s in self.session.execute(query)}

    def add_pending_release(
        self, *, model_id: int, amount: int, requested_at: dt.datetime, release_after_round: int | None
    ) -> PendingRelease:
        row = m.PendingReleaseRow(
            model_id=model_id,
            amount=amount,
            requested_at=requested_at,
            release_after_round=release_after_round,
        )
        self.session.add(row)
        self.session.flush()
        return PendingRelease(row.id, model_id, amount, utc(requested_at), release_after_round, None)

    def list_pending_releases(
        self, *, model_id: int | None = None, unreleased_only: bool = True
    ) -> list[PendingRelease]:
        query = select(m.PendingReleaseRow).order_by(m.PendingReleaseRow.id)
        if model_id is not None:
            query = query.where(m.PendingReleaseRow.model_id == model_id)
        if unreleased_only:
            query = query.where(m.PendingReleaseRow.released_at.is_(None))
        return [
            PendingRelease(
                r.id,
                r.model_id,
                r.amount,
                utc(r.requested_at),
                r.release_after_round,
                utc_or_none(r.released_at),
            )
            for r in self.session.scalars(query)
        ]

    def mark_released(self, release_id: int, *, now: dt.datetime) -> bool:
        result = self.session.execute(
            update(m.PendingReleaseRow)
            .where(m.PendingReleaseRow.id == release_id, m.PendingReleaseRow.released_at.is_(None))
            .values(released_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))
