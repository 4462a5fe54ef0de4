"""The season through the tournament engine: accounts, models, rounds, submissions, stakes, payouts.

:class:`EngineSeason` drives :class:`kardashev.tournament.TournamentService` the way an operator and a
crowd of data scientists would, on simulated time: every week a round opens on the era's universe,
each model submits its predictions, the round closes (stakes frozen, meta model built), earlier rounds
are scored as their target horizon fills (one scoring day per week, partial returns before the last)
and resolve with payouts and burns. Between rounds, stakers move stake toward the models with the best
recent resolved score (:func:`kardashev.demo.dynamics.reallocate_stakes`) through the engine's
``stake_increase`` / ``stake_decrease``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from kardashev.data.binning import bin_targets
from kardashev.data.era import Era
from kardashev.demo.dynamics import StakeDynamics, reallocate_stakes, recent_mean_scores
from kardashev.portfolio import RiskModel
from kardashev.scoring import neutralize
from kardashev.tournament import TournamentService, ledger
from kardashev.tournament.domain import UNITS_PER_TOKEN, RoundKind, tokens_to_units
from kardashev.tournament.round_work import round_day

__all__ = ["EngineSeason", "FundContext", "SeasonLog", "partial_day"]


@dataclass(frozen=True)
class FundContext:
    """What the fund's optimizer knows about an era besides the round's data.

    In the demo, ``previous_weights`` are the holdings of the in-memory static-stake fund before the era
    (the engine does not trade), so the engine's TC and the validation fund's TC share their trading costs.
    """

    risk_model: RiskModel | None
    adv: np.ndarray | None
    previous_weights: np.ndarray | None


def partial_day(
    inputs: Era,
    *,
    day: int,
    horizon: int,
    forward_return: np.ndarray | None,
    context: FundContext | None = None,
) -> Era:
    """The data known on scoring ``day`` of a round over ``inputs``' era, with the fund's context.

    On the last day (``day == horizon``) it is the era's published target and realized residual return;
    before, the total return so far residualized to the exposures and binned like a target. The fund's
    risk model, ADV and previous holdings ride along in the era, so the engine's TC is computed under
    exactly the fund's optimizer context.
    """
    if day >= horizon or forward_return is None:
        target, realized = inputs.target, inputs.realized_returns
    else:
        realized = np.asarray(
            neutralize(np.asarray(forward_return, dtype=float), inputs.required("exposures")), dtype=float
        )
        realized = realized.reshape(-1)
        target = bin_targets(realized[:, None])[:, 0]
    context = context or FundContext(None, None, None)
    return round_day(
        day=int(day),
        ids=np.asarray(inputs.ids, dtype=object).astype(str),
        target=np.asarray(target, dtype=float),
        realized_returns=np.asarray(realized, dtype=float),
        exposures=inputs.exposures,
        features=inputs.features if day >= horizon else None,  # FNC on the final day only
        risk=context.risk_model,
        adv=context.adv,
        previous_weights=context.previous_weights,
    )


@dataclass
class SeasonLog:
    """Counts of what the engine did, for the summary."""

    rounds_opened: int = 0
    rounds_resolved: int = 0
    submissions: int = 0
    scoring_days: int = 0
    stake_increases: int = 0
    stake_decreases: int = 0
    minted_units: int = 0
    burned_units: int = 0

    def lines(self) -> tuple[str, ...]:
        return (
            f"{self.rounds_opened} rounds opened, {self.rounds_resolved} resolved",
            f"{self.submissions} submissions stored and validated",
            f"{self.scoring_days} scoring days (one per week of each round's target horizon)",
            f"{self.stake_increases} stake increases and {self.stake_decreases} stake decreases by stakers",
            f"payouts minted {self.minted_units / UNITS_PER_TOKEN:,.2f} tokens, "
            f"burns {self.burned_units / UNITS_PER_TOKEN:,.2f} tokens",
        )


def _units(tokens: float) -> int:
    return tokens_to_units(Decimal(f"{max(tokens, 0.0):.6f}"))


class EngineSeason:
    """Runs the demo season through a :class:`TournamentService` on simulated time.

    Parameters
    ----------
    service
        The tournament engine (over the demo's database).
    model_names
        One model per account (``<model>`` owned by ``<model>-owner``), prefixed with ``run_tag``.
    horizon
        Scoring days (weeks) of a round.
    metric
        Score the stakers follow (``"tc"``, ``"corr"``, ``"mmc"``) or ``None`` for static stakes.
    dynamics
        How stakers reallocate.
    first_round
        Number of the season's first round.
    run_tag
        Prefix of account and model names (keeps several demo runs apart in one database).
    """

    def __init__(
        self,
        service: TournamentService,
        *,
        model_names: tuple[str, ...],
        horizon: int,
        metric: str | None,
        dynamics: StakeDynamics,
        first_round: int = 1,
        run_tag: str = "",
    ) -> None:
        self.service = service
        self.names = tuple(f"{run_tag}{name}" for name in model_names)
        self.run_tag = run_tag
        self.horizon = int(horizon)
        self.metric = metric
        self.dynamics = dynamics
        self.first_round = int(first_round)
        self.log = SeasonLog()
        self._pending: dict[int, tuple[int, Era, FundContext | None]] = {}  # round -> era, inputs, context
        self.model_ids: dict[str, int] = {}
        self.model_accounts: dict[str, int] = {}

    def create_crowd(self, stakes: np.ndarray, *, now: dt.datetime, wallet_multiple: float = 3.0) -> None:
        """One account per model, wallet funded with ``wallet_multiple``× the mean stake; then its stake."""
        mean_stake = float(np.mean(stakes[stakes > 0])) if np.any(stakes > 0) else 1.0
        for name, stake in zip(self.names, stakes, strict=True):
            account = self.service.create_account(
                f"{name}-owner", now=now, tokens=_units(float(stake) + wallet_multiple * mean_stake)
            )
            model = self.service.create_model(account.id, name, now=now)
            self.model_ids[name] = model.id
            self.model_accounts[name] = account.id
            if stake > 0 and _units(float(stake)) > 0:
                self.service.stake_increase(model.id, _units(float(stake)), now=now)

    def round_number(self, era_index: int) -> int:
        return self.first_round + era_index

    def run_round(
        self, era_index: int, inputs: Era, *, open_time: dt.datetime, context: FundContext | None = None
    ) -> None:
        """Open the round of an era, submit every model's predictions, close it."""
        number = self.round_number(era_index)
        close_time = open_time + dt.timedelta(hours=1)
        self.service.open_round(
            number,
            universe=[str(i) for i in inputs.ids],
            close_time=close_time,
            now=open_time,
            kind=RoundKind.CLASSIC,
            horizon_days=self.horizon,
            late_close_time=close_time + dt.timedelta(hours=1),
            resolve_time=close_time + dt.timedelta(weeks=self.horizon),
        )
        self.log.rounds_opened += 1
        ids = [str(i) for i in inputs.ids]
        submit_time = open_time + dt.timedelta(minutes=30)
        for column, name in enumerate(self.names):
            frame = pd.DataFrame({"id": ids, "prediction": inputs.required("predictions")[:, column]})
            self.service.submit(name, number, frame, now=submit_time, filename=f"{name}-{number}.csv")
            self.log.submissions += 1
        self.service.close_round(number, now=close_time)
        self._pending[number] = (era_index, inputs, context)

    def score_due(
        self, *, now_index: int, now: dt.datetime, forward_return: Callable[[int, int], np.ndarray]
    ) -> None:
        """Score (and resolve) every pending round whose next scoring day has come by era ``now_index``.

        ``forward_return(era_index, weeks)`` gives the total return of an era's stocks over ``weeks``.
        """
        for number, (era_index, inputs, context) in sorted(self._pending.items()):
            day = now_index - era_index
            if day < 1:
                continue
            day = min(day, self.horizon)
            returns = None if day >= self.horizon else forward_return(era_index, day)
            market_day = partial_day(
                inputs, day=day, horizon=self.horizon, forward_return=returns, context=context
            )
            if day < self.horizon:
                self.service.score_round(number, market_day, now=now)
                self.log.scoring_days += 1
                continue
            payouts = self.service.resolve_round(number, now=now, day=market_day)
            self.log.scoring_days += 1
            self.log.rounds_resolved += 1
            self.log.minted_units += sum(p.amount for p in payouts if p.amount > 0)
            self.log.burned_units += -sum(p.amount for p in payouts if p.amount < 0)
            del self._pending[number]

    @property
    def pending_rounds(self) -> int:
        return len(self._pending)

    def _ledger(self) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
        """Free and total (free + at risk) stake per model in units, and every balance, in one query."""
        balances = self.service.balances()
        at_risk: dict[int, int] = {}
        for account, amount in balances.items():
            if account.startswith("at_risk:"):
                model_id = int(account.rsplit(":", 1)[1])
                at_risk[model_id] = at_risk.get(model_id, 0) + amount
        ids = [self.model_ids[name] for name in self.names]
        free = np.array([balances.get(ledger.stake_account(i), 0) for i in ids], dtype=np.int64)
        total = free + np.array([at_risk.get(i, 0) for i in ids], dtype=np.int64)
        return free, total, balances

    def stakes(self) -> np.ndarray:
        """Each model's total stake (free + at risk) in tokens."""
        return self._ledger()[1] / UNITS_PER_TOKEN

    def resolved_scores(self, metric: str) -> np.ndarray:
        """``(n_resolved_rounds, n_models)`` final-day ``metric`` of the resolved rounds, oldest first."""
        rows = []
        index = {model_id: k for k, model_id in enumerate(self.model_ids[name] for name in self.names)}
        for round_ in self.service.list_rounds():
            if round_.status.value != "resolved" or round_.number < self.first_round:
                continue
            row = np.full(len(self.names), np.nan)
            for score in self.service.scores(round_number=round_.number, day=round_.horizon_days):
                if score.metric == metric and score.model_id in index:
                    row[index[score.model_id]] = score.value
            rows.append(row)
        return np.vstack(rows) if rows else np.empty((0, len(self.names)))

    def rebalance(self, *, now: dt.datetime) -> None:
        """Stakers move stake toward the best recent resolved ``metric`` (no-op for static stakes)."""
        if self.metric is None:
            return
        history = self.resolved_scores(self.metric)
        if history.shape[0] == 0:
            return
        recent = recent_mean_scores(history, window=self.dynamics.window)
        free, total_units, balances = self._ledger()
        totals = total_units / UNITS_PER_TOKEN
        targets = reallocate_stakes(totals, recent, self.dynamics)
        for k, (name, current, target) in enumerate(zip(self.names, totals, targets, strict=True)):
            delta = _units(abs(target - current))
            # stakers do not bother with changes under 1% of their stake (or a hundredth of a token)
            if delta < max(UNITS_PER_TOKEN // 100, int(0.01 * total_units[k])):
                continue
            if target > current:
                wallet = balances.get(ledger.wallet_account(self.model_accounts[name]), 0)
                amount = min(delta, wallet)
                if amount > 0:
                    self.service.stake_increase(name, amount, now=now)
                    self.log.stake_increases += 1
            else:
                amount = min(delta, int(free[k]))
                if amount > 0:
                    self.service.stake_decrease(name, amount, now=now)
                    self.log.stake_decreases += 1

    def final_scores(self) -> Mapping[str, np.ndarray]:
        """Per metric, ``(n_resolved_rounds, n_models)`` final scores (for grades and the leaderboard)."""
        metrics = sorted({score.metric for score in self.service.scores(day=self.horizon)})
        return {metric: self.resolved_scores(metric) for metric in metrics}
