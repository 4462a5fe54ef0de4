"""Database engines and migrations: embedded SQLite by default, PostgreSQL by URL.

SQLite runs in WAL mode with foreign keys on, and every transaction starts with
``BEGIN IMMEDIATE`` so concurrent writers queue (busy timeout) instead of failing
half-way. Migrations ship inside the package and are applied on open with
``alembic.command.upgrade`` (under an advisory lock on PostgreSQL, so several
workers starting at once migrate exactly once).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from kardashev.errors import ConfigError

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATA_DIR",
    "create_database_engine",
    "database_exists",
    "default_database_url",
    "migrate",
    "scratch_schema",
]

DATABASE_URL_ENV = "KARDASHEV_DATABASE_URL"
DEFAULT_DATA_DIR = Path("kardashev-data")
_MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK_ID = 0x4B415244  # "KARD"


def default_database_url(data_dir: str | os.PathLike[str] = DEFAULT_DATA_DIR) -> str:
    """The embedded SQLite database inside ``data_dir``."""
    return f"sqlite:///{Path(data_dir) / 'kardashev.db'}"


def database_exists(url: str) -> bool:
    """Whether ``url`` holds a Kardashev database already; creates nothing (no file, no folder, no table).

    SQLite: the file exists (an in-memory database always counts). PostgreSQL: the schema has been
    migrated (Alembic's version table is there).
    """
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        return not parsed.database or parsed.database == ":memory:" or Path(parsed.database).is_file()
    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            return inspect(connection).has_table("alembic_version")
    finally:
        engine.dispose()


def create_database_engine(url: str, *, echo: bool = False, read_only: bool = False) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://…``).

    ``read_only`` (SQLite): transactions start deferred (``BEGIN``), so readers run in parallel
    with each other and with the one writer (WAL), and any write is refused (``query_only``).
    """
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, echo=echo, connect_args={"timeout": 60, "check_same_thread": False})
        _configure_sqlite(engine, read_only=read_only)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(parsed, echo=echo, pool_pre_ping=True)
        _configure_postgresql(engine)
        return engine
    raise ConfigError(f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://")


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # a row lock not had within 60 s fails (BusyError → HTTP 503), as SQLite's busy timeout does
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '60s'")
        dbapi_connection.commit()


def _configure_sqlite(engine: Engine, *, read_only: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (no-op when it is current)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_ID})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def scratch_schema(url: str, *, prefix: str = "kardashev") -> Iterator[str]:
    """A fresh PostgreSQL schema for the duration of the block; yields a URL whose connections use it.

    For isolated test runs and benchmarks against a shared server: the schema is created first, its
    URL sets ``search_path`` to it, and it is dropped with everything in it on exit.
    """
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in url else "?"
        try:
            yield f"{url}{separator}options=-csearch_path%3D{schema}"
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()
