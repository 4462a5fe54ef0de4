"""Several worker processes sharing one database and one data directory run the same steps at once:
every step happens exactly once and all workers see the same result."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from kardashev.data.era import Era
from kardashev.store import open_store
from kardashev.store.models import LedgerTransactionRow
from kardashev.tournament import PayoutConfig, TournamentService, tokens_to_units

from .conftest import at, rank_scorer

TOKEN = tokens_to_units(1)
N_WORKERS = 2  # processes, each also submitting for its own model


def _service(db_url: str, data_dir: Path) -> TournamentService:
    return TournamentService(
        open_store(db_url, data_dir=data_dir),
        scorer=rank_scorer,
        payout=PayoutConfig(score_multipliers={"corr": 1.0}),
    )


def _worker(db_url: str, data_dir: Path, model: str, predictions, days: list[Era]):  # type: ignore[no-untyped-def]
    """One worker: submits for its own model, then runs every lifecycle step of round 1."""
    service = _service(db_url, data_dir)
    try:
        service.submit(model, 1, predictions, now=at(0.5))
        deadline = time.monotonic() + 120
        while len(service.list_submissions(round_number=1)) < N_WORKERS:  # all workers submitted: go together
            assert time.monotonic() < deadline, "the other workers never submitted"
            time.sleep(0.02)
        service.close_round(1, now=at(1))
        for day in days:
            service.score_round(1, day, now=at(1 + day.day))
        payouts = service.resolve_round(1, now=at(4))
        return sorted((p.model_id, p.amount) for p in payouts)
    finally:
        service.unit_of_work.close()  # type: ignore[attr-defined]


@pytest.mark.slow
def test_worker_processes_run_each_step_once(db_url, data_dir, market):
    service = _service(db_url, data_dir)
    service.create_account("ann", now=at(0), tokens=100 * N_WORKERS * TOKEN)
    for k in range(N_WORKERS):
        service.create_model("ann", f"w{k}", now=at(0))
        service.stake_increase(f"w{k}", 100 * TOKEN, now=at(0))
    service.open_round(1, universe=list(market.ids), close_time=at(1), now=at(0), horizon_days=2)
    days = [market.day(1, seed=1), market.day(2, seed=1)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=N_WORKERS, mp_context=context) as pool:
        futures = [
            pool.submit(_worker, db_url, data_dir, f"w{k}", market.predictions(1.0, seed=k), days)
            for k in range(N_WORKERS)
        ]
        results = [future.result(timeout=240) for future in futures]
    assert all(r == results[0] for r in results)  # every worker returns the one stored settlement
    with service.unit_of_work.session() as session:  # type: ignore[attr-defined]
        kinds = list(
            session.scalars(select(LedgerTransactionRow.kind).where(LedgerTransactionRow.round_number == 1))
        )
    assert sorted(kinds) == ["escrow", "settle"]  # closed once, settled once
    escrows = [k for k, v in service.balances().items() if k.startswith("at_risk:") and v]
    assert not escrows
    snapshots = service.stake_snapshots(round_number=1)
    assert len(snapshots) == len({s.model_id for s in snapshots})
    assert len(service.payouts(round_number=1)) == len([s for s in snapshots if s.stake > 0])
    assert len(service.list_submissions(round_number=1)) == N_WORKERS == len(snapshots)
    assert len(service.scores(round_number=1)) == 2 * 2 * N_WORKERS  # corr and mmc, 2 days, once each
    audit = service.audit()
    assert audit.ok and audit.circulating == 100 * N_WORKERS * TOKEN + sum(
        p.amount for p in service.payouts()
    )
    service.unit_of_work.close()  # type: ignore[attr-defined]
