"""Alembic environment: runs on the connection paichan hands over (see ``api.db.migrate``)."""

from __future__ import annotations

from alembic import context

from api.db import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - paichan always passes its connection
    raise RuntimeError("run migrations through api.db.migrate(engine)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
