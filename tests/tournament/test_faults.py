"""Crash safety: a fault injected at every database write of a step leaves the state exactly as
before the step; each lifecycle step run twice changes nothing; no row points at a missing blob."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import event, select

from kardashev.store import Store
from kardashev.store.models import Base
from kardashev.tournament import TournamentService, tokens_to_units

from .conftest import at

TOKEN = tokens_to_units(1)
BLOB_COLUMNS = {"universe_sha256", "meta_model_sha256", "naive_meta_model_sha256", "sha256"}


class InjectedFaultError(RuntimeError):
    """Raised by the hook in place of the N-th write."""


class WriteFaults:
    """Counts INSERT/UPDATE/DELETE statements on an engine and raises at the N-th one."""

    def __init__(self, store: Store) -> None:
        self.fail_at: int | None = None
        self.writes = 0
        event.listen(store.engine, "before_cursor_execute", self._hook)

    def _hook(self, conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.writes += 1
            if self.fail_at is not None and self.writes == self.fail_at:
                raise InjectedFaultError(f"fault injected at write {self.writes}")

    def run(self, step: Callable[[], object], *, fail_at: int | None) -> None:
        self.writes, self.fail_at = 0, fail_at
        try:
            step()
        finally:
            self.fail_at = None


def dump(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table, in a canonical order."""
    with store.session() as session:
        return {
            table.name: sorted(tuple(str(v) for v in row) for row in session.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


def assert_blobs_exist(store: Store, state: dict[str, list[tuple]]) -> None:
    for table in Base.metadata.sorted_tables:
        positions = [i for i, column in enumerate(table.columns) if column.name in BLOB_COLUMNS]
        for row in state[table.name]:
            for i in positions:
                if row[i] != "None":
                    assert store.blobs.path(row[i]).exists(), f"{table.name} points at missing blob {row[i]}"


def check_atomic(store: Store, faults: WriteFaults, step: Callable[[], object], *, idempotent: bool) -> None:
    """Fail the step at each of its writes (state unchanged), run it, then (if idempotent) again."""
    before = dump(store)
    n_writes = 0
    while True:
        n_writes += 1
        try:
            faults.run(step, fail_at=n_writes)
        except InjectedFaultError:
            assert dump(store) == before, f"state changed after a fault at write {n_writes}"
            continue
        break  # fewer writes than n_writes: the step completed
    assert n_writes > 1, "the step wrote nothing, so no fault could be injected"
    after = dump(store)
    assert after != before
    assert_blobs_exist(store, after)
    if idempotent:
        step()
        assert dump(store) == after, "running the step again changed the state"


@pytest.fixture
def faults(store: Store) -> WriteFaults:
    return WriteFaults(store)


def test_every_step_is_atomic_and_idempotent(store, service: TournamentService, faults, market):
    ids = list(market.ids)
    check_atomic(
        store, faults, lambda: service.create_account("ann", now=at(0), tokens=100 * TOKEN), idempotent=False
    )
    service.create_account("bob", now=at(0), tokens=100 * TOKEN)
    check_atomic(store, faults, lambda: service.create_model("ann", "a1", now=at(0)), idempotent=False)
    service.create_model("bob", "b1", now=at(0))
    check_atomic(store, faults, lambda: service.stake_increase("a1", 50 * TOKEN, now=at(0)), idempotent=False)
    service.stake_increase("b1", 40 * TOKEN, now=at(0))
    check_atomic(
        store,
        faults,
        lambda: service.open_round(1, universe=ids, close_time=at(1), now=at(0), horizon_days=2),
        idempotent=True,
    )
    check_atomic(
        store,
        faults,
        lambda: service.submit("a1", 1, market.predictions(1, seed=1), now=at(0.1)),
        idempotent=True,
    )
    check_atomic(
        store,
        faults,
        lambda: service.submit("a1", 1, market.predictions(1, seed=2), now=at(0.2)),
        idempotent=True,
    )  # a replacement
    service.submit("b1", 1, market.predictions(1, seed=3), now=at(0.3))
    check_atomic(store, faults, lambda: service.close_round(1, now=at(1)), idempotent=True)
    check_atomic(
        store, faults, lambda: service.stake_decrease("b1", 10 * TOKEN, now=at(1.2)), idempotent=False
    )
    check_atomic(
        store, faults, lambda: service.score_round(1, market.day(1, seed=1), now=at(2)), idempotent=True
    )
    check_atomic(
        store, faults, lambda: service.resolve_round(1, now=at(3), day=market.day(2, seed=1)), idempotent=True
    )
    assert service.stake("b1").pending == 0  # released inside the resolve step
    assert service.audit().ok


def test_a_failed_blob_write_leaves_no_row(store, service: TournamentService, market, monkeypatch):
    service.create_account("ann", now=at(0))
    service.create_model("ann", "a1", now=at(0))
    service.open_round(1, universe=list(market.ids), close_time=at(1), now=at(0))
    before = dump(store)

    def broken_put(data: bytes) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(store.blobs, "put", broken_put)
    with pytest.raises(OSError, match="disk full"):
        service.submit("a1", 1, market.predictions(1, seed=1), now=at(0.1))
    assert dump(store) == before
