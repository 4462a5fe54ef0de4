"""The resolve dry run: exactly the payouts a resolve makes, and nothing written (SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest

from kardashev.errors import StateError
from kardashev.tournament import RoundStatus, tokens_to_units
from kardashev.tournament.dry_run import preview_resolve

from .conftest import at

TOKEN = tokens_to_units(1)


def _state(service, number):  # type: ignore[no-untyped-def]
    return (
        service.get_round(number),
        service.balances(),
        service.payouts(),
        service.scores(round_number=number),
        service.audit(),
    )


@pytest.fixture
def closed_round(service, market):  # type: ignore[no-untyped-def]
    for index, name in enumerate(("ann", "bob", "cyd")):
        service.create_account(name, now=at(0), tokens=1000 * TOKEN)
        service.create_model(name, f"{name}_model", now=at(0))
        service.stake_increase(f"{name}_model", (100 + 50 * index) * TOKEN, now=at(0))
    service.open_round(1, universe=list(market.ids), close_time=at(1), now=at(0), horizon_days=2)
    for seed, name in enumerate(("ann", "bob", "cyd")):
        service.submit(f"{name}_model", 1, market.predictions(0.5 + seed, seed=seed), now=at(0.5))
    service.close_round(1, now=at(1))
    service.score_round(1, market.day(1, seed=1), now=at(2))
    return 1


def test_dry_run_with_the_final_day_equals_the_resolve_and_writes_nothing(service, market, closed_round):
    before = _state(service, closed_round)
    final = market.day(2, seed=1)
    preview = preview_resolve(service, closed_round, now=at(4), day=final)
    assert _state(service, closed_round) == before
    assert not preview.already_resolved and len(preview.payouts) == 3
    assert preview.total_minted > 0 or preview.total_burned > 0
    payouts = service.resolve_round(closed_round, now=at(4), day=final)
    assert list(preview.payouts) == payouts
    audit = service.audit()
    assert audit.minted - before[4].minted == preview.total_minted
    assert audit.burned - before[4].burned == preview.total_burned
    assert preview.net == preview.total_minted - preview.total_burned
    again = preview_resolve(service, closed_round, now=at(5))
    assert again.already_resolved and list(again.payouts) == payouts


def test_dry_run_refuses_what_resolve_refuses(service, market, closed_round):
    before = _state(service, closed_round)
    with pytest.raises(StateError) as info:
        preview_resolve(service, closed_round, now=at(4))  # final day not scored, no data given
    assert info.value.code == "round_not_scored"
    with pytest.raises(StateError) as info:
        preview_resolve(service, closed_round, now=at(1.5), day=market.day(2, seed=1))
    assert info.value.code == "round_not_due"
    assert _state(service, closed_round) == before
    assert service.get_round(closed_round).status is RoundStatus.CLOSED
