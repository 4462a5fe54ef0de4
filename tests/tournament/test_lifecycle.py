"""A round's next step and what it waits for, at hand-picked times."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from kardashev.tournament.domain import Round, RoundKind, RoundStatus
from kardashev.tournament.lifecycle import next_step

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)

ROUND = Round(
    number=7,
    kind=RoundKind.CLASSIC,
    universe_sha256="0" * 64,
    n_universe=10,
    target_name="target",
    horizon_days=4,
    open_time=T0,
    close_time=T0 + 2 * DAY,
    late_close_time=T0 + 3 * DAY,
    resolve_time=T0 + 6 * DAY,
    status=RoundStatus.OPEN,
)


def test_an_open_round_waits_for_its_close_time():
    early = next_step(ROUND, T0 + DAY)
    assert (early.step, early.ready) == ("close", False)
    assert early.waits == "the close time (2026-01-07 12:00 UTC)"
    assert early.status == "open for submissions until 2026-01-07 12:00 UTC; then it can be closed"
    due = next_step(ROUND, T0 + 2 * DAY)
    assert (due.step, due.ready, due.waits) == ("close", True, "")


def test_a_closed_round_waits_for_the_next_days_data_then_the_resolve_time():
    closed = replace(ROUND, status=RoundStatus.CLOSED, days_scored=1)
    step = next_step(closed, T0 + 3 * DAY)
    assert (step.step, step.day, step.final, step.resolvable, step.waits) == (
        "score",
        2,
        False,
        False,
        "day 2's data",
    )
    assert "scoring needs day 2's data; due for resolve at 2026-01-11 12:00 UTC" in step.status
    last = next_step(replace(closed, days_scored=3), T0 + 5 * DAY)
    assert (last.day, last.final, last.resolvable) == (4, True, False)
    assert last.waits == "day 4's data and the resolve time (2026-01-11 12:00 UTC) to resolve"
    assert next_step(replace(closed, days_scored=3), T0 + 6 * DAY).resolvable


def test_a_fully_scored_round_waits_for_the_resolve_time_and_a_resolved_one_for_nothing():
    scored = replace(ROUND, status=RoundStatus.CLOSED, days_scored=4)
    early = next_step(scored, T0 + 5 * DAY)
    assert (early.step, early.ready, early.waits) == (
        "resolve",
        False,
        "the resolve time (2026-01-11 12:00 UTC)",
    )
    assert next_step(scored, T0 + 6 * DAY).ready
    done = next_step(replace(scored, status=RoundStatus.RESOLVED, resolved_at=T0 + 7 * DAY), T0 + 8 * DAY)
    assert (done.step, done.ready, done.waits) == ("done", False, "")
    assert done.status.startswith("resolved at 2026-01-12 12:00 UTC")
