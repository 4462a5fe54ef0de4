"""Read-only callers open an existing database only: a missing one is named and nothing is created."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from kardashev.errors import NotFoundError
from kardashev.store import create_database_engine, database_exists, open_store


def _tables(url: str) -> list[str]:
    engine = create_database_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_missing_database_is_refused_without_creating_anything(db_url, tmp_path):
    before = sorted(p.name for p in tmp_path.iterdir())
    assert not database_exists(db_url)
    with pytest.raises(NotFoundError) as error:
        open_store(db_url, data_dir=tmp_path / "data", create=False)
    assert error.value.code == "no_database" and "no Kardashev database at" in error.value.message
    assert "password" not in error.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no file, no folder
    if db_url.startswith("postgresql"):
        assert _tables(db_url) == []  # no table either
    open_store(db_url, data_dir=tmp_path / "data").close()  # a writer creates it
    assert database_exists(db_url)
    opened = open_store(db_url, data_dir=tmp_path / "data", create=False)
    with opened(read_only=True) as repo:
        assert repo.list_accounts() == []
    opened.close()


def test_an_in_memory_database_always_exists():
    assert database_exists("sqlite://") and database_exists("sqlite:///:memory:")
