"""An account's wallet history: the ledger transactions that moved its tokens, one row per movement.

An account holds tokens in its wallet (``wallet:{account}``), its models' stakes (``stake:{model}`` and the
escrows ``at_risk:{round}:{model}``, which are still the model's stake) and its decreases waiting for release
(``pending:{model}``). Each transaction is netted over these holdings, so a move inside one holding (an
``escrow`` at a round's close, an escrow handed back at settlement) is no row, and one row is:

=====================  ======================  ======================
ledger kind (type)     from                    to
=====================  ======================  ======================
``deposit``            ``payout_pool``         ``wallet:{account}``
``stake_increase``     ``wallet:{account}``    ``stake:{model}``
``stake_decrease``     ``stake:{model}``       ``pending:{model}``
``release``            ``pending:{model}``     ``wallet:{account}``
``settle`` (payout)    ``payout_pool``         ``stake:{model}``
``settle`` (burn)      ``stake:{model}``       ``burn``
=====================  ======================  ======================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kardashev.tournament import ledger
from kardashev.tournament.ledger import LedgerTransaction

__all__ = ["WalletTransaction", "own_ledger_accounts", "wallet_transactions"]


@dataclass(frozen=True)
class WalletTransaction:
    """One movement of an account's tokens: ``amount`` units (> 0) from ``source`` to ``destination``
    (ledger account names); ``kind`` is the ledger kind, or ``payout`` / ``burn`` for a settlement."""

    transaction_id: int
    kind: str
    source: str
    destination: str
    amount: int
    time: dt.datetime
    round_number: int | None
    model_id: int | None


def own_ledger_accounts(
    account_id: int, model_ids: Iterable[int], escrow_accounts: Iterable[str]
) -> set[str]:
    """The ledger accounts holding an account's tokens; ``escrow_accounts`` are all ``at_risk:`` names."""
    models = {int(m) for m in model_ids}
    names = {ledger.wallet_account(account_id)}
    for model_id in models:
        names |= {ledger.stake_account(model_id), ledger.pending_account(model_id)}
    names |= {e for e in escrow_accounts if ledger.parse_at_risk_account(e).model_id in models}
    return names


def _holding(account: str) -> tuple[str, int | None]:
    """The holding an own ledger account belongs to (escrows count as the model's stake), and its model."""
    if account.startswith("at_risk:"):
        model_id = ledger.parse_at_risk_account(account).model_id
        return ledger.stake_account(model_id), model_id
    prefix, _, number = account.partition(":")
    return account, int(number) if prefix in ("stake", "pending") else None


def _rows(tx: LedgerTransaction) -> list[WalletTransaction]:
    net: dict[str, int] = {}
    models: dict[str, int | None] = {}
    for posting in tx.postings:
        holding, model_id = _holding(posting.account)
        net[holding] = net.get(holding, 0) + posting.amount
        models[holding] = model_id
    moved = {h: v for h, v in net.items() if v != 0}

    def row(kind: str, source: str, destination: str, amount: int, model_id: int | None):
        return WalletTransaction(
            tx.id, kind, source, destination, amount, tx.created_at, tx.round_number, model_id
        )

    losing = [h for h, v in moved.items() if v < 0]
    gaining = [h for h, v in moved.items() if v > 0]
    if len(losing) == 1 and len(gaining) == 1 and moved[losing[0]] == -moved[gaining[0]]:
        model_id = models[gaining[0]] if models[gaining[0]] is not None else models[losing[0]]
        return [row(tx.kind, losing[0], gaining[0], moved[gaining[0]], model_id)]
    rows = []
    for holding, amount in sorted(moved.items()):  # tokens minted into or burned out of the account
        settle = tx.kind == "settle"
        if amount > 0:
            kind = "payout" if settle else tx.kind
            rows.append(row(kind, ledger.PAYOUT_POOL, holding, amount, models[holding]))
        else:
            kind = "burn" if settle else tx.kind
            rows.append(row(kind, holding, ledger.BURN, -amount, models[holding]))
    return rows


def wallet_transactions(transactions: Sequence[LedgerTransaction]) -> list[WalletTransaction]:
    """The rows of ``transactions`` (holding only postings on the account's own ledger accounts), in order."""
    return [row for tx in transactions for row in _rows(tx)]
