"""Scoring runs with no database transaction open: money moves and uploads go on meanwhile.

A deliberately slow scorer blocks inside ``score_round`` / ``resolve_round`` until the test has made a
deposit, a stake increase and decrease and an upload; each must finish while the scorer still waits
(before this change the scorer ran inside the round's write transaction and every write queued
behind it). Then the step completes, stores its scores exactly once and the ledger balances.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pytest

from kardashev.tournament import UNITS_PER_TOKEN as TOKEN
from kardashev.tournament import PayoutConfig, TournamentService, ValidationConfig

from .conftest import at, rank_scorer

WAIT_S = 30.0


class SlowScorer:
    """``rank_scorer`` that signals it started and waits until released (at most ``WAIT_S``)."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, *, kind, era):  # type: ignore[no-untyped-def]
        self.calls += 1
        self.started.set()
        self.release.wait(WAIT_S)
        return rank_scorer(kind=kind, era=era)


def _in_thread(step: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(step())
        except BaseException as exc:  # reported by the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _setup(store, market, scorer: SlowScorer) -> TournamentService:  # type: ignore[no-untyped-def]
    service = TournamentService(
        store,
        payout=PayoutConfig(score_multipliers={"corr": 1.0}, cap=0.05),
        scorer=scorer,
        validation=ValidationConfig(min_tickers=10),
    )
    for name in ("ann", "bob"):
        service.create_account(name, now=at(0), tokens=100 * TOKEN)
        service.create_model(name, name, now=at(0))
        service.stake_increase(name, 10 * TOKEN, now=at(0))
    service.open_round(1, universe=list(market.ids), close_time=at(1), now=at(0), horizon_days=2)
    service.open_round(2, universe=list(market.ids), close_time=at(8), now=at(0), horizon_days=2)
    service.submit("ann", 1, market.predictions(1.0, seed=1), now=at(0.5))
    service.submit("bob", 1, market.predictions(0.5, seed=2), now=at(0.5))
    service.close_round(1, now=at(1))
    return service


def _writes_while_blocked(service: TournamentService, market, scorer: SlowScorer) -> None:  # type: ignore[no-untyped-def]
    assert scorer.started.wait(WAIT_S), "the scorer never started"
    writes = [
        lambda: service.deposit("ann", 5 * TOKEN, now=at(2)),
        lambda: service.stake_increase("bob", 1 * TOKEN, now=at(2)),
        lambda: service.stake_decrease("ann", 1 * TOKEN, now=at(2)),
        lambda: service.submit("ann", 2, market.predictions(1.0, seed=3), now=at(2)),
    ]
    for write in writes:
        thread, outcome = _in_thread(write)
        thread.join(10.0)
        assert not thread.is_alive(), "a write waited for the round being scored"
        assert outcome and not isinstance(outcome[0], BaseException), outcome
    assert not scorer.release.is_set()  # all of the above happened while the scorer was still computing


@pytest.mark.parametrize("step", ["score", "resolve"])
def test_money_moves_and_uploads_go_on_while_a_round_is_scored(store, market, step):  # type: ignore[no-untyped-def]
    scorer = SlowScorer()
    service = _setup(store, market, scorer)
    if step == "score":
        thread, outcome = _in_thread(lambda: service.score_round(1, market.day(1, seed=1), now=at(2)))
    else:
        scorer.release.set()  # day 1 scored at once; the final day is scored inside resolve
        service.score_round(1, market.day(1, seed=1), now=at(2))
        scorer.release.clear()
        scorer.started.clear()
        thread, outcome = _in_thread(lambda: service.resolve_round(1, now=at(3), day=market.day(2, seed=2)))
    try:
        _writes_while_blocked(service, market, scorer)
    finally:
        scorer.release.set()
        thread.join(WAIT_S)
    assert outcome and not isinstance(outcome[0], BaseException), outcome
    round_ = service.get_round(1)
    if step == "score":
        assert round_.days_scored == 1
        scores = service.scores(round_number=1, day=1)
        assert sorted({s.metric for s in scores}) == ["corr", "mmc"] and len(scores) == 4
    else:
        assert round_.status.value == "resolved" and round_.days_scored == 2
        payouts = service.payouts(round_number=1)
        assert len(payouts) == 2 and any(p.amount != 0 for p in payouts)
    assert service.audit().ok
    # the deposit landed once; in the resolve case the stake decrease is released with the round
    released = 1 if step == "resolve" else 0
    assert service.wallet("ann") == (100 - 10 + 5 + released) * TOKEN


def test_a_late_submission_during_scoring_makes_the_day_be_scored_again(store, market):  # type: ignore[no-untyped-def]
    scorer = SlowScorer()
    service = _setup(store, market, scorer)
    service.create_account("cat", now=at(0))
    service.create_model("cat", "cat", now=at(0))
    thread, outcome = _in_thread(lambda: service.score_round(1, market.day(1, seed=1), now=at(1.5)))
    assert scorer.started.wait(WAIT_S)
    service.submit("cat", 1, market.predictions(0.2, seed=4), now=at(1.5))  # late: after the close
    scorer.release.set()
    thread.join(WAIT_S)
    assert outcome and not isinstance(outcome[0], BaseException), outcome
    assert scorer.calls == 2  # the first result was for two submissions; the stored one covers three
    scores = service.scores(round_number=1, day=1)
    assert len({s.model_id for s in scores}) == 3
    corr = {s.model_id: s.value for s in scores if s.metric == "corr"}
    assert np.isfinite(list(corr.values())).all()
