"""The stakes ledger: double-entry bookkeeping over named accounts, in integer units.

Every token movement is a *transaction* made of postings whose amounts sum to
zero. Ledger accounts:

==========================  ==========================================================
``wallet:{account_id}``     tokens an account holds, free to stake
``stake:{model_id}``        a model's stake (not currently escrowed in a round)
``at_risk:{round}:{model}`` escrow of a model's stake in a closed, unresolved round
``pending:{model_id}``      a stake decrease waiting for its rounds to resolve
``payout_pool``             the mint: source of payouts and deposits (may go negative)
``burn``                    sink of burned stake (only grows)
==========================  ==========================================================

Tokens in circulation (every account except the two system ones) change only by
mint (from ``payout_pool``) and burn (to ``burn``) postings; no other account may
ever go negative.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kardashev.errors import InsufficientBalanceError, InvalidInputError

__all__ = [
    "BURN",
    "PAYOUT_POOL",
    "SYSTEM_ACCOUNTS",
    "AtRiskKey",
    "LedgerTransaction",
    "Posting",
    "at_risk_account",
    "check_balanced",
    "check_balances",
    "circulating",
    "parse_at_risk_account",
    "pending_account",
    "stake_account",
    "transfer",
    "wallet_account",
]

PAYOUT_POOL = "payout_pool"
BURN = "burn"
SYSTEM_ACCOUNTS = frozenset({PAYOUT_POOL, BURN})


def wallet_account(account_id: int) -> str:
    return f"wallet:{int(account_id)}"


def stake_account(model_id: int) -> str:
    return f"stake:{int(model_id)}"


def at_risk_account(round_number: int, model_id: int) -> str:
    return f"at_risk:{int(round_number)}:{int(model_id)}"


@dataclass(frozen=True)
class AtRiskKey:
    """The parts of an ``at_risk:<round>:<model>`` escrow account name."""

    round_number: int
    model_id: int


def parse_at_risk_account(name: str) -> AtRiskKey:
    """Inverse of :func:`at_risk_account` (the one place escrow account names are parsed)."""
    prefix, round_number, model_id = name.split(":")
    if prefix != "at_risk":
        raise ValueError(f"not an escrow account: {name!r}")
    return AtRiskKey(int(round_number), int(model_id))


def pending_account(model_id: int) -> str:
    return f"pending:{int(model_id)}"


@dataclass(frozen=True)
class Posting:
    """One line of a transaction: ``amount`` units added to ``account`` (negative = taken)."""

    account: str
    amount: int

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise InvalidInputError(f"ledger amounts are integers, got {self.amount!r} for {self.account}")


@dataclass(frozen=True)
class LedgerTransaction:
    """A posted transaction as stored: its ``kind`` (``deposit``, ``stake_increase``, ``settle`` …), when,
    the round it belongs to (if any) and its postings (all of them, or those on the accounts asked for)."""

    id: int
    kind: str
    created_at: dt.datetime
    round_number: int | None
    postings: tuple[Posting, ...]


def transfer(source: str, destination: str, amount: int) -> list[Posting]:
    """The two postings moving ``amount`` (> 0) units from ``source`` to ``destination``."""
    if not isinstance(amount, int) or amount <= 0:
        raise InvalidInputError(f"a transfer moves a positive integer amount, got {amount!r}")
    if source == destination:
        raise InvalidInputError(f"a transfer needs two different accounts, got {source} twice")
    return [Posting(source, -amount), Posting(destination, amount)]


def check_balanced(postings: Iterable[Posting]) -> None:
    """Raise unless the postings sum to zero and no account is debited from a system sink."""
    postings = list(postings)
    total = sum(p.amount for p in postings)
    if total != 0:
        raise InvalidInputError(f"unbalanced ledger transaction: postings sum to {total}, not 0")
    for posting in postings:
        if posting.account == BURN and posting.amount < 0:
            raise InvalidInputError("burned tokens cannot be taken back out of the burn account")


def check_balances(new_balances: Mapping[str, int]) -> None:
    """Raise :class:`InsufficientBalanceError` if a non-system account would go negative."""
    for account, balance in sorted(new_balances.items()):
        if balance < 0 and account != PAYOUT_POOL:
            raise InsufficientBalanceError(
                f"{account} would go negative ({balance} units): not enough tokens for this operation"
            )


def circulating(balances: Mapping[str, int]) -> int:
    """Tokens held outside the system accounts (in units)."""
    return sum(v for k, v in balances.items() if k not in SYSTEM_ACCOUNTS)
