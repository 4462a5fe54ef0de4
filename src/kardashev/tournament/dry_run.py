"""Resolve dry run: the payouts and burns a resolve would make, with nothing written.

The dry run runs the service's own ``resolve_round`` (so it computes exactly what a resolve would:
the final day's scores when its data is passed, the payout rule, the ledger postings) over a unit of
work whose every transaction is rolled back instead of committed. The database is left as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from kardashev.data.era import Era
from kardashev.tournament.domain import Payout, RoundStatus
from kardashev.tournament.repository import TournamentRepository, UnitOfWork
from kardashev.tournament.service import TournamentService

__all__ = ["ResolvePreview", "RollbackUnitOfWork", "preview_resolve"]


class _RollbackError(Exception):
    """Raised inside a transaction to roll it back."""


class RollbackUnitOfWork:
    """A unit of work whose transactions all roll back: reads see the data, writes vanish."""

    def __init__(self, inner: UnitOfWork) -> None:
        self.inner = inner

    @contextmanager
    def __call__(self, *, read_only: bool = False) -> Iterator[TournamentRepository]:
        try:
            with self.inner(read_only=read_only) as repo:
                yield repo
                raise _RollbackError
        except _RollbackError:
            pass


@dataclass(frozen=True)
class ResolvePreview:
    """What resolving a round would do.

    Attributes
    ----------
    round_number
        The round.
    already_resolved
        True when the round is resolved: ``payouts`` are the ones it made.
    payouts
        One per staked model: stake, payout fraction and signed amount in units (> 0 minted,
        < 0 burned).
    """

    round_number: int
    already_resolved: bool
    payouts: tuple[Payout, ...]

    @property
    def total_minted(self) -> int:
        """Units paid out."""
        return sum(p.amount for p in self.payouts if p.amount > 0)

    @property
    def total_burned(self) -> int:
        """Units burned (positive)."""
        return -sum(p.amount for p in self.payouts if p.amount < 0)

    @property
    def net(self) -> int:
        """Minted minus burned."""
        return self.total_minted - self.total_burned


def preview_resolve(
    service: TournamentService, number: int, *, now: dt.datetime, day: Era | None = None
) -> ResolvePreview:
    """The payouts and burns ``service.resolve_round(number, now=now, day=day)`` would make, with the
    same errors (round not closed, not due, not scored), and nothing written."""
    already = service.get_round(number).status is RoundStatus.RESOLVED
    preview = TournamentService(
        RollbackUnitOfWork(service.unit_of_work),
        validation=service.validation,
        payout=service.payout,
        scorer=service.scorer,
    )
    payouts = preview.resolve_round(number, now=now, day=day)
    return ResolvePreview(round_number=int(number), already_resolved=already, payouts=tuple(payouts))
