"""Alembic environment: runs on the connection Shipyard hands over in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from shipyard.store.base import load_all_models

config = context.config
target_metadata = load_all_models()
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Shipyard migrations run through shipyard.store.migrate.upgrade()")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
