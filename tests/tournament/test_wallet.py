"""An account's wallet history against the ledger's own balances and the round's payouts."""

from __future__ import annotations

from collections import defaultdict

from kardashev.tournament import ledger as la
from kardashev.tournament import tokens_to_units

from .conftest import at

TOKEN = tokens_to_units(1)


def _net(rows) -> dict[str, int]:  # type: ignore[no-untyped-def]
    net: dict[str, int] = defaultdict(int)
    for row in rows:
        assert row.amount > 0
        net[row.source] -= row.amount
        net[row.destination] += row.amount
    return net


def test_wallet_history_reconciles_with_balances_and_payouts(service, market):
    ann = service.create_account("ann", now=at(0), tokens=1000 * TOKEN)
    bob = service.create_account("bob", now=at(0), tokens=700 * TOKEN)
    service.deposit("ann", 50 * TOKEN, now=at(0.1))
    first = service.create_model("ann", "first", now=at(0))
    second = service.create_model("ann", "second", now=at(0))
    other = service.create_model("bob", "other", now=at(0))
    service.stake_increase("first", 400 * TOKEN, now=at(0.2))
    service.stake_increase("second", 100 * TOKEN, now=at(0.2))
    service.stake_increase("other", 300 * TOKEN, now=at(0.2))
    service.open_round(1, universe=list(market.ids), close_time=at(1), now=at(0), horizon_days=1)
    for seed, model in enumerate(("first", "second", "other")):
        service.submit(model, 1, market.predictions(1.0 - seed, seed=seed), now=at(0.5))
    service.close_round(1, now=at(1))
    service.stake_decrease("first", 30 * TOKEN, now=at(1.2))  # waits for round 1
    service.stake_decrease("second", 10 * TOKEN, now=at(1.3))  # waits too (second is escrowed)
    payouts = service.resolve_round(1, now=at(3), day=market.day(1, seed=1))

    rows = service.wallet_transactions("ann")
    kinds = [row.kind for row in rows]
    assert kinds[:5] == ["deposit", "deposit", "stake_increase", "stake_increase", "stake_decrease"]
    assert [row.transaction_id for row in rows] == sorted(row.transaction_id for row in rows)
    own = {la.wallet_account(ann.id), la.stake_account(first.id), la.stake_account(second.id)}
    own |= {la.pending_account(first.id), la.pending_account(second.id)}
    assert {row.source for row in rows} | {row.destination for row in rows} <= own | {la.PAYOUT_POOL, la.BURN}
    assert all(row.model_id in (None, first.id, second.id) for row in rows)

    net = _net(rows)  # the history adds up to what the ledger holds now
    assert net[la.wallet_account(ann.id)] == service.wallet("ann")
    for model in (first, second):
        assert net[la.stake_account(model.id)] == service.stake(model.id).total
        assert net[la.pending_account(model.id)] == service.stake(model.id).pending
    settled = {row.model_id: row for row in rows if row.kind in ("payout", "burn")}
    assert set(settled) == {first.id, second.id}  # both models were paid or burned
    for payout in payouts:
        if payout.model_id == other.id or payout.amount == 0:
            assert payout.model_id not in settled
            continue
        row = settled[payout.model_id]
        assert (row.kind, row.amount, row.round_number) == (
            "payout" if payout.amount > 0 else "burn",
            abs(payout.amount),
            1,
        )
    assert not [row for row in rows if row.kind == "escrow"]  # moves inside a stake are no rows
    assert [row.kind for row in rows].count("release") == 2  # both decreases released at resolution

    bob_rows = service.wallet_transactions(bob.id)
    assert [(r.kind, r.amount) for r in bob_rows][:2] == [
        ("deposit", 700 * TOKEN),
        ("stake_increase", 300 * TOKEN),
    ]
    assert not {r.transaction_id for r in bob_rows if r.kind in ("deposit", "stake_increase")} & {
        r.transaction_id for r in rows
    }
    assert service.wallet_transactions(service.create_account("new", now=at(4)).id) == []
