"""``kardashev account list`` and ``kardashev account show NAME``: wallets, models and stakes (read only).

Token amounts print in the CLI's one token format (thousands separators, two decimals).
"""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer

from kardashev.cli.tables import Column, format_value, render_table
from kardashev.cli.tournament import (
    DEFAULT_DATA_DIR,
    DataDirOption,
    DbOption,
    account_app,
    console,
    open_service,
)
from kardashev.tournament.domain import units_to_tokens
from kardashev.tournament.holdings import account_holdings

__all__ = ["register"]


def account_list(db: DbOption = None, data_dir: DataDirOption = DEFAULT_DATA_DIR) -> None:
    """List accounts with their wallet, models and total stake (tokens)."""
    holdings = account_holdings(open_service(db, data_dir))
    if not holdings:
        console.print("no accounts yet (`kardashev account create NAME --tokens N` makes one)")
        return
    rows = pd.DataFrame(
        [
            {
                "account": held.account.name,
                "wallet": units_to_tokens(held.wallet),
                "models": len(held.models),
                "staked": units_to_tokens(held.staked),
                "at risk": units_to_tokens(sum(info.at_risk for _, info in held.models)),
            }
            for held in holdings
        ]
    )
    columns = [Column("account"), Column("wallet", fmt="tokens"), Column("models", fmt="int")]
    columns += [Column("staked", fmt="tokens"), Column("at risk", fmt="tokens")]
    render_table(rows, columns, console=console, title="accounts (tokens)")


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
    service = open_service(db, data_dir)
    account = int(name) if name.isdigit() else name
    (held,) = account_holdings(service, account)
    wallet = format_value(units_to_tokens(held.wallet), "tokens")
    console.print(f"account [bold]{held.account.name}[/] (id {held.account.id}): wallet {wallet} tokens")
    if held.models:
        rows = pd.DataFrame(
            [
                {
                    "model": model.name,
                    "stake": units_to_tokens(info.stake),
                    "at risk": units_to_tokens(info.at_risk),
                    "total": units_to_tokens(info.total),
                    "pending release": units_to_tokens(info.pending),
                }
                for model, info in held.models
            ]
        )
        columns = [Column("model")] + [
            Column(key, fmt="tokens") for key in ("stake", "at risk", "total", "pending release")
        ]
        render_table(rows, columns, console=console, title=f"models of {held.account.name} (tokens)")
    else:
        console.print("no models yet (`kardashev model create ACCOUNT MODEL` makes one)")
    moves = service.wallet_transactions(held.account.id)[-transactions:] if transactions else []
    if moves:
        names = {model.id: model.name for model, _ in held.models}
        rows = pd.DataFrame(
            [
                {
                    "time (UTC)": f"{move.time:%Y-%m-%d %H:%M}",
                    "kind": move.kind,
                    "amount": units_to_tokens(move.amount),
                    "from": move.source,
                    "to": move.destination,
                    "model": names.get(move.model_id, "") if move.model_id is not None else "",
                    "round": move.round_number,
                }
                for move in moves
            ]
        )
        columns = [Column("time (UTC)"), Column("kind"), Column("amount", fmt="tokens")]
        columns += [Column("from"), Column("to"), Column("model"), Column("round", fmt="int")]
        render_table(rows, columns, console=console, title="latest wallet movements (tokens)", labels=2)


def register(app: typer.Typer) -> None:
    """Add ``account list`` and ``account show`` to the ``account`` group (``kardashev.cli.tournament``)."""
    del app  # the group is registered by kardashev.cli.tournament
    account_app.command("list")(account_list)
    account_app.command("show")(account_show)
