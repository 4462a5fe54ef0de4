"""Operator verbs of the tournament (names follow numerapi where they overlap).

``kardashev account create``, ``kardashev model create``, ``kardashev round open|close|score|
resolve|list``, ``kardashev submit``, ``kardashev stake increase|decrease|get``,
``kardashev leaderboard``, ``kardashev diagnostics MODEL``. Every verb takes ``--db URL``
(env ``KARDASHEV_DATABASE_URL``; default the embedded SQLite in ``--data-dir``) and the writing ones
``--now`` (ISO 8601, or relative to the clock such as ``+3d``; default the current UTC time) so seasons
can be replayed. Only ``account create`` and ``round open`` create a database; every other verb refuses
a database that does not exist (and creates nothing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer

from kardashev.cli.clock import current_time, parse_time
from kardashev.cli.tables import Column, output_console, render_table
from kardashev.data.era import Era
from kardashev.errors import DataFormatError, InvalidInputError, NotFoundError, StateError, SubmissionError
from kardashev.tournament import (
    RoundKind,
    TournamentService,
    round_day,
    tokens_to_units,
    units_to_tokens,
)
from kardashev.tournament.dry_run import preview_resolve
from kardashev.tournament.operator_data import OPERATOR_READ_LIMITS, check_round_day, round_universe
from kardashev.tournament.submission_file import read_submission_table

__all__ = ["register"]

console = output_console()

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", envvar="KARDASHEV_DATABASE_URL", help="Database URL (default: SQLite in --data-dir)."
    ),
]
DataDirOption = Annotated[
    Path,
    typer.Option("--data-dir", envvar="KARDASHEV_DATA_DIR", help="Directory of the blobs and default DB."),
]
NowOption = Annotated[
    str | None,
    typer.Option(
        "--now", help="Current time: ISO 8601 or relative to the clock, e.g. +3d (default: now, UTC)."
    ),
]
DEFAULT_DATA_DIR = Path("kardashev-data")

round_app = typer.Typer(help="Open, close, score and resolve rounds.", no_args_is_help=True)
stake_app = typer.Typer(help="Stake tokens on a model.", no_args_is_help=True)
account_app = typer.Typer(help="Accounts.", no_args_is_help=True)
model_app = typer.Typer(help="Models (an account owns several).", no_args_is_help=True)


def open_service(db: str | None, data_dir: Path, *, create: bool = False) -> TournamentService:
    """The tournament over ``--db`` / ``--data-dir``; a missing database is created only with ``create``."""
    from kardashev.store import open_store

    try:
        return TournamentService(open_store(db, data_dir=data_dir, create=create))
    except NotFoundError as exc:
        if exc.code != "no_database":
            raise
        hint = "" if db else " (after the demo: --data-dir kardashev-demo)"
        raise NotFoundError(f"{exc.message}{hint}", code=exc.code) from None


@contextmanager
def _too_early() -> Iterator[None]:
    """A step refused for its time (``round_not_closed``, ``round_not_due``) says how to simulate one."""
    try:
        yield
    except StateError as exc:
        if exc.code not in ("round_not_closed", "round_not_due"):
            raise
        hint = "; see `kardashev round show N`, or simulate a later time with --now (e.g. --now +3d)"
        raise StateError(exc.message + hint, code=exc.code) from None


def now_from(now: str | None) -> dt.datetime:
    return current_time(now)


def _time(value: str, what: str, *, now: dt.datetime) -> dt.datetime:
    return parse_time(value, what, base=now)


def _read_table(path: Path) -> pd.DataFrame:
    """An operator's CSV / parquet table, read with bounded CPU and memory."""
    if not path.is_file():
        raise InvalidInputError(f"no such file: {path}")
    try:
        return read_submission_table(path, limits=OPERATOR_READ_LIMITS)
    except SubmissionError as exc:
        raise DataFormatError(f"cannot read {path}: {exc.message}", code=exc.code) from None


def _numbers(table: pd.DataFrame, columns: str | list[str], path: Path) -> np.ndarray:
    try:
        frame = table[[columns] if isinstance(columns, str) else columns]
        values = frame.apply(lambda column: pd.to_numeric(column.replace("", np.nan), errors="raise"))
    except (TypeError, ValueError) as exc:
        raise DataFormatError(
            f"{path}: column(s) {columns!r} hold values that are not numbers: {exc}"
        ) from None
    array = values.to_numpy(dtype=np.float64)
    return array[:, 0] if isinstance(columns, str) else array


def _tokens(units: int) -> str:
    return f"{units_to_tokens(units):f}"


@account_app.command("create")
def account_create(
    name: str,
    tokens: Annotated[str, typer.Option(help="Tokens minted into the new wallet.")] = "0",
    db: DbOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    now: NowOption = None,
) -> None:
    """Create an account (optionally funded); creates the database if there is none yet."""
    service = open_service(db, data_dir, create=True)
    amount = tokens_to_units(tokens)
    account = service.create_account(name, now=now_from(now), tokens=amount)
    console.print(f"account [bold]{account.name}[/] (id {account.id}), wallet {_tokens(amount)} tokens")


@model_app.command("create")
def model_create(
    account: str,
    name: str,
    db: DbOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    now: NowOption = None,
) -> None:
    """Create a model owned by ACCOUNT."""
    model = open_service(db, data_dir).create_model(account, name, now=now_from(now))
    console.print(f"model [bold]{model.name}[/] (id {model.id}) of account {account}")


@round_app.command("open")
def round_open(
    number: int,
    universe: Annotated[Path, typer.Option(help="CSV/parquet with the live ids (column id or ticker).")],
    close: Annotated[str, typer.Option(help="Close time: ISO 8601 or relative to --now, e.g. +2d or +36h.")],
    kind: Annotated[RoundKind, typer.Option(help="Tournament kind.")] = RoundKind.CLASSIC,
    target: Annotated[str, typer.Option(help="Target name.")] = "target",
    horizon: Annotated[int, typer.Option(help="Scoring days until the round resolves.")] = 20,
    late_close: Annotated[
        str | None,
        typer.Option(help="End of late submissions: ISO 8601 or relative to --now (default: close + 1d)."),
    ] = None,
    db: DbOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    now: NowOption = None,
) -> None:
    """Open round NUMBER (idempotent); creates the database if there is none yet."""
    table = _read_table(universe)
    column = next((c for c in ("id", "ticker", "numerai_ticker") if c in table.columns), table.columns[0])
    moment = now_from(now)
    opened = open_service(db, data_dir, create=True).open_round(
        number,
        universe=[str(i) for i in table[column]],
        close_time=_time(close, "--close", now=moment),
        now=moment,
        kind=kind,
        target_name=target,
        horizon_days=horizon,
        late_close_time=None if late_close is None else _time(late_close, "--late-close", now=moment),
    )
    console.print(
        f"round {opened.number} {opened.status.value}: {opened.n_universe} ids, "
        f"closes {opened.close_time:%Y-%m-%d %H:%M} UTC, resolves {opened.resolve_time:%Y-%m-%d %H:%M} UTC "
        f"({opened.horizon_days} scoring days)"
    )


@round_app.command("close")
def round_close(
    number: int, db: DbOption = None, data_dir: DataDirOption = DEFAULT_DATA_DIR, now: NowOption = None
):
    """Close round NUMBER: freeze stakes at risk and build the meta models (idempotent)."""
    with console.status(f"closing round {number}: stakes and meta models…"), _too_early():
        closed = open_service(db, data_dir).close_round(number, now=now_from(now))
    console.print(
        f"round {closed.number} {closed.status.value}: {closed.n_contributors} submissions, "
        f"{closed.n_staked_models} staked"
    )


def _round_day(service: TournamentService, number: int, day: int, path: Path) -> Era:
    """Read a day's market data: columns id, target (or the round's target name), optional
    realized_return, exposure_* and feature_* columns."""
    table = _read_table(path)
    round_ = service.get_round(number)
    target = round_.target_name if round_.target_name in table.columns else "target"
    if "id" not in table.columns or target not in table.columns:
        raise DataFormatError(f"{path} needs columns id and {round_.target_name!r} (or target)")
    exposures = [c for c in table.columns if c.startswith("exposure_")]
    features = [c for c in table.columns if c.startswith("feature_")]
    checked = round_day(
        day=day,
        ids=table["id"].astype(str).to_numpy(),
        target=_numbers(table, target, path),
        realized_returns=_numbers(table, "realized_return", path) if "realized_return" in table else None,
        exposures=_numbers(table, exposures, path) if exposures else None,
        features=_numbers(table, features, path) if features else None,
    )
    return check_round_day(checked, universe=round_universe(service.unit_of_work, number))


@round_app.command("score")
def round_score(
    number: int,
    day: Annotated[int, typer.Option(help="Scoring day (1 … horizon).")],
    data: Annotated[Path, typer.Option(help="CSV/parquet of the day's data (id, target, realized_return…).")],
    db: DbOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    now: NowOption = None,
) -> None:
    """Score every submission of round NUMBER with the data known on DAY (idempotent)."""
    service = open_service(db, data_dir)
    status = console.status(f"scoring round {number} day {day} (CORR, MMC, FNC, TC, True Return)…")
    with status, _too_early():
        scores = service.score_round(number, _round_day(service, number, day, data), now=now_from(now))
    console.print(f"round {number} day {day}: {len(scores)} scores")


@round_app.command("resolve")
def round_resolve(
    number: int,
    day: Annotated[int | None, typer.Option(help="Final day, when --data scores it now.")] = None,
    data: Annotated[Path | None, typer.Option(help="Final day's data, if not scored yet.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the payouts, burns and totals; write nothing.")
    ] = False,
    db: DbOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    now: NowOption = None,
) -> None:
    """Resolve round NUMBER: final scores, payouts and burns, releases (idempotent)."""
    service = open_service(db, data_dir)
    final = None
    if data is not None:
        final = _round_day(service, number, day or service.get_round(number).horizon_days, data)
    if dry_run:
        with console.status(f"dry run of resolving round {number}…"), _too_early():
            preview = preview_resolve(service, number, now=now_from(now), day=final)
        payouts = list(preview.payouts)
        title = f"round {number} already resolved" if preview.already_resolved else f"round {number} dry run"
    else:
        status = console.status(f"resolving round {number}: final scores, payouts and burns…")
        with status, _too_early():
            payouts = service.resolve_round(number, now=now_from(now), day=final)
        title = f"round {number} resolved"
    rows = pd.DataFrame(
        {
            "model": [service.get_model(p.model_id).name for p in payouts],
            "stake": [units_to_tokens(p.stake) for p in payouts],
            "payout_fraction": [p.payout_fraction for p in payouts],
            "payout": [units_to_tokens(p.amount) for p in payouts],
        }
    )
    columns = [
        Column("model"),
        Column("stake", "stake (tokens)", short="stake", fmt="tokens"),
        Column("payout_fraction", "payout fraction", short="fraction", fmt="signed"),
        Column("payout", "payout (tokens)", short="payout", fmt="tokens"),
    ]
    render_table(rows, columns, console=console, title=title)
    minted = sum(p.amount for p in payouts if p.amount > 0)
    burned = -sum(p.amount for p in payouts if p.amount < 0)
    console.print(
        f"minted {_tokens(minted)}, burned {_tokens(burned)}, net {_tokens(minted - burned)} tokens"
        + (" — dry run: nothing was written" if dry_run else "")
    )


@round_app.command("list")
def round_list(db: DbOption = None, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """List rounds and their state."""
    service = open_service(db, data_dir)
    rounds = service.list_rounds()
    rows = pd.DataFrame(
        {
            "round": [r.number for r in rounds],
            "kind": [r.kind.value for r in rounds],
            "status": [r.status.value for r in rounds],
            "closes": [r.close_time.isoformat() for r in rounds],
            "days": [f"{r.days_scored}/{r.horizon_days}" for r in rounds],
            "submissions": [len(service.list_submissions(round_number=r.number)) for r in rounds],
        },
        columns=["round", "kind", "status", "closes", "days", "submissions"],
    )
    columns = [
        Column("round", fmt="int"),
        Column("kind"),
        Column("status"),
        Column("closes"),
        Column("days", "days scored", short="days"),
        Column("submissions", short="subs", fmt="int"),
    ]
    render_table(rows, columns, console=console)


def submit(
    model: str,
    file: Path,
    round_number: Annotated[
        int | None, typer.Option("--round", help="Round (default: the open one).")
    ] = None,
    db: DbOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    now: NowOption = None,
) -> None:
    """Upload predictions of MODEL from FILE (CSV or parquet) — numerapi's upload_predictions."""
    service = open_service(db, data_dir)
    moment = now_from(now)
    number = round_number if round_number is not None else service.current_round(now=moment).number
    if not file.is_file():
        raise InvalidInputError(f"no such file: {file}")
    stored = service.submit(model, number, file.read_bytes(), now=moment, filename=file.name)
    console.print(
        f"submission {stored.id} of {model} for round {number}{' (late)' if stored.late else ''}: "
        f"{stored.n_rows} rows, checksum {stored.checksum[:12]}"
    )


def _print_stake(service: TournamentService, model: str) -> None:
    info = service.stake(model)
    console.print(
        f"{model}: stake {_tokens(info.total)} ({_tokens(info.at_risk)} at risk), "
        f"pending release {_tokens(info.pending)}"
    )


@stake_app.command("increase")
def stake_increase(
    model: str,
    amount: str,
    db: DbOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    now: NowOption = None,
) -> None:
    """Move AMOUNT tokens from the owner's wallet to MODEL's stake (counts from the next close)."""
    service = open_service(db, data_dir)
    service.stake_increase(model, tokens_to_units(amount), now=now_from(now))
    _print_stake(service, model)


@stake_app.command("decrease")
def stake_decrease(
    model: str,
    amount: str,
    db: DbOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    now: NowOption = None,
) -> None:
    """Request a decrease of MODEL's stake; released once the rounds holding it resolve."""
    service = open_service(db, data_dir)
    service.stake_decrease(model, tokens_to_units(amount), now=now_from(now))
    _print_stake(service, model)


@stake_app.command("get")
def stake_get(model: str, db: DbOption = None, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Show MODEL's stake."""
    _print_stake(open_service(db, data_dir), model)


_LEADERBOARD_COLUMNS = {
    "rank": Column("rank", fmt="int"),
    "stake": Column("stake", "stake (tokens)", short="stake", fmt="tokens"),
    "payout": Column("payout", "payout (tokens)", short="payout", fmt="tokens"),
    "true_return": Column("true_return", short="TrueRet", fmt="score"),
    "return": Column("return", legend="payout / stake of the latest round", fmt="signed"),
    "n_rounds": Column("n_rounds", short="n", fmt="int"),
    "sharpe": Column("sharpe", fmt="ratio"),
}


def _frame_column(frame: pd.DataFrame, key: str) -> Column:
    if key in _LEADERBOARD_COLUMNS:
        return _LEADERBOARD_COLUMNS[key]
    if key.startswith(("n_rounds_", "last_round")):
        return Column(key, fmt="int")
    if key.startswith("return_"):
        return Column(key, fmt="signed")
    if pd.api.types.is_bool_dtype(frame[key].dtype) or not pd.api.types.is_numeric_dtype(frame[key].dtype):
        return Column(key)
    return Column(key, fmt="int" if pd.api.types.is_integer_dtype(frame[key].dtype) else "score")


def _print_frame(frame: pd.DataFrame, title: str, *, caption: str | None = None) -> None:
    label = frame.index.name or "index"
    records = frame.rename_axis(label).reset_index()
    columns = [_frame_column(records, str(key)) for key in records.columns]
    render_table(records, columns, console=console, title=title, caption=caption)


def leaderboard(
    wide: Annotated[bool, typer.Option("--all", help="Show every rolling column.")] = False,
    db: DbOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
) -> None:
    """Leaderboard over resolved rounds: latest and rolling CORR, MMC, TC, FNC, stake, returns."""
    board = open_service(db, data_dir).leaderboard()
    if board.empty:
        console.print("no resolved rounds yet")
        return
    if not wide:
        keep = ["rank", "corr", "mmc", "tc", "fnc", "true_return", "stake", "return"]
        board = board[[c for c in keep if c in board.columns]]
    if "stake" in board.columns:
        board = board.assign(stake=[units_to_tokens(int(v)) for v in board["stake"].fillna(0)])
    _print_frame(board, "leaderboard (latest round; stake in tokens)")


def diagnostics(model: str, db: DbOption = None, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """Per-round scores of MODEL and their summary."""
    service = open_service(db, data_dir)
    per_round, summary = service.diagnostics(model)
    if per_round.empty:
        console.print(f"{model} has no scored rounds yet")
        return
    per_round = per_round.drop(columns=["day", "stake", "late"], errors="ignore")
    per_round = per_round.assign(payout=[units_to_tokens(int(v)) for v in per_round["payout"]])
    _print_frame(per_round, f"{model}: scores per round (payout in tokens)")
    _print_frame(summary.rename_axis("metric"), f"{model}: summary")
    found = [g for g in service.grades().models if g.model == model]
    if found:
        types = ", ".join(found[0].types) or "none yet"
        console.print(f"Kardashev grade types passed (overlap-corrected t-tests): {types}")


def register(app: typer.Typer) -> None:
    """Add the tournament verbs to the ``kardashev`` command."""
    app.add_typer(account_app, name="account")
    app.add_typer(model_app, name="model")
    app.add_typer(round_app, name="round")
    app.add_typer(stake_app, name="stake")
    app.command("submit")(submit)
    app.command("leaderboard")(leaderboard)
    app.command("diagnostics")(diagnostics)
