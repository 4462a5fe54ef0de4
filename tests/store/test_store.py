"""The store: migrations on open, SQLite settings, blobs, API keys, ledger guards — on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from kardashev.errors import ConfigError, ConflictError, InsufficientBalanceError, NotFoundError, StateError
from kardashev.store import BlobStore, create_database_engine, default_database_url, open_store
from kardashev.store.models import Base
from kardashev.tournament import ledger

NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone.utc)


def test_open_migrates_once_and_reopens(db_url, data_dir):
    first = open_store(db_url, data_dir=data_dir)
    tables = set(inspect(first.engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    with first.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
    with first() as repo:
        repo.add_account("ann", now=NOW)
    first.close()
    again = open_store(db_url, data_dir=data_dir)  # upgrade is a no-op on a current schema
    with again() as repo:
        assert [a.name for a in repo.list_accounts()] == ["ann"]
        assert repo.get_account("ann").created_at == NOW  # timestamps come back timezone-aware UTC
    again.close()


def test_sqlite_defaults_wal_and_foreign_keys(tmp_path):
    store = open_store(None, data_dir=tmp_path / "kd")
    assert store.engine.url.database == str(tmp_path / "kd" / "kardashev.db")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()
    assert default_database_url("x") == "sqlite:///x/kardashev.db"
    with pytest.raises(ConfigError):
        create_database_engine("mysql://nobody@nowhere/db")
    with pytest.raises(ConfigError):
        create_database_engine("not a url at all")


def test_blobs_are_content_addressed_and_checked(tmp_path):
    blobs = BlobStore(tmp_path / "blobs")
    sha = blobs.put(b"hello")
    assert blobs.put(b"hello") == sha and blobs.get(sha) == b"hello"
    assert blobs.path(sha).parent.name == sha[:2]
    assert not list(blobs.path(sha).parent.glob(".tmp-*"))
    blobs.path(sha).write_bytes(b"tampered")
    with pytest.raises(StateError, match="corrupted"):
        blobs.get(sha)
    with pytest.raises(NotFoundError):
        blobs.get("0" * 64)
    with pytest.raises(NotFoundError):
        blobs.get("../../etc/passwd")


def test_api_keys_store_only_the_hash(store):
    with store() as repo:
        ann = repo.add_account("ann", now=NOW)
        bob = repo.add_account("bob", now=NOW)
        key = repo.add_api_key(
            key_id="kd_pub_1",
            secret_hash="argon2$abc",
            scopes=frozenset({"read", "upload"}),
            account_id=ann.id,
            now=NOW,
        )
        repo.add_api_key(
            key_id="kd_pub_2", secret_hash="h2", scopes=frozenset({"admin"}), account_id=bob.id, now=NOW
        )
    assert key.scopes == frozenset({"read", "upload"}) and key.active
    with pytest.raises(ConflictError), store() as repo:
        repo.add_api_key(key_id="kd_pub_1", secret_hash="x", scopes=frozenset(), account_id=bob.id, now=NOW)
    with store() as repo:
        found = repo.get_api_key("kd_pub_1")
        assert (found.secret_hash, found.account_id) == ("argon2$abc", ann.id)
        assert [k.key_id for k in repo.list_api_keys(account_id=bob.id)] == ["kd_pub_2"]
        revoked = repo.revoke_api_key("kd_pub_1", now=NOW + dt.timedelta(hours=1))
        assert not revoked.active and revoked.revoked_at == NOW + dt.timedelta(hours=1)
        assert (
            repo.revoke_api_key("kd_pub_1", now=NOW + dt.timedelta(hours=2)).revoked_at == revoked.revoked_at
        )
        with pytest.raises(NotFoundError):
            repo.get_api_key("nope")


def test_ledger_refuses_overdraft_and_keeps_nothing(store):
    with store() as repo:
        repo.post(ledger.transfer(ledger.PAYOUT_POOL, "wallet:1", 100), kind="deposit", now=NOW)
    with pytest.raises(InsufficientBalanceError, match="wallet:1"), store() as repo:
        repo.post(ledger.transfer("wallet:1", "stake:1", 60), kind="stake_increase", now=NOW)
        repo.post(ledger.transfer("wallet:1", "stake:2", 60), kind="stake_increase", now=NOW)
    with store() as repo:  # the whole transaction rolled back, the first transfer included
        assert repo.balances() == {ledger.PAYOUT_POOL: -100, "wallet:1": 100}
        assert list(repo.ledger_entry_sums().values()) == [0]


def test_database_refuses_a_negative_balance_even_bypassing_the_repository(store):
    with store() as repo:
        repo.post(ledger.transfer(ledger.PAYOUT_POOL, "wallet:1", 5), kind="deposit", now=NOW)
    with pytest.raises(IntegrityError, match=r"(?i)check|constraint"), store.session() as session:
        session.execute(text("UPDATE ledger_balances SET balance = -1 WHERE account = 'wallet:1'"))


def test_an_older_schema_is_upgraded_in_place_keeping_its_data(db_url, data_dir):
    from alembic import command
    from alembic.config import Config

    from kardashev.store.engine import _MIGRATIONS

    engine = create_database_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO accounts (name, created_at) VALUES ('old', :t)"), {"t": NOW})
    engine.dispose()
    store = open_store(db_url, data_dir=data_dir)
    with store() as repo:
        assert repo.get_account("old").name == "old"
        repo.post(
            ledger.transfer(ledger.PAYOUT_POOL, "wallet:1", 5), kind="deposit", now=NOW, idempotency_key="k"
        )
        assert repo.find_transaction_kind("k") == "deposit"
    store.close()


def test_readers_do_not_wait_for_a_writer_and_cannot_write(store):
    import threading

    with store() as repo:
        repo.add_account("ann", now=NOW)
    seen: list[object] = []
    with store() as writer:  # holds the write transaction (SQLite: the database write lock)
        writer.add_account("bob", now=NOW)

        def read() -> None:
            with store(read_only=True) as reader:
                seen.append([a.name for a in reader.list_accounts()])

        thread = threading.Thread(target=read)
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive(), "a reader waited for the writer"
    assert seen == [["ann"]]  # the uncommitted account is invisible to the reader
    if store.engine.dialect.name == "sqlite":
        with (
            pytest.raises(Exception, match=r"(?i)readonly|read-only|query_only"),
            store(read_only=True) as reader,
        ):
            reader.add_account("eve", now=NOW)


def test_stored_responses_are_scoped_per_account_and_written_once(store):
    from kardashev.tournament.replay import StoredReplay, StoredResponse

    with store() as repo:
        ann, bob = repo.add_account("ann", now=NOW), repo.add_account("bob", now=NOW)
        first = StoredResponse(201, b'{"a":"\xc3\xa9 1.500000"}')
        repo.add_response(account_id=ann.id, key="k", request_hash="h1", response=first, now=NOW)
        repo.add_response(  # the same key in another account's scope is another key
            account_id=bob.id, key="k", request_hash="h2", response=StoredResponse(200, b"{}"), now=NOW
        )
    with store() as repo:
        assert repo.find_response(ann.id, "k") == StoredReplay("h1", first)
        assert repo.find_response(bob.id, "k") == StoredReplay("h2", StoredResponse(200, b"{}"))
        assert repo.find_response(ann.id, "other") is None
        with pytest.raises(ConflictError) as info:
            repo.add_response(account_id=ann.id, key="k", request_hash="h3", response=first, now=NOW)
        assert info.value.code == "duplicate_request"
        assert repo.find_response(ann.id, "k") == StoredReplay("h1", first)  # the first one stays
