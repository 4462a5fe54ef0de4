"""What each account holds: its wallet and its models' stakes, read in a few queries (read only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kardashev.tournament import ledger
from kardashev.tournament.domain import Account, Model
from kardashev.tournament.service_accounts import StakeInfo

if TYPE_CHECKING:
    from kardashev.tournament.service import TournamentService

__all__ = ["AccountHoldings", "account_holdings"]


@dataclass(frozen=True)
class AccountHoldings:
    """An account's ``wallet`` (units) and, per model, its :class:`StakeInfo`; ``staked`` sums the totals."""

    account: Account
    wallet: int
    models: tuple[tuple[Model, StakeInfo], ...]

    @property
    def staked(self) -> int:
        return sum(info.total for _, info in self.models)


def _stake_info(model_id: int, balances: Mapping[str, int], at_risk: Mapping[int, int]) -> StakeInfo:
    return StakeInfo(
        model_id=model_id,
        stake=balances.get(ledger.stake_account(model_id), 0),
        at_risk=at_risk.get(model_id, 0),
        pending=balances.get(ledger.pending_account(model_id), 0),
    )


def account_holdings(service: TournamentService, account: int | str | None = None) -> list[AccountHoldings]:
    """Every account's holdings (or one ``account``'s), from one read of the ledger's balances."""
    accounts = service.list_accounts() if account is None else [service.get_account(account)]
    models = service.list_models()
    balances = service.balances()
    at_risk: dict[int, int] = {}
    for name, amount in balances.items():
        if name.startswith("at_risk:"):
            model_id = ledger.parse_at_risk_account(name).model_id
            at_risk[model_id] = at_risk.get(model_id, 0) + amount
    return [
        AccountHoldings(
            account=acc,
            wallet=balances.get(ledger.wallet_account(acc.id), 0),
            models=tuple(
                (model, _stake_info(model.id, balances, at_risk))
                for model in models
                if model.account_id == acc.id
            ),
        )
        for acc in accounts
    ]
