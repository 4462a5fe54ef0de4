"""Whole seasons through the lifecycle, on SQLite and PostgreSQL, checking the ledger after every step."""

from __future__ import annotations

import pytest

from kardashev.errors import ConflictError, InsufficientBalanceError, StateError, SubmissionError
from kardashev.tournament import RoundStatus, TournamentService, tokens_to_units
from kardashev.tournament import ledger as ledger_accounts

from .conftest import at

TOKEN = tokens_to_units(1)


class LedgerWatch:
    """After every step: the ledger is healthy, and circulating tokens moved only by mint/burn."""

    def __init__(self, service: TournamentService) -> None:
        self.service = service
        self.last = service.audit()
        assert self.last.ok

    def step(self, *, minted: int = 0, burned: int = 0, payouts: list | None = None) -> None:
        audit = self.service.audit()
        assert audit.ok, audit
        if payouts is not None:
            minted = sum(p.amount for p in payouts if p.amount > 0)
            burned = -sum(p.amount for p in payouts if p.amount < 0)
        assert audit.minted - self.last.minted == minted
        assert audit.burned - self.last.burned == burned
        assert audit.circulating - self.last.circulating == minted - burned
        self.last = audit


def test_season_with_overlapping_rounds_late_entries_stake_changes_and_a_dropout(service, market):
    watch = LedgerWatch(service)
    for name in ("ann", "bob", "cyd"):
        service.create_account(name, now=at(0), tokens=1000 * TOKEN)
        watch.step(minted=1000 * TOKEN)
    steady = service.create_model("ann", "steady", now=at(0))
    quitter = service.create_model("bob", "quitter", now=at(0))
    latecomer = service.create_model("cyd", "latecomer", now=at(0))
    unstaked = service.create_model("cyd", "unstaked", now=at(0))
    service.stake_increase("steady", 500 * TOKEN, now=at(0))
    service.stake_increase("quitter", 300 * TOKEN, now=at(0))
    service.stake_increase("latecomer", 200 * TOKEN, now=at(0))
    watch.step()

    # Rounds open every 2 days, close 1 day later, score over 3 days: up to 3 rounds in flight.
    def open_(number: int) -> None:
        start = 2 * (number - 1)
        service.open_round(
            number,
            universe=list(market.ids),
            close_time=at(start + 1),
            now=at(start),
            horizon_days=3,
            late_close_time=at(start + 1.5),
        )
        watch.step()

    def submit(model: str, number: int, when: float, seed: int):  # type: ignore[no-untyped-def]
        result = service.submit(model, number, market.predictions(1.0, seed=seed), now=at(when))
        watch.step()
        return result

    def close(number: int) -> None:
        service.close_round(number, now=at(2 * (number - 1) + 1))
        watch.step()

    def score(number: int, day: int) -> None:
        service.score_round(number, market.day(day, seed=number), now=at(2 * (number - 1) + 1 + day))
        watch.step()

    def resolve(number: int) -> list:
        payouts = service.resolve_round(number, now=at(2 * (number - 1) + 4))
        watch.step(payouts=payouts)
        return payouts

    open_(1)
    submit("steady", 1, 0.1, seed=11)
    submit("quitter", 1, 0.2, seed=12)
    submit("unstaked", 1, 0.3, seed=13)
    first = submit("steady", 1, 0.4, seed=14)  # replaces the earlier one
    assert len(service.list_submissions(round_number=1, model="steady")) == 1
    assert service.list_submissions(round_number=1, model="steady")[0].checksum == first.checksum
    close(1)
    snapshots = {s.model_id: s for s in service.stake_snapshots(round_number=1)}
    assert snapshots[steady.id].stake == 500 * TOKEN and snapshots[steady.id].at_risk == 25 * TOKEN
    assert snapshots[unstaked.id].stake == 0
    assert latecomer.id not in snapshots
    r1 = service.get_round(1)
    assert r1.status is RoundStatus.CLOSED and r1.n_contributors == 3 and r1.n_staked_models == 2

    # A stake increase while round 1 is held counts from round 2 on.
    service.stake_increase("steady", 100 * TOKEN, now=at(1.5))
    watch.step()
    open_(2)
    score(1, 1)
    submit("steady", 2, 2.1, seed=21)
    submit("quitter", 2, 2.2, seed=22)
    close(2)
    assert service.get_round(2).n_contributors == 2
    snapshots2 = {s.model_id: s for s in service.stake_snapshots(round_number=2)}
    assert snapshots2[steady.id].stake == 600 * TOKEN  # 475 free + 25 escrowed in round 1 + 100 new
    assert service.stake_snapshots(round_number=1, model="steady")[0].stake == 500 * TOKEN

    # Late entry: scored, not staked, not in the meta model; a second late entry is refused.
    submit("latecomer", 2, 3.2, seed=23)
    assert service.list_submissions(round_number=2, model="latecomer")[0].late
    with pytest.raises(ConflictError):
        service.submit("latecomer", 2, market.predictions(1.0, seed=24), now=at(3.3))
    with pytest.raises(ConflictError):  # an on-time submission cannot be replaced after the close
        service.submit("steady", 2, market.predictions(1.0, seed=25), now=at(3.3))
    with pytest.raises(StateError, match="closed"):
        service.submit("unstaked", 2, market.predictions(1.0, seed=26), now=at(3.6))
    watch.step()

    # The quitter decreases its stake while rounds 1 and 2 hold it: pending until both resolve.
    bob_wallet = service.wallet("bob")
    info = service.stake_decrease("quitter", 100 * TOKEN, now=at(3.4))
    watch.step()
    assert info.pending == 100 * TOKEN and service.wallet("bob") == bob_wallet
    with pytest.raises(InsufficientBalanceError):
        service.stake_decrease("quitter", 10_000 * TOKEN, now=at(3.4))
    watch.step()

    score(1, 2)
    score(2, 1)
    open_(3)
    submit("steady", 3, 4.1, seed=31)  # the quitter stops submitting from round 3 on
    submit("unstaked", 3, 4.2, seed=32)
    score(1, 3)
    payouts1 = resolve(1)
    assert {p.model_id for p in payouts1} == {steady.id, quitter.id}
    assert all(abs(p.amount) <= p.stake * 0.05 for p in payouts1)
    assert service.wallet("bob") == bob_wallet  # round 2 still holds the quitter's stake
    close(3)
    assert quitter.id not in {s.model_id for s in service.stake_snapshots(round_number=3)}
    score(2, 2)
    score(2, 3)
    daily = service.scores(round_number=2, day=3)
    assert {s.model_id for s in daily} == {steady.id, quitter.id, latecomer.id}
    payouts2 = resolve(2)
    assert latecomer.id not in {p.model_id for p in payouts2}
    assert service.wallet("bob") == bob_wallet + 100 * TOKEN  # released after round 2 resolved
    assert service.stake("quitter").pending == 0
    for day in (1, 2, 3):
        score(3, day)
    resolve(3)

    # Stake accounting: escrows are all settled and every model's stake is free again.
    assert not {k: v for k, v in service.balances().items() if k.startswith("at_risk:") and v}
    expected = 500 * TOKEN + 100 * TOKEN + sum(p.amount for p in service.payouts(model="steady"))
    assert service.stake("steady").total == expected
    quitter_expected = 300 * TOKEN - 100 * TOKEN + sum(p.amount for p in service.payouts(model="quitter"))
    assert service.stake("quitter").total == quitter_expected
    final = service.audit()
    assert final.ok
    assert final.circulating == 3000 * TOKEN + sum(p.amount for p in service.payouts())


def test_rounds_refuse_wrong_states_and_bad_input(service, market):
    service.create_account("ann", now=at(0), tokens=10 * TOKEN)
    service.create_model("ann", "m", now=at(0))
    service.open_round(1, universe=list(market.ids), close_time=at(1), now=at(0), horizon_days=2)
    with pytest.raises(StateError, match="not closed"):
        service.score_round(1, market.day(1, seed=1), now=at(0.5))
    with pytest.raises(StateError):
        service.close_round(1, now=at(0.5))  # before its close time
    with pytest.raises(ConflictError):
        service.open_round(1, universe=list(market.ids)[:-1], close_time=at(1), now=at(0), horizon_days=2)
    retried = service.open_round(1, universe=list(market.ids), close_time=at(1), now=at(0.1), horizon_days=2)
    assert retried.open_time == at(0)  # a retry later is the same step: nothing changes
    with pytest.raises(SubmissionError) as error:
        frame = market.predictions(1.0, seed=1).iloc[:-3]
        service.submit("m", 1, frame, now=at(0.2))
    assert error.value.code == "missing_ids"
    assert service.list_submissions(round_number=1) == []
    service.submit(
        "m", 1, market.predictions(1.0, seed=1).to_csv(index=False).encode(), now=at(0.2), filename="p.csv"
    )
    service.close_round(1, now=at(1))
    with pytest.raises(StateError, match="day 0 of 2"):
        service.resolve_round(1, now=at(5))
    payouts = service.resolve_round(1, now=at(5), day=market.day(2, seed=1))  # scores the last day itself
    assert payouts == []  # the model had no stake
    assert service.get_round(1).status is RoundStatus.RESOLVED
    assert {s.metric for s in service.scores(round_number=1)} == {"corr", "mmc"}
    with pytest.raises(InsufficientBalanceError):
        service.stake_increase("m", 11 * TOKEN, now=at(6))
    assert service.audit().ok
    assert service.balances()[ledger_accounts.wallet_account(service.get_account("ann").id)] == 10 * TOKEN


def test_leaderboard_diagnostics_and_meta_model_release(service, market):
    from kardashev.tournament.leaderboard import LeaderboardConfig
    from kardashev.tournament.release import ReleaseConfig

    for k in range(3):
        service.create_account(f"acc{k}", now=at(0), tokens=100 * TOKEN)
        service.create_model(f"acc{k}", f"m{k}", now=at(0))
        service.stake_increase(f"m{k}", (10 + 10 * k) * TOKEN, now=at(0))
    assert service.leaderboard().empty
    for number in (1, 2, 3):
        start = 3 * (number - 1)
        service.open_round(
            number, universe=list(market.ids), close_time=at(start + 1), now=at(start), horizon_days=1
        )
        for k in range(3 if number < 3 else 2):  # m2 stops after round 2
            service.submit(
                f"m{k}", number, market.predictions(0.5 + k, seed=10 * number + k), now=at(start + 0.5)
            )
        service.close_round(number, now=at(start + 1))
        service.resolve_round(number, now=at(start + 2), day=market.day(1, seed=number))

    results = service.results()
    assert len(results) == 8 and {"corr", "mmc", "stake", "payout"} <= set(results.columns)
    board = service.leaderboard(config=LeaderboardConfig(windows=(("2r", 2),)))
    assert list(board.index.sort_values()) == ["m0", "m1", "m2"]
    assert board.loc["m2", "last_round"] == 2
    m0 = results[results["model"] == "m0"].set_index("round")
    assert board.loc["m0", "corr"] == pytest.approx(m0.loc[3, "corr"])
    assert board.loc["m0", "corr_2r"] == pytest.approx(m0.loc[[2, 3], "corr"].mean())
    per_round, summary = service.diagnostics("m1")
    assert list(per_round.index) == [1, 2, 3]
    assert summary.loc["corr", "mean"] == pytest.approx(per_round["corr"].mean())

    from kardashev.tournament.grades import GradeConfig

    grades = service.grades(config=GradeConfig(min_eras=2, target_horizon_eras=1))
    assert {g.model for g in grades.models} == {"m0", "m1", "m2"}
    m0_test = next(g for g in grades.models if g.model == "m0").type_i
    assert m0_test.n_eras == 3 and m0_test.mean == pytest.approx(m0["corr"].mean())

    strict = ReleaseConfig(lag_rounds=1, min_contributors=3)
    assert not service.release_decision(3, config=strict).releasable  # newest round: lag not met
    assert not service.release_decision(2, config=ReleaseConfig(lag_rounds=1, min_contributors=4)).releasable
    released = service.released_meta_model(1, config=strict)
    assert len(released) == len(market.ids) and released.between(0, 1).all()
    with pytest.raises(StateError) as error:
        service.released_meta_model(3, config=strict)
    assert error.value.code == "not_releasable"


def test_signals_rounds_apply_the_churn_rule_at_close(store, market):
    import numpy as np
    import pandas as pd

    from kardashev.tournament import ChurnRule, PayoutConfig, RoundKind, ValidationConfig

    from .conftest import rank_scorer

    service = TournamentService(
        store,
        payout=PayoutConfig(churn_rule=ChurnRule(max_churn=0.15, max_turnover=0.25, lookback=5)),
        scorer=rank_scorer,
        validation=ValidationConfig(min_tickers=10),
    )
    service.create_account("ann", now=at(0), tokens=100 * TOKEN)
    for name in ("steady", "flipper"):
        service.create_model("ann", name, now=at(0))
        service.stake_increase(name, 40 * TOKEN, now=at(0))
    base = np.linspace(0, 1, market.ids.size)
    for number, flip in ((1, False), (2, True)):
        start = 3 * (number - 1)
        service.open_round(
            number,
            universe=list(market.ids),
            close_time=at(start + 1),
            now=at(start),
            kind=RoundKind.SIGNALS,
            horizon_days=1,
        )
        for name in ("steady", "flipper"):
            signal = base[::-1] if (flip and name == "flipper") else base
            frame = pd.DataFrame({"numerai_ticker": market.ids, "signal": signal})
            service.submit(name, number, frame, now=at(start + 0.5))
        service.close_round(number, now=at(start + 1))
        snapshots = service.stake_snapshots(round_number=number)
        stakes = {service.get_model(s.model_id).name: s.stake for s in snapshots}
        assert stakes["steady"] > 0
        assert (stakes["flipper"] == 0) == flip  # reversed ranks: churn 2 ≥ 0.15
        service.resolve_round(number, now=at(start + 2), day=market.day(1, seed=number))
    assert not service.payouts(round_number=2, model="flipper")
    assert service.audit().ok


def test_bad_day_data_is_refused_without_side_effects(service, market):
    import numpy as np

    from kardashev.errors import InvalidInputError
    from kardashev.tournament import round_day

    service.create_account("ann", now=at(0))
    service.create_model("ann", "m", now=at(0))
    service.open_round(1, universe=list(market.ids), close_time=at(1), now=at(0), horizon_days=2)
    service.submit("m", 1, market.predictions(1.0, seed=1), now=at(0.5))
    service.close_round(1, now=at(1))
    good = market.day(1, seed=1)
    bad_days = [  # refused where the day's era is built (shapes, duplicates, NaN) or when scored
        {"day": 1, "ids": good.ids, "target": good.target[:-1]},
        {"day": 1, "ids": np.concatenate([good.ids[:-1], good.ids[:1]]), "target": good.target},
        {
            "day": 1,
            "ids": good.ids,
            "target": good.target,
            "realized_returns": np.full(good.ids.size, np.nan),
        },
        {"day": 3, "ids": good.ids, "target": good.target},
        {"day": 1, "ids": good.ids[:10], "target": good.target[:10]},  # too few universe ids
    ]
    for bad in bad_days:
        with pytest.raises(InvalidInputError):
            service.score_round(1, round_day(**bad), now=at(2))
    assert service.get_round(1).days_scored == 0 and service.scores(round_number=1) == []


def test_a_final_day_without_the_scores_the_payout_rule_needs_is_refused(store, market):
    from kardashev.errors import InvalidInputError
    from kardashev.tournament import PayoutConfig, round_day

    from .conftest import rank_scorer

    service = TournamentService(store, scorer=rank_scorer, payout=PayoutConfig(score_multipliers={"tc": 1.0}))
    service.create_account("ann", now=at(0), tokens=10 * TOKEN)
    service.create_model("ann", "m", now=at(0))
    service.stake_increase("m", 10 * TOKEN, now=at(0))
    service.open_round(1, universe=list(market.ids), close_time=at(1), now=at(0), horizon_days=1)
    service.submit("m", 1, market.predictions(1.0, seed=1), now=at(0.5))
    service.close_round(1, now=at(1))
    day = market.day(1, seed=1)
    with pytest.raises(InvalidInputError) as error:
        service.score_round(1, round_day(day=1, ids=day.ids, target=day.target), now=at(2))
    assert error.value.code == "missing_scores" and service.get_round(1).days_scored == 0
    # A rule that changed after scoring: nobody is paid or burned, every escrow comes back.
    lenient = TournamentService(store, scorer=rank_scorer)  # pays on corr and mmc
    lenient.score_round(1, day, now=at(2))
    payouts = service.resolve_round(1, now=at(2))
    assert [p.amount for p in payouts] == [0]
    assert service.stake("m").total == 10 * TOKEN and service.stake("m").at_risk == 0
    assert service.audit().ok
