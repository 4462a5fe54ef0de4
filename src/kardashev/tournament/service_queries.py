"""Read-only queries of the tournament service: rounds, submissions, meta models, scores, stakes, payouts."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kardashev.errors import NotFoundError, StateError
from kardashev.tournament.domain import DailyScore, Payout, Round, RoundStatus, StakeSnapshot, Submission
from kardashev.tournament.repository import UnitOfWork
from kardashev.tournament.service_accounts import as_utc
from kardashev.tournament.tables import decode_vector

__all__ = ["QueriesMixin"]


class QueriesMixin:
    unit_of_work: UnitOfWork

    def get_round(self, number: int) -> Round:
        with self.unit_of_work(read_only=True) as repo:
            return repo.get_round(int(number))

    def list_rounds(self) -> list[Round]:
        with self.unit_of_work(read_only=True) as repo:
            return repo.list_rounds()

    def current_round(self, *, now: dt.datetime) -> Round:
        """The open round accepting on-time submissions at ``now`` (the latest if several)."""
        now = as_utc(now)
        open_rounds = [
            r
            for r in self.list_rounds()
            if r.status is RoundStatus.OPEN and r.open_time <= now < r.close_time
        ]
        if not open_rounds:
            raise NotFoundError("no round is open for submissions now", code="no_open_round")
        return max(open_rounds, key=lambda r: r.number)

    def list_submissions(
        self, *, round_number: int | None = None, model: int | str | None = None
    ) -> list[Submission]:
        with self.unit_of_work(read_only=True) as repo:
            model_id = None if model is None else repo.get_model(model).id
            return repo.list_submissions(round_number=round_number, model_id=model_id)

    def submission_predictions(self, submission: Submission) -> pd.Series:
        """The stored (validated) predictions of a submission, indexed by id."""
        with self.unit_of_work(read_only=True) as repo:
            return decode_vector(repo.get_blob(submission.sha256))

    def meta_model(self, round_number: int, *, naive: bool = False) -> pd.Series:
        """The stake-weighted (or naive) meta model built at close (operator access, unreleased)."""
        with self.unit_of_work(read_only=True) as repo:
            round_ = repo.get_round(int(round_number))
            sha = round_.naive_meta_model_sha256 if naive else round_.meta_model_sha256
            if sha is None:
                raise StateError(
                    f"round {round_number} has no {'naive ' if naive else ''}meta model", code="no_meta_model"
                )
            return decode_vector(repo.get_blob(sha))

    def scores(
        self, *, round_number: int | None = None, model: int | str | None = None, day: int | None = None
    ) -> list[DailyScore]:
        with self.unit_of_work(read_only=True) as repo:
            model_id = None if model is None else repo.get_model(model).id
            return repo.list_scores(round_number=round_number, model_id=model_id, day=day)

    def stake_snapshots(
        self, *, round_number: int | None = None, model: int | str | None = None
    ) -> list[StakeSnapshot]:
        with self.unit_of_work(read_only=True) as repo:
            model_id = None if model is None else repo.get_model(model).id
            return repo.list_stake_snapshots(round_number=round_number, model_id=model_id)

    def payouts(self, *, round_number: int | None = None, model: int | str | None = None) -> list[Payout]:
        with self.unit_of_work(read_only=True) as repo:
            model_id = None if model is None else repo.get_model(model).id
            return repo.list_payouts(round_number=round_number, model_id=model_id)
