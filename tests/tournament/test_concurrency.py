"""Concurrent writers (threads, each call its own session and transaction) on both databases."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from kardashev.errors import InsufficientBalanceError
from kardashev.store import open_store
from kardashev.tournament import TournamentService, tokens_to_units

from .conftest import at, rank_scorer

TOKEN = tokens_to_units(1)


def run_together(tasks: list[Callable[[], object]]) -> list[object]:
    """Start every task at once; returns each task's result or the exception it raised."""
    barrier = threading.Barrier(len(tasks))
    results: list[object] = [None] * len(tasks)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = tasks[i]()
        except Exception as exc:  # collected and asserted on by the caller
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(tasks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_concurrent_submissions_for_one_model_keep_exactly_one(service: TournamentService, market):
    service.create_account("ann", now=at(0))
    service.create_model("ann", "a1", now=at(0))
    service.open_round(1, universe=list(market.ids), close_time=at(1), now=at(0))
    frames = [market.predictions(1.0, seed=seed) for seed in range(8)]
    results = run_together([lambda f=f: service.submit("a1", 1, f, now=at(0.5)) for f in frames])
    assert not [r for r in results if isinstance(r, Exception)], results
    stored = service.list_submissions(round_number=1)
    assert len(stored) == 1
    assert stored[0].checksum in {r.checksum for r in results}  # one of the uploads won, whole
    kept = service.submission_predictions(stored[0])
    winners = [f for f, r in zip(frames, results, strict=True) if r.checksum == stored[0].checksum]
    assert (kept.to_numpy() == winners[0]["prediction"].to_numpy()).all()


def test_concurrent_submissions_of_many_models_from_separate_stores(db_url, data_dir, market):
    workers = [TournamentService(open_store(db_url, data_dir=data_dir), scorer=rank_scorer) for _ in range(3)]
    try:
        admin = workers[0]
        admin.create_account("ann", now=at(0))
        for k in range(6):
            admin.create_model("ann", f"m{k}", now=at(0))
        admin.open_round(1, universe=list(market.ids), close_time=at(1), now=at(0))
        tasks = [
            lambda k=k, r=r: workers[(k + r) % 3].submit(
                f"m{k}", 1, market.predictions(1.0, seed=10 * k + r), now=at(0.5)
            )
            for k in range(6)
            for r in range(2)
        ]
        results = run_together(tasks)
        assert not [r for r in results if isinstance(r, Exception)], results
        stored = admin.list_submissions(round_number=1)
        assert sorted(s.model_id for s in stored) == sorted({s.model_id for s in stored}) and len(stored) == 6
    finally:
        for worker in workers:
            worker.unit_of_work.close()  # type: ignore[attr-defined]


def test_concurrent_stake_increases_never_overdraw(service: TournamentService):
    service.create_account("ann", now=at(0), tokens=100 * TOKEN)
    service.create_model("ann", "a1", now=at(0))
    service.create_model("ann", "a2", now=at(0))
    tasks = [lambda k=k: service.stake_increase(f"a{1 + k % 2}", 30 * TOKEN, now=at(0)) for k in range(6)]
    results = run_together(tasks)
    succeeded = [r for r in results if not isinstance(r, Exception)]
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(succeeded) == 3 and all(isinstance(r, InsufficientBalanceError) for r in failed)
    assert service.wallet("ann") == 10 * TOKEN
    assert service.stake("a1").stake + service.stake("a2").stake == 90 * TOKEN
    assert service.audit().ok


def test_concurrent_closes_escrow_once(service: TournamentService, market):
    service.create_account("ann", now=at(0), tokens=100 * TOKEN)
    service.create_model("ann", "a1", now=at(0))
    service.stake_increase("a1", 100 * TOKEN, now=at(0))
    service.open_round(1, universe=list(market.ids), close_time=at(1), now=at(0))
    service.submit("a1", 1, market.predictions(1.0, seed=1), now=at(0.5))
    results = run_together([lambda: service.close_round(1, now=at(1)) for _ in range(4)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert service.stake("a1").at_risk == 5 * TOKEN
    assert len(service.stake_snapshots(round_number=1)) == 1
    assert service.audit().ok


def test_idempotency_keys_make_retries_and_concurrent_duplicates_post_once(service: TournamentService):
    from kardashev.errors import ConflictError

    service.create_account("ann", now=at(0), tokens=100 * TOKEN)
    service.create_model("ann", "a1", now=at(0))
    service.stake_increase("a1", 10 * TOKEN, now=at(0), idempotency_key="req-1")
    again = service.stake_increase("a1", 10 * TOKEN, now=at(0), idempotency_key="req-1")  # a retry
    assert again.stake == 10 * TOKEN and service.wallet("ann") == 90 * TOKEN
    results = run_together(
        [
            lambda: service.stake_increase("a1", 5 * TOKEN, now=at(0), idempotency_key="req-2")
            for _ in range(4)
        ]
    )
    assert all(isinstance(r, ConflictError) or r.stake == 15 * TOKEN for r in results)
    assert service.stake("a1").stake == 15 * TOKEN
    with pytest.raises(ConflictError):
        service.stake_decrease("a1", 1 * TOKEN, now=at(0), idempotency_key="req-1")  # used by another kind
    service.stake_decrease("a1", 3 * TOKEN, now=at(0), idempotency_key="req-3")
    service.stake_decrease("a1", 3 * TOKEN, now=at(0), idempotency_key="req-3")
    assert service.stake("a1").stake == 12 * TOKEN and service.wallet("ann") == 88 * TOKEN
    assert service.audit().ok


def test_concurrent_opens_of_one_round_all_succeed(service: TournamentService, market):
    results = run_together(
        [
            lambda: service.open_round(7, universe=list(market.ids), close_time=at(1), now=at(0))
            for _ in range(4)
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.universe_sha256 for r in results}) == 1 and [r.number for r in service.list_rounds()] == [7]
