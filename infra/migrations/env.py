"""Alembic environment: migrates the database named by the settings (or `sqlalchemy.url` when a caller sets it)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from infra import connections
from infra.settings import get_settings


def run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=None, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = connections.mysql(get_settings(), database_url=context.config.get_main_option("sqlalchemy.url"))
    async with engine.connect() as connection:
        await connection.run_sync(run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not used; run migrations against the database")
asyncio.run(run_online())
