"""Read-side views of the tournament: results table, leaderboard, diagnostics, meta-model release."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kardashev.errors import StateError
from kardashev.tournament.domain import RoundStatus
from kardashev.tournament.grades import GradeConfig, Grades, grade_models
from kardashev.tournament.leaderboard import LeaderboardConfig, compute_leaderboard
from kardashev.tournament.release import ReleaseConfig, ReleaseDecision, prepare_release, release_decision
from kardashev.tournament.repository import UnitOfWork
from kardashev.tournament.tables import decode_vector

__all__ = ["ReportsMixin"]


class ReportsMixin:
    unit_of_work: UnitOfWork

    def results(self, *, resolved_only: bool = True) -> pd.DataFrame:
        """Tidy per-model per-round table: ``model, round, day, <metric>…, stake, payout, late``.

        Scores are each round's latest scored day (the final one once resolved); ``stake`` and
        ``payout`` are in units (0 for late and unstaked submissions).
        """
        with self.unit_of_work(read_only=True) as repo:
            rounds = {r.number: r for r in repo.list_rounds()}
            models = {m.id: m.name for m in repo.list_models()}
            snapshots = {(s.round_number, s.model_id): s.stake for s in repo.list_stake_snapshots()}
            payouts = {(p.round_number, p.model_id): p.amount for p in repo.list_payouts()}
            submissions = {(s.round_number, s.model_id): s for s in repo.list_submissions()}
            records: dict[tuple[int, int], dict[str, object]] = {}
            for number, round_ in rounds.items():
                if round_.days_scored == 0 or (resolved_only and round_.status is not RoundStatus.RESOLVED):
                    continue
                for score in repo.list_scores(round_number=number, day=round_.days_scored):
                    key = (number, score.model_id)
                    record = records.setdefault(
                        key, {"model": models[score.model_id], "round": number, "day": round_.days_scored}
                    )
                    record[score.metric] = score.value
        for key, record in records.items():
            record["stake"] = snapshots.get(key, 0)
            record["payout"] = payouts.get(key, 0)
            submission = submissions.get(key)
            record["late"] = bool(submission.late) if submission is not None else False
        columns = ["model", "round", "day"]
        table = pd.DataFrame(list(records.values()))
        if table.empty:
            return pd.DataFrame(columns=[*columns, "stake", "payout", "late"])
        return table.sort_values(["round", "model"]).reset_index(drop=True)

    def leaderboard(self, *, config: LeaderboardConfig | None = None) -> pd.DataFrame:
        """Latest and rolling CORR, MMC, TC, FNC, True Return, stake and returns on stake per model,
        over resolved rounds (see :func:`kardashev.tournament.leaderboard.compute_leaderboard`)."""
        table = self.results(resolved_only=True)
        if table.empty:
            return compute_leaderboard(pd.DataFrame(columns=["model", "round"]), config=config)
        return compute_leaderboard(table.drop(columns=["day", "late"]), config=config)

    def grades(self, *, config: GradeConfig | None = None) -> Grades:
        """Kardashev grades (Types I–III per model, Type IV for the fund) from the resolved rounds'
        final scores, one round per era (see :mod:`kardashev.tournament.grades`)."""
        table = self.results(resolved_only=True)
        if table.empty:
            table = pd.DataFrame({"model": pd.Series(dtype=str), "round": pd.Series(dtype=int), "corr": []})
        return grade_models(table.rename(columns={"round": "era"}), config=config)

    def diagnostics(self, model: int | str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """A model's per-round scores (latest scored day of every round it entered, resolved or not)
        and their summary (mean, std, Sharpe, rounds) per metric."""
        with self.unit_of_work(read_only=True) as repo:
            name = repo.get_model(model).name
        table = self.results(resolved_only=False)
        if table.empty or name not in set(table["model"]):
            return pd.DataFrame(columns=["round"]), pd.DataFrame(
                columns=["mean", "std", "sharpe", "n_rounds"]
            )
        per_round = table[table["model"] == name].drop(columns=["model"]).set_index("round")
        metrics = [c for c in per_round.columns if c not in ("day", "stake", "payout", "late")]
        values = per_round[metrics].astype(float)
        std = values.std(ddof=0)
        summary = pd.DataFrame(
            {
                "mean": values.mean(),
                "std": std,
                "sharpe": values.mean() / std.where(std > 0),
                "n_rounds": values.count(),
            }
        )
        return per_round, summary

    def release_decision(self, round_number: int, *, config: ReleaseConfig | None = None) -> ReleaseDecision:
        """Whether the naive meta model of a round may be published now (lag, crowd size, accounts)."""
        with self.unit_of_work(read_only=True) as repo:
            round_ = repo.get_round(int(round_number))
            latest = max(r.number for r in repo.list_rounds())
            on_time = [s for s in repo.list_submissions(round_number=round_.number) if not s.late]
            owners = {repo.get_model(s.model_id).account_id for s in on_time}
        return release_decision(
            round_number=round_.number,
            latest_round=latest,
            closed=round_.status is not RoundStatus.OPEN,
            n_contributors=len(on_time),
            n_accounts=len(owners),
            config=config,
        )

    def released_meta_model(self, round_number: int, *, config: ReleaseConfig | None = None) -> pd.Series:
        """The published form of a round's naive meta model; StateError(``not_releasable``) if too early."""
        decision = self.release_decision(round_number, config=config)
        if not decision.releasable:
            raise StateError(
                f"the naive meta model of round {round_number} cannot be released: {decision.reason}",
                code="not_releasable",
            )
        with self.unit_of_work(read_only=True) as repo:
            sha = repo.get_round(int(round_number)).naive_meta_model_sha256
            if sha is None:
                raise StateError(f"round {round_number} has no meta model", code="no_meta_model")
            naive = decode_vector(repo.get_blob(sha))
        return prepare_release(naive.astype(np.float64), decision=decision, config=config)
