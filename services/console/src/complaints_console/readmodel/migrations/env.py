"""Alembic environment: runs on the engine handed in by complaints_console.readmodel.database."""

from __future__ import annotations

from alembic import context

from complaints_console.readmodel.tables import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
