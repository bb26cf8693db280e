"""Alembic environment: migrations run on the connection the Store hands over."""

from __future__ import annotations

from alembic import context

from sottovoce.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - migrations always run through Store.migrate
    raise RuntimeError("run migrations through sottovoce.store.db.Store.migrate")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
