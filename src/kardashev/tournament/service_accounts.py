"""Accounts, models, API keys, stakes and read-only queries of the tournament service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from kardashev.errors import InvalidInputError, StateError
from kardashev.tournament import ledger
from kardashev.tournament.domain import (
    Account,
    ApiKey,
    Model,
    PendingRelease,
)
from kardashev.tournament.replay import Replay, ReplayMixin, StoredResponse, request_memo, seen
from kardashev.tournament.repository import TournamentRepository, UnitOfWork
from kardashev.tournament.wallet import WalletTransaction, own_ledger_accounts, wallet_transactions

__all__ = ["AccountsMixin", "LedgerAudit", "MoneyMove", "StakeInfo", "as_utc", "at_risk_by_model"]


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A timezone-aware UTC datetime (naive values are taken as UTC)."""
    if not isinstance(moment, dt.datetime):
        raise InvalidInputError(f"expected a datetime, got {moment!r}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def _positive_units(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInputError(f"amounts are positive integer units, got {amount!r}")
    return amount


@dataclass(frozen=True)
class StakeInfo:
    """A model's stake in units: free ``stake``, ``at_risk`` escrowed in closed rounds,
    ``pending`` decreases waiting for release; ``total`` = stake + at_risk."""

    model_id: int
    stake: int
    at_risk: int
    pending: int

    @property
    def total(self) -> int:
        return self.stake + self.at_risk

    @classmethod
    def from_balances(
        cls, model_id: int, balances: Mapping[str, int], at_risk: Mapping[int, int]
    ) -> StakeInfo:
        """From the ledger's ``balances`` (stake and pending accounts) and :func:`at_risk_by_model`."""
        return cls(
            model_id=model_id,
            stake=balances.get(ledger.stake_account(model_id), 0),
            at_risk=at_risk.get(model_id, 0),
            pending=balances.get(ledger.pending_account(model_id), 0),
        )


def at_risk_by_model(balances: Mapping[str, int]) -> dict[int, int]:
    """Each model's stake escrowed in closed rounds, summed from the ``at_risk:`` balances."""
    totals: dict[int, int] = {}
    for name, amount in balances.items():
        if name.startswith("at_risk:"):
            model_id = ledger.parse_at_risk_account(name).model_id
            totals[model_id] = totals.get(model_id, 0) + amount
    return totals


@dataclass(frozen=True)
class MoneyMove:
    """What a money move leaves behind, read in the transaction that posted it: the account whose
    wallet it touched, that wallet's balance and, for a stake move, the model's stake."""

    account: Account
    wallet: int
    stake: StakeInfo | None = None


def _stake_of(move: MoneyMove) -> StakeInfo:
    if move.stake is None:  # pragma: no cover - stake moves always read the stake
        raise StateError("a stake move without its stake", code="internal")
    return move.stake


@dataclass(frozen=True)
class LedgerAudit:
    """Ledger health: every transaction sums to 0, stored balances equal Σ entries,
    and circulating tokens equal minted − burned."""

    n_transactions: int
    unbalanced_transactions: tuple[int, ...]
    mismatched_accounts: tuple[str, ...]
    negative_accounts: tuple[str, ...]
    circulating: int
    minted: int
    burned: int

    @property
    def ok(self) -> bool:
        return (
            not self.unbalanced_transactions
            and not self.mismatched_accounts
            and not self.negative_accounts
            and self.circulating == self.minted - self.burned
        )


class AccountsMixin(ReplayMixin):
    unit_of_work: UnitOfWork

    # ------------------------------------------------------------ accounts
    def create_account(self, name: str, *, now: dt.datetime, tokens: int = 0) -> Account:
        """Create an account, optionally funding its wallet with ``tokens`` units (minted)."""
        with self.unit_of_work() as repo:
            return self._create_account(repo, name, now=as_utc(now), tokens=tokens).account

    def create_account_once(
        self, name: str, *, now: dt.datetime, tokens: int = 0, replay: Replay[MoneyMove]
    ) -> StoredResponse:
        """:meth:`create_account` answered with ``replay``'s stored first response on a retry
        (see :mod:`kardashev.tournament.replay`)."""
        return self._once(
            replay,
            lambda repo: self._create_account(
                repo, name, now=as_utc(now), tokens=tokens, idempotency_key=replay.key
            ),
            now=as_utc(now),
        )

    @staticmethod
    def _create_account(
        repo: TournamentRepository,
        name: str,
        *,
        now: dt.datetime,
        tokens: int,
        idempotency_key: str | None = None,
    ) -> MoneyMove:
        name = str(name).strip()
        if not name:
            raise InvalidInputError("an account needs a non-empty name")
        account = repo.add_account(name, now=now)
        if tokens:
            repo.post(
                ledger.transfer(
                    ledger.PAYOUT_POOL, ledger.wallet_account(account.id), _positive_units(tokens)
                ),
                kind="deposit",
                now=now,
                idempotency_key=idempotency_key,
            )
        return MoneyMove(account, repo.balance(ledger.wallet_account(account.id)))

    def deposit(
        self,
        account: int | str,
        amount: int,
        *,
        now: dt.datetime,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
    ) -> int:
        """Mint ``amount`` units into an account's wallet; returns the new wallet balance.

        With an ``idempotency_key`` a retried request posts once (see :meth:`stake_increase`).
        """
        with self.unit_of_work() as repo:
            return self._deposit(repo, account, amount, as_utc(now), idempotency_key, request_hash).wallet

    def deposit_once(
        self, account: int | str, amount: int, *, now: dt.datetime, replay: Replay[MoneyMove]
    ) -> StoredResponse:
        """:meth:`deposit` answered with ``replay``'s stored first response on a retry."""
        return self._once(
            replay,
            lambda repo: self._deposit(repo, account, amount, as_utc(now), replay.key, replay.request_hash),
            now=as_utc(now),
        )

    @staticmethod
    def _deposit(
        repo: TournamentRepository,
        account: int | str,
        amount: int,
        now: dt.datetime,
        idempotency_key: str | None,
        request_hash: str | None,
    ) -> MoneyMove:
        acc = repo.get_account(account)
        wallet = ledger.wallet_account(acc.id)
        if not seen(repo, idempotency_key, "deposit", request_hash):
            repo.post(
                ledger.transfer(ledger.PAYOUT_POOL, wallet, _positive_units(amount)),
                kind="deposit",
                now=now,
                memo=request_memo(request_hash),
                idempotency_key=idempotency_key,
            )
        return MoneyMove(acc, repo.balance(wallet))

    def create_model(self, account: int | str, name: str, *, now: dt.datetime) -> Model:
        name = str(name).strip()
        if not name:
            raise InvalidInputError("a model needs a non-empty name")
        with self.unit_of_work() as repo:
            return repo.add_model(repo.get_account(account).id, name, now=as_utc(now))

    def get_account(self, account: int | str) -> Account:
        with self.unit_of_work(read_only=True) as repo:
            return repo.get_account(account)

    def list_accounts(self) -> list[Account]:
        with self.unit_of_work(read_only=True) as repo:
            return repo.list_accounts()

    def get_model(self, model: int | str) -> Model:
        with self.unit_of_work(read_only=True) as repo:
            return repo.get_model(model)

    def list_models(self, *, account: int | str | None = None) -> list[Model]:
        with self.unit_of_work(read_only=True) as repo:
            account_id = None if account is None else repo.get_account(account).id
            return repo.list_models(account_id=account_id)

    def wallet(self, account: int | str) -> int:
        with self.unit_of_work(read_only=True) as repo:
            return repo.balance(ledger.wallet_account(repo.get_account(account).id))

    def wallet_transactions(self, account: int | str) -> list[WalletTransaction]:
        """The movements of an account's tokens, oldest first (:mod:`kardashev.tournament.wallet`)."""
        with self.unit_of_work(read_only=True) as repo:
            acc = repo.get_account(account)
            models = [m.id for m in repo.list_models(account_id=acc.id)]
            escrows = repo.balances(prefix="at_risk:")
            accounts = own_ledger_accounts(acc.id, models, escrows)
            return wallet_transactions(repo.list_ledger_transactions(accounts))

    # ------------------------------------------------------------ API keys
    def create_api_key(
        self,
        account: int | str,
        *,
        key_id: str,
        secret_hash: str,
        scopes: frozenset[str] | set[str],
        now: dt.datetime,
    ) -> ApiKey:
        """Store an API key; the caller hashes the secret, only ``secret_hash`` is kept."""
        if not key_id or not secret_hash:
            raise InvalidInputError("an API key needs a key id and a secret hash")
        with self.unit_of_work() as repo:
            return repo.add_api_key(
                key_id=key_id,
                secret_hash=secret_hash,
                scopes=frozenset(scopes),
                account_id=repo.get_account(account).id,
                now=as_utc(now),
            )

    def get_api_key(self, key_id: str) -> ApiKey:
        with self.unit_of_work(read_only=True) as repo:
            return repo.get_api_key(key_id)

    def list_api_keys(self, account: int | str) -> list[ApiKey]:
        with self.unit_of_work(read_only=True) as repo:
            return repo.list_api_keys(account_id=repo.get_account(account).id)

    def revoke_api_key(self, key_id: str, *, now: dt.datetime) -> ApiKey:
        with self.unit_of_work() as repo:
            return repo.revoke_api_key(key_id, now=as_utc(now))

    # ------------------------------------------------------------ stakes
    def stake_increase(
        self,
        model: int | str,
        amount: int,
        *,
        now: dt.datetime,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
    ) -> StakeInfo:
        """Move ``amount`` units from the owner's wallet to the model's stake.

        It counts from the next round to close (closed rounds keep their snapshot). A request
        repeated with the same ``idempotency_key`` (a client's retry) changes nothing the
        second time; a concurrent duplicate gets ConflictError (``duplicate_request``). With a
        ``request_hash`` (digest of the request) the key reused for a different request is a
        ConflictError (``idempotency_key_reused``). :meth:`stake_increase_once` also answers a
        retry with the first response.
        """
        with self.unit_of_work() as repo:
            move = self._stake_increase(repo, model, amount, as_utc(now), idempotency_key, request_hash)
        return _stake_of(move)

    def stake_increase_once(
        self, model: int | str, amount: int, *, now: dt.datetime, replay: Replay[MoneyMove]
    ) -> StoredResponse:
        """:meth:`stake_increase` answered with ``replay``'s stored first response on a retry."""
        return self._once(
            replay,
            lambda repo: self._stake_increase(
                repo, model, amount, as_utc(now), replay.key, replay.request_hash
            ),
            now=as_utc(now),
        )

    def _stake_increase(
        self,
        repo: TournamentRepository,
        model: int | str,
        amount: int,
        now: dt.datetime,
        idempotency_key: str | None,
        request_hash: str | None,
    ) -> MoneyMove:
        m = repo.get_model(model)
        if not seen(repo, idempotency_key, "stake_increase", request_hash):
            repo.post(
                ledger.transfer(
                    ledger.wallet_account(m.account_id),
                    ledger.stake_account(m.id),
                    _positive_units(amount),
                ),
                kind="stake_increase",
                now=now,
                memo=request_memo(request_hash),
                idempotency_key=idempotency_key,
            )
        return self._stake_move(repo, m)

    def stake_decrease(
        self,
        model: int | str,
        amount: int,
        *,
        now: dt.datetime,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
    ) -> StakeInfo:
        """Take ``amount`` units out of the model's free stake.

        The tokens wait in ``pending:{model}`` until every closed round holding an escrow
        of this model resolves, then go back to the wallet (at once if there is none).
        ``idempotency_key`` as for :meth:`stake_increase`.
        """
        with self.unit_of_work() as repo:
            move = self._stake_decrease(repo, model, amount, as_utc(now), idempotency_key, request_hash)
        return _stake_of(move)

    def stake_decrease_once(
        self, model: int | str, amount: int, *, now: dt.datetime, replay: Replay[MoneyMove]
    ) -> StoredResponse:
        """:meth:`stake_decrease` answered with ``replay``'s stored first response on a retry."""
        return self._once(
            replay,
            lambda repo: self._stake_decrease(
                repo, model, amount, as_utc(now), replay.key, replay.request_hash
            ),
            now=as_utc(now),
        )

    def _stake_decrease(
        self,
        repo: TournamentRepository,
        model: int | str,
        amount: int,
        now: dt.datetime,
        idempotency_key: str | None,
        request_hash: str | None,
    ) -> MoneyMove:
        m = repo.get_model(model)
        if seen(repo, idempotency_key, "stake_decrease", request_hash):
            return self._stake_move(repo, m)
        repo.post(
            ledger.transfer(
                ledger.stake_account(m.id), ledger.pending_account(m.id), _positive_units(amount)
            ),
            kind="stake_decrease",
            now=now,
            memo=request_memo(request_hash),
            idempotency_key=idempotency_key,
        )
        escrows = [
            ledger.parse_at_risk_account(k) for k, v in repo.balances(prefix="at_risk:").items() if v > 0
        ]
        holding = [key.round_number for key in escrows if key.model_id == m.id]
        pending = repo.add_pending_release(
            model_id=m.id, amount=amount, requested_at=now, release_after_round=max(holding, default=None)
        )
        if not holding:
            repo.post(
                ledger.transfer(ledger.pending_account(m.id), ledger.wallet_account(m.account_id), amount),
                kind="release",
                now=now,
            )
            repo.mark_released(pending.id, now=now)
        return self._stake_move(repo, m)

    def _stake_move(self, repo: TournamentRepository, model: Model) -> MoneyMove:
        return MoneyMove(
            repo.get_account(model.account_id),
            repo.balance(ledger.wallet_account(model.account_id)),
            self._stake_info(repo, model.id),
        )

    def stake(self, model: int | str) -> StakeInfo:
        with self.unit_of_work(read_only=True) as repo:
            return self._stake_info(repo, repo.get_model(model).id)

    @staticmethod
    def _stake_info(repo: TournamentRepository, model_id: int) -> StakeInfo:
        balances = {
            account: repo.balance(account)
            for account in (ledger.stake_account(model_id), ledger.pending_account(model_id))
        }
        return StakeInfo.from_balances(model_id, balances, at_risk_by_model(repo.balances(prefix="at_risk:")))

    def pending_releases(self, model: int | str) -> list[PendingRelease]:
        with self.unit_of_work(read_only=True) as repo:
            return repo.list_pending_releases(model_id=repo.get_model(model).id, unreleased_only=False)

    def balances(self) -> dict[str, int]:
        with self.unit_of_work(read_only=True) as repo:
            return repo.balances()

    def audit(self) -> LedgerAudit:
        """Check the whole ledger (see :class:`LedgerAudit`)."""
        with self.unit_of_work(read_only=True) as repo:
            sums = repo.ledger_entry_sums()
            stored = {k: v for k, v in repo.balances().items() if v != 0}
            recomputed = {k: v for k, v in repo.ledger_account_sums().items() if v != 0}
        mismatched = sorted(set(stored) | set(recomputed))
        mismatched = [k for k in mismatched if stored.get(k, 0) != recomputed.get(k, 0)]
        return LedgerAudit(
            n_transactions=len(sums),
            unbalanced_transactions=tuple(sorted(t for t, s in sums.items() if s != 0)),
            mismatched_accounts=tuple(mismatched),
            negative_accounts=tuple(
                sorted(k for k, v in recomputed.items() if v < 0 and k != ledger.PAYOUT_POOL)
            ),
            circulating=ledger.circulating(recomputed),
            minted=-recomputed.get(ledger.PAYOUT_POOL, 0),
            burned=recomputed.get(ledger.BURN, 0),
        )
