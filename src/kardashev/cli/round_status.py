"""``kardashev round status`` and ``kardashev round show N``: each round's state and what its next step
waits for (:func:`kardashev.tournament.lifecycle.next_step`), read only."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import pandas as pd
import typer

from kardashev.cli.tables import Column, format_value, render_table
from kardashev.cli.tournament import (
    DEFAULT_DATA_DIR,
    DataDirOption,
    DbOption,
    NowOption,
    console,
    now_from,
    open_service,
    round_app,
)
from kardashev.tournament.domain import units_to_tokens
from kardashev.tournament.lifecycle import next_step

__all__ = ["register"]

_COMMANDS = {
    "close": "kardashev round close {n}",
    "score": "kardashev round score {n} --day {day} --data FILE",
    "resolve": "kardashev round resolve {n}",
}


def _at(moment: dt.datetime | None) -> str:
    return "" if moment is None else f"{moment.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC"


def round_status(
    db: DbOption = None, data_dir: DataDirOption = DEFAULT_DATA_DIR, now: NowOption = None
) -> None:
    """Every round, its state and what its next step waits for (at --now)."""
    service = open_service(db, data_dir)
    moment = now_from(now)
    rounds = service.list_rounds()
    if not rounds:
        console.print("no rounds yet (`kardashev round open N --universe FILE --close +2d` opens one)")
        return
    records = []
    for round_ in rounds:
        step = next_step(round_, moment)
        label = "—" if step.step == "done" else step.step + (f" day {step.day}" if step.day else "")
        waits = step.waits or ("nothing" if step.ready else "")
        records.append(
            {"round": round_.number, "status": round_.status.value, "next step": label, "waits for": waits}
        )
    columns = [
        Column("round", fmt="int", justify="left"),
        Column("status"),
        Column("next step"),
        Column("waits for"),
    ]
    render_table(pd.DataFrame(records), columns, console=console, title=f"rounds at {_at(moment)}")


def round_show(
    number: Annotated[int, typer.Argument(help="Round number.")],
    db: DbOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    now: NowOption = None,
) -> None:
    """One round: its times, submissions, stakes, days scored and what its next step waits for."""
    service = open_service(db, data_dir)
    moment = now_from(now)
    round_ = service.get_round(number)
    step = next_step(round_, moment)
    submissions = service.list_submissions(round_number=number)
    late = sum(1 for s in submissions if s.late)
    staked = sum(s.stake for s in service.stake_snapshots(round_number=number))
    rows = [
        ("kind", round_.kind.value),
        ("status", round_.status.value),
        ("universe", f"{round_.n_universe} ids, target {round_.target_name}"),
        ("opened", _at(round_.open_time)),
        ("closes", _at(round_.close_time)),
        ("late submissions until", _at(round_.late_close_time)),
        ("resolves", f"{_at(round_.resolve_time)} (after {round_.horizon_days} scoring days)"),
        ("submissions", f"{len(submissions)} ({late} late)"),
        ("days scored", f"{round_.days_scored} of {round_.horizon_days}"),
    ]
    if round_.closed_at is not None:
        rows.append(
            (
                "closed",
                f"{_at(round_.closed_at)}: {round_.n_staked_models} staked models, "
                f"{format_value(units_to_tokens(staked), 'tokens')} tokens",
            )
        )
    if round_.resolved_at is not None:
        rows.append(("resolved", _at(round_.resolved_at)))
    frame = pd.DataFrame(rows, columns=["field", "value"])
    columns = [Column("field", header=""), Column("value", header="")]
    render_table(frame, columns, console=console, title=f"round {round_.number} at {_at(moment)}")
    console.print(f"now: {step.status}")
    if step.step in _COMMANDS:
        command = _COMMANDS[step.step].format(n=number, day=step.day)
        if step.resolvable:
            command = f"kardashev round resolve {number} --day {step.day} --data FILE"
        console.print(f"next: {command}" + ("" if step.ready else f" (after {step.waits}, or with --now)"))


def register(app: typer.Typer) -> None:
    """Add ``round status`` and ``round show`` to the ``round`` group (``kardashev.cli.tournament``)."""
    del app  # the group is registered by kardashev.cli.tournament
    round_app.command("status")(round_status)
    round_app.command("show")(round_show)
