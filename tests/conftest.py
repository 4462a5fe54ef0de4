"""Database fixtures shared by the suite: every test that asks for ``db_url`` runs twice,
on an embedded SQLite file and on the PostgreSQL server (its own schema, dropped after).

PostgreSQL is at ``KARDASHEV_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). When it is unreachable the
PostgreSQL variants are skipped locally but FAIL under CI (``CI=true``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get(
    "KARDASHEV_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@functools.cache
def _postgres_problem() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 5})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any driver / network failure means unreachable
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def _postgres_schema() -> Iterator[str]:
    """A fresh schema on the server; yields a URL whose search_path points at it."""
    from kardashev.store.engine import scratch_schema

    problem = _postgres_problem()
    if problem is not None:
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable ({problem})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " — under CI this is a failure, not a skip")
        pytest.skip(message)
    with scratch_schema(POSTGRES_URL, prefix="kdtest") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for an empty database: SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'kardashev.db'}"
    else:
        yield from _postgres_schema()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty data directory for content-addressed blobs."""
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def store(db_url: str, data_dir: Path):  # type: ignore[no-untyped-def]
    """A migrated :class:`kardashev.store.Store` on ``db_url`` (closed after the test)."""
    from kardashev.store import open_store

    opened = open_store(db_url, data_dir=data_dir)
    yield opened
    opened.close()
