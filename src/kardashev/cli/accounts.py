"""``kardashev account list`` and ``kardashev account show NAME``: wallets, models and stakes (read only).

Token amounts are printed exactly (the ledger's six decimals), as ``kardashev stake get`` prints them.
"""

from __future__ import annotations

from typing import Annotated

import typer

from kardashev.cli.tables import compact_table
from kardashev.cli.tournament import (
    DEFAULT_DATA_DIR,
    DataDirOption,
    DbOption,
    _service,
    _tokens,
    account_app,
    console,
)
from kardashev.tournament.holdings import account_holdings

__all__ = ["register"]


def account_list(db: DbOption = None, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """List accounts with their wallet, models and total stake (tokens)."""
    holdings = account_holdings(_service(db, data_dir))
    if not holdings:
        console.print("no accounts yet (`kardashev account create NAME --tokens N` makes one)")
        return
    table = compact_table("account", "wallet", "models", "staked", "at risk", title="accounts (tokens)")
    for held in holdings:
        at_risk = sum(info.at_risk for _, info in held.models)
        table.add_row(
            held.account.name,
            _tokens(held.wallet),
            str(len(held.models)),
            _tokens(held.staked),
            _tokens(at_risk),
        )
    console.print(table)


def account_show(
    name: Annotated[str, typer.Argument(help="Account name (or id).")],
    transactions: Annotated[
        int, typer.Option("--transactions", min=0, help="Latest wallet movements shown.")
    ] = 10,
    db: DbOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
) -> None:
    """Show an account: its wallet, each model's stake (free, at risk, pending release) and its latest
    wallet movements (tokens)."""
    service = _service(db, data_dir)
    account = int(name) if name.isdigit() else name
    (held,) = account_holdings(service, account)
    console.print(
        f"account [bold]{held.account.name}[/] (id {held.account.id}): wallet {_tokens(held.wallet)} tokens"
    )
    if held.models:
        table = compact_table(
            "model",
            "stake",
            "at risk",
            "total",
            "pending release",
            title=f"models of {held.account.name} (tokens)",
        )
        for model, info in held.models:
            table.add_row(
                model.name,
                _tokens(info.stake),
                _tokens(info.at_risk),
                _tokens(info.total),
                _tokens(info.pending),
            )
        console.print(table)
    else:
        console.print("no models yet (`kardashev model create ACCOUNT MODEL` makes one)")
    moves = service.wallet_transactions(held.account.id)[-transactions:] if transactions else []
    if moves:
        names = {model.id: model.name for model, _ in held.models}
        table = compact_table(
            "time (UTC)", "kind", "amount", "model", "round", title="latest wallet movements"
        )
        for move in moves:
            table.add_row(
                f"{move.time:%Y-%m-%d %H:%M}",
                move.kind,
                _tokens(move.amount),
                names.get(move.model_id, "") if move.model_id is not None else "",
                "" if move.round_number is None else str(move.round_number),
            )
        console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``account list`` and ``account show`` to the ``account`` group (``kardashev.cli.tournament``)."""
    del app  # the group is registered by kardashev.cli.tournament
    account_app.command("list")(account_list)
    account_app.command("show")(account_show)
