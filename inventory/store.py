"""MySQL adapter of the inventory: stock rows under `CHECK (quantity >= 0)`, every change recorded as a movement.

The module functions take the caller's connection, because placing or cancelling an order changes stock in the same
transaction as the order. Every writer first locks the item's stock rows (`lock_stock`), so the picture it computes is
exact, crossings of zero are seen by exactly one transaction, and `inventory.stock_changed` versions follow commit order.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from infra.outbox import add_events
from inventory import service
from inventory.events import STOCK_CHANGED_TOPIC
from inventory.service import Drift, FeedStock, Pick, Stock


class StockShort(Exception):
    """A conditional decrement found fewer units than it needed (only possible if a writer skipped `lock_stock`)."""


# Built once: these run on every order placement, where parsing a text() statement each time is measurable CPU.
LOCK_STOCK = text("SELECT item_id, warehouse_id, quantity FROM stock_levels WHERE item_id IN :ids "
                  "ORDER BY item_id, warehouse_id FOR UPDATE").bindparams(bindparam("ids", expanding=True))
TAKE_STOCK = text("UPDATE stock_levels SET quantity = quantity - :q, updated_at = CURRENT_TIMESTAMP "
                  "WHERE item_id = :i AND warehouse_id = :w AND quantity >= :q")
SET_FEED_STOCK = text("INSERT INTO stock_levels (item_id, warehouse_id, quantity, feed_version) VALUES (:i, :w, :q, :v) "
                      "ON DUPLICATE KEY UPDATE quantity = VALUES(quantity), feed_version = GREATEST(feed_version, "
                      "VALUES(feed_version)), updated_at = CURRENT_TIMESTAMP")
INSERT_MOVEMENTS = text("INSERT INTO stock_movements (item_id, warehouse_id, delta, reason, order_id) "
                        "VALUES (:i, :w, :d, :r, :o)")


async def lock_stock(conn: AsyncConnection, item_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """The items' stock rows, locked until the transaction ends; items are locked in id order to avoid deadlocks."""
    ids = sorted(set(item_ids))
    rows = await conn.execute(LOCK_STOCK, {"ids": ids})
    stock: dict[str, dict[str, int]] = {item_id: {} for item_id in ids}
    for item_id, warehouse_id, quantity in rows:
        stock[item_id][warehouse_id] = quantity
    return stock


async def take(conn: AsyncConnection, picks: list[Pick], order_id: str) -> None:
    """Decrement stock for every pick; the condition and the CHECK constraint make going below zero impossible."""
    for pick in picks:
        result = await conn.execute(TAKE_STOCK, {"q": pick.quantity, "i": pick.item_id, "w": pick.warehouse_id})
        if result.rowcount != 1:
            raise StockShort(pick)
    await record_movements(conn, [(pick, -pick.quantity, "reserve", order_id) for pick in picks])


async def put_back(conn: AsyncConnection, picks_by_order: dict[str, list[Pick]]) -> None:
    """Return the units of cancelled orders, one statement for all rows."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for picks in picks_by_order.values():
        for pick in picks:
            totals[pick.item_id, pick.warehouse_id] += pick.quantity
    if not totals:
        return
    await conn.execute(text("INSERT INTO stock_levels (item_id, warehouse_id, quantity) VALUES (:i, :w, :q) "
                            "ON DUPLICATE KEY UPDATE quantity = quantity + VALUES(quantity), updated_at = CURRENT_TIMESTAMP"),
                       [{"i": i, "w": w, "q": q} for (i, w), q in totals.items()])
    await record_movements(conn, [(pick, pick.quantity, "release", order_id)
                                  for order_id, picks in picks_by_order.items() for pick in picks])


async def record_movements(conn: AsyncConnection, movements: list[tuple[Pick, int, str, str | None]]) -> None:
    if movements:
        await conn.execute(INSERT_MOVEMENTS,
                           [{"i": p.item_id, "w": p.warehouse_id, "d": delta, "r": reason, "o": order_id}
                            for p, delta, reason, order_id in movements])


async def publish_crossings(conn: AsyncConnection, before: Stock, now: Stock) -> int:
    """Queue `inventory.stock_changed` for the items whose sellable warehouses changed; call with the rows locked.
    The version is the clock while holding the item's locks, so a later writer always carries a larger one."""
    changes = service.crossings(before, now, version=time.time_ns() // 1000)
    await add_events(conn, [(STOCK_CHANGED_TOPIC, change.item_id, change) for change in changes])
    return len(changes)


class StockStore:
    """The inventory's own operations: read stock, set it (seller or feed), and reconcile it against the movements."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def levels(self, item_id: str) -> dict[str, int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(text("SELECT warehouse_id, quantity FROM stock_levels WHERE item_id = :i "
                                           "ORDER BY warehouse_id"), {"i": item_id})
            return dict(rows.all())

    async def set_levels(self, item_id: str, quantities: dict[str, int]) -> dict[str, int]:
        """Set on-hand stock per warehouse, as the seller states it (the feed's stock goes through
        `apply_feed_stock`, guarded by feed version)."""
        await self._ensure_rows([(item_id, warehouse) for warehouse in quantities])
        async with self.engine.begin() as conn:
            before = await lock_stock(conn, [item_id])
            rows = before[item_id]
            changes = {w: q for w, q in quantities.items() if rows.get(w) != q}
            if changes:
                # feed_version 0: GREATEST keeps what the feed last applied, so an older feed record still loses.
                await conn.execute(SET_FEED_STOCK, [{"i": item_id, "w": w, "q": q, "v": 0} for w, q in changes.items()])
            await record_movements(conn, [(Pick(item_id, w, q), q - rows.get(w, 0), "set", None) for w, q in changes.items()])
            await publish_crossings(conn, before, {item_id: {**rows, **quantities}})
            return {**rows, **quantities}

    async def apply_feed_stock(self, stated: list[FeedStock]) -> None:
        """Set the stock many feed records state, in one transaction: per item the newest statement, row by row only
        where it is newer than the feed version last applied there (see `service.feed_changes`)."""
        if not stated:
            return
        await self._ensure_rows([(s.item_id, warehouse) for s in stated for warehouse in s.quantities])
        async with self.engine.begin() as conn:
            before = await lock_stock(conn, [s.item_id for s in stated])
            applied = await _feed_versions(conn, list(before))
            changes = service.feed_changes(before, applied, stated)
            if changes.rows:
                await conn.execute(SET_FEED_STOCK, [{"i": i, "w": w, "q": q, "v": v} for i, w, q, v in changes.rows])
            await record_movements(conn, [(pick, delta, "set", None) for pick, delta in changes.movements])
            await publish_crossings(conn, before, changes.now)

    async def _ensure_rows(self, rows: list[tuple[str, str]]) -> None:
        # Committed (at 0) before the rows are locked: two first writers of an item would otherwise both find no rows
        # to lock, both record the whole quantity as a movement, and both publish the crossing.
        if rows:
            async with self.engine.begin() as conn:
                await conn.execute(text("INSERT INTO stock_levels (item_id, warehouse_id, quantity) VALUES (:i, :w, 0) "
                                        "ON DUPLICATE KEY UPDATE quantity = quantity"),
                                   [{"i": item_id, "w": warehouse} for item_id, warehouse in sorted(set(rows))])

    async def reconcile(self, *, repair: bool, batch: int = 500, item_ids: Iterable[str] | None = None) -> list[Drift]:
        """Compare every stock row (or only those of `item_ids`) with the sum of its movements; with `repair`, set
        drifted rows to that sum."""
        if item_ids is not None:
            item_ids = sorted(set(item_ids))
        else:
            async with self.engine.connect() as conn:
                item_ids = list((await conn.execute(text("SELECT DISTINCT item_id FROM stock_levels UNION "
                                                         "SELECT DISTINCT item_id FROM stock_movements"))).scalars())
        found: list[Drift] = []
        for start in range(0, len(item_ids), batch):
            found += await self._reconcile_items(item_ids[start:start + batch], repair)
        return found

    async def _reconcile_items(self, item_ids: list[str], repair: bool) -> list[Drift]:
        async with self.engine.begin() as conn:
            recorded = await lock_stock(conn, item_ids)  # writers wait, so stock and movements agree while we read
            sums = await conn.execute(text("SELECT item_id, warehouse_id, SUM(delta) FROM stock_movements WHERE item_id IN :ids "
                                           "GROUP BY item_id, warehouse_id").bindparams(bindparam("ids", expanding=True)),
                                      {"ids": item_ids})
            expected: dict[str, dict[str, int]] = defaultdict(dict)
            for item_id, warehouse_id, total in sums:
                expected[item_id][warehouse_id] = int(total)
            found = service.drifts(recorded, expected)
            if repair and found:
                await _repair(conn, found, recorded)
            return found


async def _feed_versions(conn: AsyncConnection, item_ids: list[str]) -> dict[str, dict[str, int]]:
    rows = await conn.execute(text("SELECT item_id, warehouse_id, feed_version FROM stock_levels WHERE item_id IN :ids")
                              .bindparams(bindparam("ids", expanding=True)), {"ids": item_ids})
    versions: dict[str, dict[str, int]] = defaultdict(dict)
    for item_id, warehouse_id, version in rows:
        versions[item_id][warehouse_id] = version
    return versions


async def _repair(conn: AsyncConnection, found: list[Drift], recorded: Stock) -> None:
    """Set each drifted row to what its movements add up to (never below zero; such rows are reported, not forced)."""
    fixable = [d for d in found if d.expected >= 0]
    if not fixable:
        return
    await conn.execute(text("INSERT INTO stock_levels (item_id, warehouse_id, quantity) VALUES (:i, :w, :q) "
                            "ON DUPLICATE KEY UPDATE quantity = VALUES(quantity), updated_at = CURRENT_TIMESTAMP"),
                       [{"i": d.item_id, "w": d.warehouse_id, "q": d.expected} for d in fixable])
    now = service.after(recorded, [Pick(d.item_id, d.warehouse_id, d.expected - d.recorded) for d in fixable], +1)
    await publish_crossings(conn, recorded, now)
