"""Property: any sequence of deposits and stake moves, valid or not, keeps the ledger exact."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kardashev.errors import InsufficientBalanceError
from kardashev.store import open_store
from kardashev.tournament import TournamentService

from .conftest import at, rank_scorer

operation = st.tuples(
    st.sampled_from(["deposit", "increase", "decrease"]),
    st.integers(min_value=0, max_value=2),  # which model (account = model // 2)
    st.integers(min_value=1, max_value=500),
)


@settings(max_examples=12, deadline=None)
@given(st.lists(operation, min_size=1, max_size=25))
def test_random_stake_moves_keep_the_ledger_exact(operations):
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(None, data_dir=Path(folder))
        service = TournamentService(store, scorer=rank_scorer)
        service.create_account("a0", now=at(0), tokens=300)
        service.create_account("a1", now=at(0), tokens=300)
        for k in range(3):
            service.create_model(f"a{k // 2}", f"m{k}", now=at(0))
        deposited = {"a0": 300, "a1": 300}
        for kind, k, amount in operations:
            model, account = f"m{k}", f"a{k // 2}"
            before = service.balances()
            try:
                if kind == "deposit":
                    service.deposit(account, amount, now=at(1))
                    deposited[account] += amount
                elif kind == "increase":
                    service.stake_increase(model, amount, now=at(1))
                else:
                    service.stake_decrease(model, amount, now=at(1))
            except InsufficientBalanceError:
                assert service.balances() == before  # a refused move changes nothing
            audit = service.audit()
            assert audit.ok and audit.burned == 0
            assert audit.circulating == sum(deposited.values()) == audit.minted
            assert all(v >= 0 for key, v in service.balances().items() if key != "payout_pool")
        for account, models in (("a0", ["m0", "m1"]), ("a1", ["m2"])):
            held = service.wallet(account) + sum(
                service.stake(m).total + service.stake(m).pending for m in models
            )
            assert held == deposited[account]  # no rounds: every token is in its owner's accounts
        store.close()
