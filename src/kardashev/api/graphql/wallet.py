"""``account { walletTxns { … } }``: numerapi's ``wallet_transactions`` from the ledger.

Rows are :meth:`TournamentService.wallet_transactions` (the REST ``GET /v1/account/transactions``), in
the same order (oldest first). ``type`` is Kardashev's kind (``deposit``, ``stake_increase``,
``stake_decrease``, ``release``, ``payout``, ``burn``); ``from`` / ``to`` are ledger account names
(``wallet:3``, ``stake:7``, ``pending:7``, ``payout_pool``, ``burn``), not blockchain addresses;
``status`` is ``confirmed`` (a posted ledger transaction is final); ``tournament`` is that of the round a
payout or burn settled (null otherwise); ``txHash`` is null: there is no chain.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from kardashev.api.convert import tokens
from kardashev.api.graphql.access import GraphQLContext, tournament_of

__all__ = ["WalletTxn", "resolve_wallet_txns"]


@strawberry.type
class WalletTxn:
    amount: str
    from_: str = strawberry.field(name="from")
    to: str
    time: dt.datetime
    type: str
    status: str = "confirmed"
    tournament: int | None = None
    tx_hash: str | None = None


def resolve_wallet_txns(root: Any, info: Info[GraphQLContext, None]) -> list[WalletTxn]:
    """The movements of the account ``root`` (the caller's own: ``account`` checked the key)."""
    ctx = info.context
    rows = ctx.service.wallet_transactions(int(root.id))
    rounds = ctx.rounds() if any(row.round_number is not None for row in rows) else {}
    return [
        WalletTxn(
            amount=tokens(row.amount),
            from_=row.source,
            to=row.destination,
            time=row.time,
            type=row.kind,
            tournament=None if row.round_number is None else tournament_of(rounds[row.round_number].kind),
        )
        for row in rows
    ]
