"""Storage of the tournament: SQLAlchemy 2 + Alembic (SQLite embedded, PostgreSQL by URL) and
content-addressed parquet blobs in a data directory."""

from kardashev.store.blobs import BlobStore
from kardashev.store.engine import (
    DATABASE_URL_ENV,
    DEFAULT_DATA_DIR,
    create_database_engine,
    database_exists,
    default_database_url,
    migrate,
)
from kardashev.store.repository import SqlRepository
from kardashev.store.unit_of_work import Store, open_store

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATA_DIR",
    "BlobStore",
    "SqlRepository",
    "Store",
    "create_database_engine",
    "database_exists",
    "default_database_url",
    "migrate",
    "open_store",
]
