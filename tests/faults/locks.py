"""Row locks a fault test holds so that a writer of those rows waits exactly where the kill must find it: the relay
between its send and its delete, a consumer inside its transaction."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from inventory.store import StockStore
from orders.events import ORDERS_TOPIC


@dataclass
class RowLock:
    """Rows under a lock of the test's (`SELECT ... FOR UPDATE` in a transaction it keeps open) until `release`: a
    writer of them waits where it is, so a kill finds it there."""

    conn: AsyncConnection
    transaction: AsyncTransaction
    rows: list

    @classmethod
    async def take(cls, engine: AsyncEngine, sql: str, params: dict) -> RowLock:
        conn = await engine.connect()
        transaction = await conn.begin()
        return cls(conn, transaction, list(await conn.execute(text(sql), params)))

    async def release(self) -> None:
        await self.transaction.rollback()
        await self.conn.close()


async def writers_waiting(engine: AsyncEngine, statement: str) -> int:
    """Statements of this user's sessions that begin with `statement` and have run 100 ms or more (waiting for a
    lock: they take a few milliseconds otherwise)."""
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE :s "
                                        "AND TIME_MS >= 100"), {"s": statement + "%"})).scalar()


async def hold_pending_rows(engine: AsyncEngine, placing: asyncio.Future) -> RowLock | None:
    """Locks the pending `orders.events` rows of the outbox as soon as there are some, while `placing` runs; None
    when the relay kept the outbox empty until then. The relay reads and sends them (its read takes no lock), then its
    DELETE waits for the lock: it sits between send and delete."""
    while not placing.done():
        held = await RowLock.take(engine, "SELECT payload FROM outbox WHERE topic = :t ORDER BY id LIMIT 100 "
                                          "FOR UPDATE", {"t": ORDERS_TOPIC})
        if held.rows:
            return held
        await held.release()
        await asyncio.sleep(0.002)
    return None


async def hold_stock_row(engine: AsyncEngine, item_id: str, warehouse_id: str) -> RowLock:
    """The item's stock row, made (empty: nothing on hand, nothing moved) and locked: the feed-stock consumer waits
    there, inside its transaction."""
    await StockStore(engine).set_levels(item_id, {warehouse_id: 0})
    return await RowLock.take(engine, "SELECT on_hand FROM stock_levels WHERE item_id = :i FOR UPDATE", {"i": item_id})
