"""Alembic environment: runs on the connection that :func:`kardashev.store.engine.migrate` passes in."""

from __future__ import annotations

from alembic import context

from kardashev.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only used through kardashev.store.engine.migrate
    raise RuntimeError("kardashev migrations run through kardashev.store.engine.migrate(engine)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
