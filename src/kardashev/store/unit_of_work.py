"""The store: a database plus a data directory, handing out one transaction at a time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from kardashev.errors import BusyError, NotFoundError
from kardashev.store.blobs import BlobStore
from kardashev.store.engine import (
    DEFAULT_DATA_DIR,
    create_database_engine,
    database_exists,
    default_database_url,
    migrate,
)
from kardashev.store.repository import SqlRepository

__all__ = ["Store", "open_store"]


class Store:
    """Implements the tournament's ``UnitOfWork``: ``with store() as repo:`` is one transaction.

    Parameters
    ----------
    engine
        SQLAlchemy engine (see :func:`kardashev.store.engine.create_database_engine`).
    data_dir
        Directory of the content-addressed parquet blobs (shared by every worker).
    """

    def __init__(
        self, engine: Engine, data_dir: str | os.PathLike[str], *, read_engine: Engine | None = None
    ) -> None:
        self.engine = engine
        self.read_engine = read_engine
        self.data_dir = Path(data_dir)
        self.blobs = BlobStore(self.data_dir / "blobs")
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
        self._read_sessions = sessionmaker(bind=read_engine or engine, expire_on_commit=False, autoflush=True)

    @contextmanager
    def __call__(self, *, read_only: bool = False) -> Iterator[SqlRepository]:
        """One transaction; ``read_only`` ones do not queue behind writers on SQLite."""
        sessions = self._read_sessions if read_only else self._sessions
        try:
            with sessions() as session, session.begin():
                yield SqlRepository(session, self.blobs)
        except OperationalError as exc:
            if _is_lock_timeout(exc):
                raise BusyError(
                    "the database is busy (a lock could not be had in time); nothing was changed, try again"
                ) from exc
            raise

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A raw session in its own transaction (for inspection and tests)."""
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
        if self.read_engine is not None:
            self.read_engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(
    url: str | None = None,
    *,
    data_dir: str | os.PathLike[str] = DEFAULT_DATA_DIR,
    migrate_schema: bool = True,
    create: bool = True,
) -> Store:
    """Open (creating and migrating if needed) the database at ``url`` with blobs in ``data_dir``.

    ``url`` None means the embedded SQLite file ``data_dir/kardashev.db``. The caller reads
    ``KARDASHEV_DATABASE_URL`` (the CLI and API do) and passes it in. With ``create=False`` a database
    that does not exist yet is not created: :class:`~kardashev.errors.NotFoundError` (code
    ``no_database``) is raised instead and nothing is created (for read-only callers); an existing
    database whose schema is older than this version is still upgraded (``migrate_schema``), since
    the queries need the current schema.
    """
    url = url or default_database_url(data_dir)
    if not create and not database_exists(url):
        raise NotFoundError(f"no Kardashev database at {_where(url)}", code="no_database")
    engine = create_database_engine(url)
    if migrate_schema:
        migrate(engine)
    read_engine = create_database_engine(url, read_only=True) if engine.dialect.name == "sqlite" else None
    return Store(engine, data_dir, read_engine=read_engine)


def _where(url: str) -> str:
    """The database's file (SQLite) or its URL without the password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database)
    return parsed.render_as_string(hide_password=True)


# SQLite: "database is locked" / "database table is locked"; PostgreSQL: lock_not_available (lock_timeout),
# deadlock_detected, serialization_failure
_PG_BUSY = frozenset({"55P03", "40P01", "40001"})


def _is_lock_timeout(exc: OperationalError) -> bool:
    original = exc.orig
    if getattr(original, "sqlstate", None) in _PG_BUSY:
        return True
    return "database is locked" in str(original) or "database table is locked" in str(original)
