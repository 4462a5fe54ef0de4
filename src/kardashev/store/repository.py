"""SQL implementation of :class:`kardashev.tournament.repository.TournamentRepository`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kardashev.errors import ConflictError, NotFoundError
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
from kardashev.store.ledger_repository import LedgerRepositoryMixin
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

__all__ = ["SqlRepository"]


class SqlRepository(LedgerRepositoryMixin):
    """Repository over one SQLAlchemy session (one transaction) and the blob directory."""

    def __init__(self, session: Session, blobs: BlobStore) -> None:
        self.session = session
        self.blobs = blobs

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
