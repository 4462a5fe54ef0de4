"""The tournament lifecycle: idempotent steps, each one database transaction.

``open_round`` → ``submit`` (many) → ``close_round`` → ``score_round(day)`` (daily)
→ ``resolve_round``. Every step locks the round row, checks the state and either
does all of its work or none of it; re-running a finished step returns the stored
result and changes nothing. Time (``now=``) and storage (a unit-of-work factory)
are passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from kardashev.data.era import Era
from kardashev.errors import ConflictError, InvalidInputError, StateError
from kardashev.metamodel import meta_model_or_none
from kardashev.tournament import ledger
from kardashev.tournament.domain import (
    DailyScore,
    Payout,
    Round,
    RoundKind,
    RoundStatus,
    StakeSnapshot,
    Submission,
)
from kardashev.tournament.payout import FRACTION_SCALE, PayoutConfig, max_churn_and_turnover
from kardashev.tournament.reports import ReportsMixin
from kardashev.tournament.repository import TournamentRepository, UnitOfWork
from kardashev.tournament.round_matrix import decode_round_matrix
from kardashev.tournament.round_scoring import RoundScorer, StandardScorer
from kardashev.tournament.round_work import (
    ATTEMPTS,
    DayWork,
    busy,
    fingerprint,
    prepare_close,
    round_era,
)
from kardashev.tournament.service_accounts import AccountsMixin, as_utc
from kardashev.tournament.service_queries import QueriesMixin
from kardashev.tournament.settlement import release_due_decreases, settle_round
from kardashev.tournament.tables import decode_ids, decode_vector, encode_ids, encode_vector, sha256_hex
from kardashev.tournament.validation import SubmissionSource, ValidationConfig, validate_submission

__all__ = ["TournamentService"]


class TournamentService(AccountsMixin, QueriesMixin, ReportsMixin):
    """Runs rounds over any storage implementing :class:`UnitOfWork`.

    Parameters
    ----------
    unit_of_work
        Factory of transactions (``kardashev.store.Store`` implements it).
    validation
        Options of the submission rules (:mod:`kardashev.tournament.validation`).
    payout
        The payout rule (:class:`kardashev.tournament.payout.PayoutConfig`; its ``cap`` is the
        fraction of each stake escrowed per round). Its optional Signals churn rule is applied
        at close: a violating model's stake in that round is 0.
    scorer
        Daily scores (default: :class:`StandardScorer`).
    """

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        *,
        validation: ValidationConfig | None = None,
        payout: PayoutConfig | None = None,
        scorer: RoundScorer | None = None,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.validation = validation or ValidationConfig()
        self.payout = payout or PayoutConfig()
        self.scorer = scorer or StandardScorer()
        self._universes: dict[str, list[str]] = {}  # content-addressed, so never stale

    def _universe(self, repo: TournamentRepository, sha256: str) -> list[str]:
        cached = self._universes.get(sha256)
        if cached is None:
            cached = [str(i) for i in decode_ids(repo.get_blob(sha256))]
            if len(self._universes) >= 32:
                self._universes.clear()
            self._universes[sha256] = cached
        return cached

    # ------------------------------------------------------------------ rounds
    def open_round(
        self,
        number: int,
        *,
        universe: Sequence[str],
        close_time: dt.datetime,
        now: dt.datetime,
        kind: RoundKind | str = RoundKind.CLASSIC,
        target_name: str = "target",
        horizon_days: int = 20,
        open_time: dt.datetime | None = None,
        late_close_time: dt.datetime | None = None,
        resolve_time: dt.datetime | None = None,
    ) -> Round:
        """Open round ``number``; re-opening with the same settings returns it unchanged."""
        now = as_utc(now)
        try:
            kind = RoundKind(getattr(kind, "value", kind))
        except ValueError as exc:
            raise InvalidInputError(f"unknown tournament kind {kind!r}: use 'classic' or 'signals'") from exc
        if isinstance(number, bool) or not isinstance(number, int | np.integer):
            raise InvalidInputError(f"a round number is an integer, got {number!r}")
        explicit_open = open_time is not None
        open_time = as_utc(open_time) if open_time is not None else now
        close_time = as_utc(close_time)
        late_close_time = as_utc(late_close_time) if late_close_time else close_time + dt.timedelta(days=1)
        resolve_time = as_utc(resolve_time) if resolve_time else close_time + dt.timedelta(days=horizon_days)
        if int(number) < 1:
            raise InvalidInputError(f"round numbers start at 1, got {number}")
        if int(horizon_days) < 1:
            raise InvalidInputError(f"horizon_days must be ≥ 1, got {horizon_days}")
        if not open_time < close_time <= late_close_time <= resolve_time:
            raise InvalidInputError(
                "round times must satisfy open < close ≤ late close ≤ resolve, got "
                f"{open_time}, {close_time}, {late_close_time}, {resolve_time}"
            )
        ids = np.asarray([str(i) for i in universe], dtype=object)
        if ids.size == 0 or len(set(ids)) != ids.size:
            raise InvalidInputError("a round universe needs at least one id and no duplicates")
        data = encode_ids(ids)
        with self.unit_of_work() as repo:
            existing = self._find_round(repo, int(number))
            wanted = Round(
                number=int(number),
                kind=kind,
                universe_sha256="",
                n_universe=int(ids.size),
                target_name=target_name,
                horizon_days=int(horizon_days),
                open_time=open_time,
                close_time=close_time,
                late_close_time=late_close_time,
                resolve_time=resolve_time,
                status=RoundStatus.OPEN,
            )
            wanted = replace(wanted, universe_sha256=sha256_hex(data))
            if existing is None:
                repo.put_blob(data, kind="universe")
                try:
                    return repo.add_round(wanted)
                except ConflictError:  # opened concurrently by another worker: compare with theirs
                    existing = repo.get_round(int(number))
            fields = ["kind", "universe_sha256", "target_name", "horizon_days", "close_time"]
            fields += ["open_time"] if explicit_open else []  # a retry at a later `now` is the same step
            if any(getattr(existing, f) != getattr(wanted, f) for f in fields):
                raise ConflictError(f"round {number} exists already with other settings", code="round_exists")
            return existing

    def _find_round(self, repo: TournamentRepository, number: int) -> Round | None:
        from kardashev.errors import NotFoundError

        try:
            return repo.get_round(number)
        except NotFoundError:
            return None

    def submit(
        self,
        model: int | str,
        round_number: int,
        predictions: SubmissionSource,
        *,
        now: dt.datetime,
        filename: str | None = None,
        expected_date: dt.date | None = None,
    ) -> Submission:
        """Validate and store a submission; before the close it replaces the model's previous one.

        ``predictions`` is a file's bytes, a path, a binary file object or a DataFrame (see
        :func:`kardashev.tournament.validation.validate_submission`); a rejected file raises
        SubmissionError naming the rule and stores nothing.

        After ``close_time`` (until ``late_close_time``) a model without a submission may
        submit late: scored, not staked, not in the meta model.
        """
        now = as_utc(now)
        with self.unit_of_work(read_only=True) as repo:  # short read: what the file is validated against
            round_ = repo.get_round(int(round_number))
            repo.get_model(model)
            universe = self._universe(repo, round_.universe_sha256)
        self._check_submission_window(round_, now)
        # Parse, validate and write the blob outside the database transaction (no lock held);
        # the file is content-addressed, so a failure below leaves at most an orphan file.
        validated = validate_submission(
            predictions,
            kind=round_.kind,
            universe=list(universe),
            config=self.validation,
            filename=filename,
            expected_date=expected_date,
        )
        values = pd.Series(validated.values, index=pd.Index(validated.ids, name="id"))
        data = encode_vector(values, name="prediction")
        with self.unit_of_work() as repo:
            round_ = repo.get_round(int(round_number), for_share=True)  # a close waits for us
            model_ = repo.get_model(model)
            self._check_submission_window(round_, now)
            late = now >= round_.close_time or round_.status is not RoundStatus.OPEN
            existing = repo.list_submissions(round_number=round_.number, model_id=model_.id)
            if existing and existing[0].checksum == validated.checksum and existing[0].late == late:
                return existing[0]  # the same content again (a retried upload): nothing changes
            sha = repo.put_blob(data, kind="predictions")
            stored = repo.upsert_submission(
                round_number=round_.number,
                model_id=model_.id,
                sha256=sha,
                checksum=validated.checksum,
                n_rows=int(validated.n_rows),
                submitted_at=now,
                late=late,
                filename=filename,
            )
            if stored is None:
                raise ConflictError(
                    f"model {model_.name} already has a submission for round {round_.number}; "
                    "it cannot be replaced after the close",
                    code="submission_locked",
                )
            return stored

    @staticmethod
    def _check_submission_window(round_: Round, now: dt.datetime) -> None:
        if now < round_.open_time:
            raise StateError(f"round {round_.number} opens at {round_.open_time}", code="round_not_open")
        if now >= round_.late_close_time or round_.status is RoundStatus.RESOLVED:
            raise StateError(f"round {round_.number} is closed for submissions", code="round_closed")

    def close_round(self, number: int, *, now: dt.datetime) -> Round:
        """Freeze stakes (escrowing the largest possible burn), store the prediction matrix, blend the
        meta models.

        The on-time submissions are decoded, stacked, gaussianized and encoded with no transaction
        open; the closing transaction (stakes, escrow, writing the prepared blobs, the stake-weighted
        blend of the already gaussianized matrix) is short, and starts over if a submission landed in
        between.
        """
        now = as_utc(now)
        for _attempt in range(ATTEMPTS):
            with self.unit_of_work(read_only=True) as repo:
                round_ = repo.get_round(int(number))
                if round_.status is not RoundStatus.OPEN:
                    return round_
                if now < round_.close_time:
                    raise StateError(f"round {number} closes at {round_.close_time}", code="round_not_closed")
                on_time = [s for s in repo.list_submissions(round_number=round_.number) if not s.late]
                universe = self._universe(repo, round_.universe_sha256)
                vectors = [decode_vector(repo.get_blob(s.sha256)) for s in on_time]
            prepared = prepare_close(universe, on_time, vectors) if on_time else None  # no lock held
            with self.unit_of_work() as repo:
                round_ = repo.get_round(int(number), for_update=True)
                if round_.status is not RoundStatus.OPEN:
                    return round_
                current = [s for s in repo.list_submissions(round_number=round_.number) if not s.late]
                if fingerprint(current) != fingerprint(on_time):
                    continue  # a submission landed while the matrix was built: build it again
                snapshots = self._freeze_stakes(repo, round_, on_time, now)
                matrix_sha = naive_sha = meta_sha = None
                if prepared is not None:  # the bytes were built above; only the files are written here
                    matrix_sha = repo.put_blob(prepared.matrix_blob, kind="round_predictions")
                    if prepared.naive_blob is not None:
                        naive_sha = repo.put_blob(prepared.naive_blob, kind="meta_model")
                stakes = np.array([snap.stake for snap in snapshots], dtype=np.float64)
                if prepared is not None and stakes.sum() > 0:
                    meta = meta_model_or_none(prepared.gaussianized, stakes)
                    if meta is not None:
                        meta_sha = repo.put_blob(
                            encode_vector(pd.Series(meta, index=prepared.ids), name="meta_model"),
                            kind="meta_model",
                        )
                return repo.update_round(
                    replace(
                        round_,
                        status=RoundStatus.CLOSED,
                        closed_at=now,
                        meta_model_sha256=meta_sha,
                        naive_meta_model_sha256=naive_sha,
                        predictions_sha256=matrix_sha,
                        n_staked_models=sum(1 for s in snapshots if s.stake > 0),
                        n_contributors=len(on_time),
                    )
                )
        raise busy(number)

    def _freeze_stakes(
        self, repo: TournamentRepository, round_: Round, on_time: list[Submission], now: dt.datetime
    ) -> list[StakeSnapshot]:
        """Snapshot each on-time model's stake and escrow its largest possible burn (in the ledger)."""
        escrowed: dict[int, int] = {}
        for account, balance in repo.balances(prefix="at_risk:").items():
            model_id = ledger.parse_at_risk_account(account).model_id
            escrowed[model_id] = escrowed.get(model_id, 0) + balance
        snapshots = [self._snapshot(repo, round_, s, escrowed.get(s.model_id, 0)) for s in on_time]
        postings = []
        for snap in snapshots:
            if snap.at_risk > 0:
                postings += ledger.transfer(
                    ledger.stake_account(snap.model_id),
                    ledger.at_risk_account(round_.number, snap.model_id),
                    snap.at_risk,
                )
        if postings:
            repo.post(postings, kind="escrow", now=now, round_number=round_.number)
        repo.add_stake_snapshots(snapshots)
        return snapshots

    def _snapshot(
        self, repo: TournamentRepository, round_: Round, submission: Submission, escrowed: int
    ) -> StakeSnapshot:
        """Stake (free + escrowed elsewhere) and its escrow ``ceil(stake · cap)`` for this round."""
        model_id = submission.model_id
        if self._breaks_churn_rule(repo, round_, submission):
            return StakeSnapshot(round_number=round_.number, model_id=model_id, stake=0, at_risk=0)
        free = repo.balance(ledger.stake_account(model_id))
        stake = free + escrowed
        cap = round(float(self.payout.cap) * FRACTION_SCALE)  # exact integer arithmetic from here
        at_risk = -(-stake * cap // FRACTION_SCALE)
        if at_risk > free:  # not enough free stake left to escrow: stake only what the escrow covers
            stake = free * FRACTION_SCALE // cap
            at_risk = -(-stake * cap // FRACTION_SCALE)
        return StakeSnapshot(
            round_number=round_.number, model_id=model_id, stake=int(stake), at_risk=int(at_risk)
        )

    def _breaks_churn_rule(self, repo: TournamentRepository, round_: Round, submission: Submission) -> bool:
        rule = self.payout.churn_rule
        if rule is None or round_.kind is not RoundKind.SIGNALS:
            return False
        earlier = [
            s for s in repo.list_submissions(model_id=submission.model_id) if s.round_number < round_.number
        ]
        earlier = sorted(earlier, key=lambda s: s.round_number, reverse=True)[: rule.lookback]
        if not earlier:
            return False
        current = decode_vector(repo.get_blob(submission.sha256))
        previous = [decode_vector(repo.get_blob(s.sha256)) for s in earlier]
        max_churn, max_turnover = max_churn_and_turnover(current, previous, rule=rule)
        return bool(max_churn >= rule.max_churn) or bool(max_turnover >= rule.max_turnover)

    def score_round(self, number: int, day: Era, *, now: dt.datetime) -> list[DailyScore]:
        """Score every submission (on time and late) with the data known on scoring day ``day.day``.

        ``day`` is an :class:`~kardashev.data.era.Era` of the day's market data (``round_day``
        builds one). The scores are computed with no transaction open; one short transaction then
        stores them if the round is still where it was (else the stored scores are returned, or the
        day is scored again when a late submission arrived meanwhile).
        """
        now = as_utc(now)
        for _attempt in range(ATTEMPTS):
            work = self._read_day(int(number), day)
            if isinstance(work, list):
                return work  # scored already
            scores = self._compute_day(work, day)  # no lock held
            with self.unit_of_work() as repo:
                round_ = repo.get_round(int(number), for_update=True)
                if round_.status is RoundStatus.RESOLVED or int(day.day or 0) <= round_.days_scored:
                    return repo.list_scores(round_number=round_.number, day=int(day.day or 0))
                if fingerprint(repo.list_submissions(round_number=round_.number)) != work.fingerprint:
                    continue
                self._store_day(repo, round_, int(day.day or 0), scores)
                return scores
        raise busy(number)

    def _read_day(self, number: int, day: Era) -> DayWork | list[DailyScore]:
        """Short read: what scoring ``day`` needs, or the stored scores when it is scored already."""
        with self.unit_of_work(read_only=True) as repo:
            round_ = repo.get_round(number)
            self._check_day(round_, day)
            if round_.status is RoundStatus.RESOLVED or int(day.day or 0) <= round_.days_scored:
                return repo.list_scores(round_number=round_.number, day=int(day.day or 0))
            return self._day_work(repo, round_)

    def _check_day(self, round_: Round, day: Era) -> None:
        if round_.status is RoundStatus.OPEN:
            raise StateError(f"round {round_.number} is not closed yet", code="round_not_closed")
        if day.day is None or not 1 <= int(day.day) <= round_.horizon_days:
            raise InvalidInputError(f"day must be in 1..{round_.horizon_days} for round {round_.number}")

    def _day_work(self, repo: TournamentRepository, round_: Round) -> DayWork:
        submissions = repo.list_submissions(round_number=round_.number)
        stakes_by_model = {s.model_id: s.stake for s in repo.list_stake_snapshots(round_number=round_.number)}
        stakes = np.array(
            [0 if s.late else stakes_by_model.get(s.model_id, 0) for s in submissions], dtype=np.float64
        )
        matrix = None if round_.predictions_sha256 is None else repo.get_blob(round_.predictions_sha256)
        stored = set() if matrix is None else set(decode_round_matrix(matrix).submission_ids.tolist())
        extra = {s.id: decode_vector(repo.get_blob(s.sha256)) for s in submissions if s.id not in stored}
        universe = self._universe(repo, round_.universe_sha256)
        return DayWork(round_, submissions, stakes, matrix, extra, universe, fingerprint(submissions))

    def _compute_day(self, work: DayWork, day: Era) -> list[DailyScore]:
        """The day's scores of every submission (no database access)."""
        round_, submissions = work.round_, work.submissions
        if not submissions:
            return []
        era = round_era(work, day)
        metrics = self.scorer(kind=round_.kind, era=era)
        missing = sorted(set(self.payout.scores_used) - set(metrics))
        if day.day == round_.horizon_days and missing and work.stakes.sum() > 0:
            raise InvalidInputError(
                f"the payout rule uses {', '.join(missing)} but the final day's scores lack it "
                "(TC and True Return need realized returns)",
                code="missing_scores",
            )
        return [
            DailyScore(round_.number, submission.model_id, int(day.day or 0), metric, float(value))
            for metric, values in sorted(metrics.items())
            for submission, value in zip(submissions, np.asarray(values, dtype=float), strict=True)
        ]

    @staticmethod
    def _store_day(repo: TournamentRepository, round_: Round, day: int, scores: list[DailyScore]) -> None:
        if scores:
            repo.add_scores(scores)
        repo.update_round(replace(round_, days_scored=day))

    def resolve_round(self, number: int, *, now: dt.datetime, day: Era | None = None) -> list[Payout]:
        """Final scores, payouts (minted) and burns, release of escrow and of due stake decreases.

        If the last day is not scored yet, pass its data as ``day``: it is scored (with no
        transaction open) and stored with the settlement in one short transaction.
        """
        now = as_utc(now)
        for _attempt in range(ATTEMPTS):
            with self.unit_of_work(read_only=True) as repo:
                round_ = repo.get_round(int(number))
                if round_.status is RoundStatus.RESOLVED:
                    return repo.list_payouts(round_number=round_.number)
                self._check_due(round_, now)
                work = None
                if round_.days_scored < round_.horizon_days:
                    if day is None or day.day is None or int(day.day) != round_.horizon_days:
                        raise StateError(
                            f"round {number} is scored up to day {round_.days_scored} of "
                            f"{round_.horizon_days}; pass the final day's data to resolve it",
                            code="round_not_scored",
                        )
                    work = self._day_work(repo, round_)
            scores = None if work is None or day is None else self._compute_day(work, day)  # no lock held
            with self.unit_of_work() as repo:
                round_ = repo.get_round(int(number), for_update=True)
                if round_.status is RoundStatus.RESOLVED:
                    return repo.list_payouts(round_number=round_.number)
                if round_.days_scored < round_.horizon_days:
                    if scores is None or work is None:
                        continue  # the final day was un-scored meanwhile (cannot happen): read again
                    if fingerprint(repo.list_submissions(round_number=round_.number)) != work.fingerprint:
                        continue
                    self._store_day(repo, round_, round_.horizon_days, scores)
                payouts = settle_round(repo, round_, self.payout, now=now)
                repo.update_round(
                    replace(
                        round_, status=RoundStatus.RESOLVED, resolved_at=now, days_scored=round_.horizon_days
                    )
                )
                release_due_decreases(repo, now=now)
                return payouts
        raise busy(number)

    @staticmethod
    def _check_due(round_: Round, now: dt.datetime) -> None:
        if round_.status is RoundStatus.OPEN:
            raise StateError(f"round {round_.number} is not closed yet", code="round_not_closed")
        if now < round_.resolve_time:
            raise StateError(f"round {round_.number} resolves at {round_.resolve_time}", code="round_not_due")
