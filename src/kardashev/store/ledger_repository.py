"""The ledger half of :class:`kardashev.store.repository.SqlRepository`: postings, idempotency keys,
stored responses of replayed money moves, balances and the sums the audit checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kardashev.errors import ConflictError, InsufficientBalanceError
from kardashev.store import models as m
from kardashev.store.convert import utc
from kardashev.tournament import ledger
from kardashev.tournament.domain import units_to_tokens
from kardashev.tournament.ledger import LedgerTransaction, Posting
from kardashev.tournament.replay import StoredReplay, StoredResponse

__all__ = ["LedgerRepositoryMixin"]


class LedgerRepositoryMixin:
    """Ledger methods over ``self.session`` (one transaction); mixed into ``SqlRepository``."""

    session: Session

    def _insert(self, table):  # type: ignore[no-untyped-def]
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

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
