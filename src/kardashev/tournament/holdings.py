"""What each account holds: its wallet and its models' stakes, read in one read-only transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kardashev.tournament import ledger
from kardashev.tournament.domain import Account, Model
from kardashev.tournament.service_accounts import StakeInfo, at_risk_by_model

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


def account_holdings(service: TournamentService, account: int | str | None = None) -> list[AccountHoldings]:
    """Every account's holdings (or one ``account``'s), from one read of the ledger's balances."""
    with service.unit_of_work(read_only=True) as repo:  # one snapshot of accounts, models and balances
        accounts = repo.list_accounts() if account is None else [repo.get_account(account)]
        models = repo.list_models()
        balances = repo.balances()
    at_risk = at_risk_by_model(balances)
    return [
        AccountHoldings(
            account=acc,
            wallet=balances.get(ledger.wallet_account(acc.id), 0),
            models=tuple(
                (model, StakeInfo.from_balances(model.id, balances, at_risk))
                for model in models
                if model.account_id == acc.id
            ),
        )
        for acc in accounts
    ]
