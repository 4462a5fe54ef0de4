"""Settling a round: payouts, burns and the release of escrow and of due stake decreases.

Pure ledger work inside the resolving transaction (:meth:`TournamentService.resolve_round`); the
scores were computed before the transaction began.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from kardashev.tournament import ledger
from kardashev.tournament.domain import Payout, Round
from kardashev.tournament.payout import PayoutConfig, compute_payouts
from kardashev.tournament.repository import TournamentRepository

__all__ = ["release_due_decreases", "settle_round"]


def settle_round(
    repo: TournamentRepository, round_: Round, payout: PayoutConfig, *, now: dt.datetime
) -> list[Payout]:
    """Payouts (minted from the pool) and burns (from the escrow) of a round's final scores; the rest
    of each escrow goes back to its stake. Runs inside the resolving transaction."""
    snapshots = [s for s in repo.list_stake_snapshots(round_number=round_.number) if s.stake > 0]
    if not snapshots:
        return []
    final = repo.list_scores(round_number=round_.number, day=round_.horizon_days)
    by_metric: dict[str, dict[int, float]] = {}
    for score in final:
        by_metric.setdefault(score.metric, {})[score.model_id] = score.value
    stakes = np.array([s.stake for s in snapshots], dtype=np.int64)
    scores = {
        metric: np.array([values.get(s.model_id, np.nan) for s in snapshots])
        for metric, values in by_metric.items()
    }
    for metric in payout.scores_used:  # a rule changed since scoring: those models are not paid
        scores.setdefault(metric, np.full(len(snapshots), np.nan))
    result = compute_payouts(stakes.astype(np.int64), scores, config=payout)
    payouts, postings = [], []
    for snap, fraction, amount in zip(snapshots, result.payout_fraction, result.payouts, strict=True):
        amount = max(int(amount), -snap.at_risk)  # |payout| ≤ stake·cap ≤ escrow: never clipped
        escrow = ledger.at_risk_account(round_.number, snap.model_id)
        stake = ledger.stake_account(snap.model_id)
        if amount > 0:
            postings += ledger.transfer(ledger.PAYOUT_POOL, stake, amount)
        elif amount < 0:
            postings += ledger.transfer(escrow, ledger.BURN, -amount)
        if snap.at_risk + min(amount, 0) > 0:
            postings += ledger.transfer(escrow, stake, snap.at_risk + min(amount, 0))
        payouts.append(Payout(round_.number, snap.model_id, snap.stake, float(fraction), amount))
    if postings:
        repo.post(postings, kind="settle", now=now, round_number=round_.number)
    repo.add_payouts(payouts)
    return payouts


def release_due_decreases(repo: TournamentRepository, *, now: dt.datetime) -> None:
    """Release pending decreases whose model has no escrow left in rounds up to the one they wait for."""
    escrows = {k: v for k, v in repo.balances(prefix="at_risk:").items() if v > 0}
    for pending in repo.list_pending_releases():
        keys = [ledger.parse_at_risk_account(name) for name in escrows]
        waiting = pending.release_after_round is not None and any(
            key.model_id == pending.model_id and key.round_number <= pending.release_after_round
            for key in keys
        )
        if waiting:
            continue
        if not repo.mark_released(pending.id, now=now):
            continue
        model = repo.get_model(pending.model_id)
        repo.post(
            ledger.transfer(
                ledger.pending_account(model.id), ledger.wallet_account(model.account_id), pending.amount
            ),
            kind="release",
            now=now,
        )
