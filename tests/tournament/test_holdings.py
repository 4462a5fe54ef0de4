"""Account holdings read in one pass equal the service's own per-model and per-wallet reads."""

from __future__ import annotations

from kardashev.tournament.holdings import account_holdings
from tests.tournament.conftest import at


def test_holdings_match_the_services_stake_and_wallet(service, market):
    service.create_account("ann", now=at(0), tokens=1_000_000_000)
    service.create_account("bob", now=at(0), tokens=5_000_000)
    service.create_account("cy", now=at(0))
    for name, owner, stake in [("a1", "ann", 300_000_000), ("a2", "ann", 1), ("b1", "bob", 2_000_000)]:
        service.create_model(owner, name, now=at(0))
        service.stake_increase(name, stake, now=at(0))
    service.open_round(1, universe=list(market.ids), close_time=at(1), now=at(0), horizon_days=1)
    for seed, name in enumerate(["a1", "b1"]):
        service.submit(name, 1, market.predictions(0.5, seed=seed), now=at(0.5))
    service.close_round(1, now=at(1))  # stakes move into escrow
    service.stake_decrease("a1", 100_000_000, now=at(1.5))
    held = {h.account.name: h for h in account_holdings(service)}
    assert sorted(held) == ["ann", "bob", "cy"]
    for name, holding in held.items():
        assert holding.wallet == service.wallet(name)
        assert [m.name for m, _ in holding.models] == [m.name for m in service.list_models(account=name)]
        for model, info in holding.models:
            assert info == service.stake(model.name)
    assert held["ann"].staked == service.stake("a1").total + service.stake("a2").total
    assert any(info.at_risk > 0 for _, info in held["ann"].models)
    assert held["cy"].models == () and held["cy"].staked == 0
    (only,) = account_holdings(service, "bob")
    assert only == held["bob"]
