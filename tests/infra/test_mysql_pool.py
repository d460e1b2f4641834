"""The MySQL pool pings only idle connections and rolls back only open transactions, yet never hands out a dead
connection or a leftover transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from infra.mysql_pool import ping_only_when_idle

pytestmark = pytest.mark.stack


def one_connection_engine(settings, idle_seconds: float = 5.0):
    return ping_only_when_idle(create_async_engine(settings.mysql_url, pool_size=1, max_overflow=0,
                                                   pool_pre_ping=False, pool_reset_on_return=None), idle_seconds)


async def session_counter(conn, name: str) -> int:
    return int((await conn.execute(text("SHOW SESSION STATUS LIKE :n"), {"n": name})).one()[1])


async def test_a_committed_transaction_is_not_rolled_back_again_on_return(settings):
    engine = one_connection_engine(settings)
    async with engine.connect() as conn:
        before = await session_counter(conn, "Com_rollback")
        await conn.rollback()
    for _ in range(5):
        async with engine.begin() as conn:
            await conn.execute(text("SELECT COUNT(*) FROM orders"))
    async with engine.connect() as conn:
        after = await session_counter(conn, "Com_rollback")
        await conn.rollback()
    await engine.dispose()

    assert after - before == 1  # only the explicit rollback of the first block


async def test_a_connection_returned_inside_a_read_transaction_is_rolled_back(settings):
    engine = one_connection_engine(settings)
    async with engine.connect() as conn:
        await conn.execute(text("SELECT COUNT(*) FROM orders"))  # starts a transaction (autocommit is off)
        assert (await conn.get_raw_connection()).driver_connection.get_transaction_status()
    async with engine.connect() as conn:
        still_open = (await conn.get_raw_connection()).driver_connection.get_transaction_status()
    await engine.dispose()

    assert not still_open


async def test_an_idle_connection_killed_by_the_server_is_replaced_without_an_error(settings):
    engine = one_connection_engine(settings, idle_seconds=0.0)
    async with engine.connect() as conn:
        pooled_id = (await conn.execute(text("SELECT CONNECTION_ID()"))).scalar()
    killer = create_async_engine(settings.mysql_url)
    async with killer.connect() as conn:
        await conn.execute(text(f"KILL {int(pooled_id)}"))
    await killer.dispose()

    async with engine.connect() as conn:
        new_id = (await conn.execute(text("SELECT CONNECTION_ID()"))).scalar()
    await engine.dispose()

    assert new_id != pooled_id
