"""A round's next lifecycle step and what it waits for (the operator's "what now?").

One answer for every front end: the operator web pages show it in a table, ``kardashev round status``
and ``kardashev round show N`` print it as a sentence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kardashev.tournament.domain import Round, RoundStatus

__all__ = ["NextStep", "next_step"]


def _at(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True)
class NextStep:
    """The round's next step at ``now``.

    ``step`` is ``close``, ``score``, ``resolve`` or ``done``; ``ready`` says whether it can run now;
    ``waits`` names what it waits for ("" when nothing). For ``score``: ``day`` is the next day to score,
    ``final`` whether it is the last one and ``resolvable`` whether the round can resolve with it now.
    ``status`` is a whole sentence for a terminal.
    """

    step: str
    ready: bool
    waits: str
    status: str
    day: int | None = None
    final: bool = False
    resolvable: bool = False


def next_step(round_: Round, now: dt.datetime) -> NextStep:
    """What ``round_``'s next lifecycle step is at ``now``, what it waits for and whether it can run."""
    if round_.status is RoundStatus.OPEN:
        due = now >= round_.close_time
        if due:
            status = f"open; its close time ({_at(round_.close_time)}) has passed: ready to close"
        else:
            status = f"open for submissions until {_at(round_.close_time)}; then it can be closed"
        waits = "" if due else f"the close time ({_at(round_.close_time)})"
        return NextStep("close", due, waits, status)
    if round_.status is RoundStatus.CLOSED:
        day = round_.days_scored + 1
        due = now >= round_.resolve_time
        if round_.days_scored < round_.horizon_days:
            final = day == round_.horizon_days
            waits = f"day {day}'s data"
            scored = (
                f"scored up to day {round_.days_scored} of {round_.horizon_days}"
                if round_.days_scored
                else f"no day of {round_.horizon_days} scored yet"
            )
            status = f"closed, {scored}; scoring needs day {day}'s data"
            if final and not due:
                waits += f" and the resolve time ({_at(round_.resolve_time)}) to resolve"
                status += f"; due for resolve at {_at(round_.resolve_time)}"
            elif final:
                status += f"; due for resolve since {_at(round_.resolve_time)} (resolve with that day's data)"
            else:
                status += f"; due for resolve at {_at(round_.resolve_time)}"
            return NextStep("score", True, waits, status, day=day, final=final, resolvable=final and due)
        waits = "" if due else f"the resolve time ({_at(round_.resolve_time)})"
        if due:
            status = f"closed, every day scored; due for resolve since {_at(round_.resolve_time)}: ready"
        else:
            status = f"closed, every day scored; due for resolve at {_at(round_.resolve_time)}"
        return NextStep("resolve", due, waits, status)
    resolved = f" at {_at(round_.resolved_at)}" if round_.resolved_at else ""
    return NextStep("done", False, "", f"resolved{resolved}: payouts and burns settled")
