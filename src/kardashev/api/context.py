"""What every request handler needs: settings, the tournament service, its storage and the clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request

from kardashev.api.settings import Settings
from kardashev.tournament.repository import UnitOfWork
from kardashev.tournament.service import TournamentService
from kardashev.tournament.validation import ValidationConfig

__all__ = ["ApiContext", "Clock", "get_context", "utc_now"]

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class ApiContext:
    """The service objects of one application instance (held in ``app.state.context``)."""

    settings: Settings
    service: TournamentService
    unit_of_work: UnitOfWork
    clock: Clock = utc_now
    resources: list[object] = field(default_factory=list)

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock | None = None) -> ApiContext:
        """Open the store named by ``settings`` (creating its schema if asked) and a service over it."""
        from kardashev.store import open_store

        store = open_store(
            settings.database_url, data_dir=settings.data_dir, migrate_schema=settings.create_schema
        )
        service = TournamentService(store, validation=ValidationConfig(max_rows=settings.max_upload_rows))
        return cls(
            settings=settings, service=service, unit_of_work=store, clock=clock or utc_now, resources=[store]
        )

    def now(self) -> dt.datetime:
        return self.clock()

    def close(self) -> None:
        for resource in self.resources:
            close = getattr(resource, "close", None) or getattr(resource, "dispose", None)
            if callable(close):
                close()


def get_context(request: Request) -> ApiContext:
    """FastAPI dependency: the context of the application serving ``request``."""
    return request.app.state.context
