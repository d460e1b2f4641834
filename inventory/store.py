"""MySQL adapter of the inventory: per (item, warehouse) the units on hand and the units reserved for open orders, each
kept non-negative by a CHECK constraint, every change recorded as a movement of either column.

A count (the seller's or the feed's) sets on hand only; orders reserve (only while `on_hand - reserved` covers them),
release, and ship (on hand and reserved both go down). The module functions take the caller's connection, because
placing, cancelling or shipping an order changes stock in the same transaction as the order. Lock order: a caller that
holds order rows locks them first; then every writer locks the items' stock rows (`lock_stock`, in item id order), so
the picture it computes is exact, crossings of zero are seen by exactly one transaction, and `inventory.stock_changed`
versions follow commit order.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from infra import driver_sql
from infra.outbox import add_events
from inventory import service
from inventory.events import STOCK_CHANGED_TOPIC
from inventory.service import Change, Drift, FeedStock, Level, Levels, Pick


class StockShort(Exception):
    """A conditional reservation found fewer units available than it needed (only possible if a writer skipped
    `lock_stock`); carries the pick."""

    def __init__(self, pick: Pick) -> None:
        super().__init__(pick)
        self.pick = pick


def _ids(sql: str):
    return text(sql).bindparams(bindparam("ids", expanding=True))


# Built once, and run on the driver (`infra.driver_sql`): these are statements of every order placement.
LOCK_STOCK = driver_sql.DriverStatement(_ids(
    "SELECT item_id, warehouse_id, on_hand, reserved FROM stock_levels WHERE item_id IN :ids "
    "ORDER BY item_id, warehouse_id FOR UPDATE"))
READ_STOCK = driver_sql.DriverStatement(_ids(
    "SELECT item_id, warehouse_id, on_hand, reserved FROM stock_levels WHERE item_id IN :ids"))
RESERVE_STOCK = driver_sql.DriverStatement(text(
    "UPDATE stock_levels SET reserved = reserved + :q, updated_at = CURRENT_TIMESTAMP "
    "WHERE item_id = :i AND warehouse_id = :w AND on_hand - reserved >= :q"))
# Strictly more than the pick: units stay available after it, so the row cannot cross zero.
RESERVE_LEAVING_SOME = driver_sql.DriverStatement(text(
    "UPDATE stock_levels SET reserved = reserved + :q, updated_at = CURRENT_TIMESTAMP "
    "WHERE item_id = :i AND warehouse_id = :w AND on_hand - reserved > :q"))
# An UPDATE, not an upsert: MariaDB checks the CHECK constraints on the row an INSERT proposes, before it finds the
# duplicate key, so negative deltas could not even be proposed.
MOVE_STOCK = text("UPDATE stock_levels SET on_hand = on_hand + :h, reserved = reserved + :r, "
                  "updated_at = CURRENT_TIMESTAMP WHERE item_id = :i AND warehouse_id = :w")
SET_COUNT = text("INSERT INTO stock_levels (item_id, warehouse_id, on_hand) VALUES (:i, :w, :q) "
                 "ON DUPLICATE KEY UPDATE on_hand = VALUES(on_hand), updated_at = CURRENT_TIMESTAMP")
SET_FEED_COUNT = text("INSERT INTO stock_levels (item_id, warehouse_id, on_hand, feed_version, feed_quantity) "
                      "VALUES (:i, :w, :q, :v, :q) ON DUPLICATE KEY UPDATE on_hand = VALUES(on_hand), "
                      "feed_version = GREATEST(feed_version, VALUES(feed_version)), "
                      "feed_quantity = VALUES(feed_quantity), updated_at = CURRENT_TIMESTAMP")
ADVANCE_FEED_VERSION = text("INSERT INTO stock_levels (item_id, warehouse_id, on_hand, feed_version, feed_quantity) "
                            "VALUES (:i, :w, 0, :v, :q) "
                            "ON DUPLICATE KEY UPDATE feed_version = GREATEST(feed_version, VALUES(feed_version))")
REPAIR_STOCK = text("INSERT INTO stock_levels (item_id, warehouse_id, on_hand, reserved) VALUES (:i, :w, :h, :r) "
                    "ON DUPLICATE KEY UPDATE on_hand = VALUES(on_hand), reserved = VALUES(reserved), "
                    "updated_at = CURRENT_TIMESTAMP")
INSERT_MOVEMENTS = driver_sql.DriverStatement(text(
    "INSERT INTO stock_movements (item_id, warehouse_id, on_hand_delta, reserved_delta, reason, order_id) "
    "VALUES (:i, :w, :h, :r, :reason, :o)"))


def reading_stock(item_ids: Iterable[str]) -> driver_sql.Step:
    """The statement that reads the items' stock rows as of now, without locking them, for a caller that sends it in a
    batch (`driver_sql.execute_batch`) and plans on what it returns (`stock_levels`); the plan is checked by the
    writes (`reserving_leaving_some`)."""
    return driver_sql.Step(READ_STOCK, [{"ids": sorted(set(item_ids))}])


def stock_levels(item_ids: Iterable[str], found: Iterable[tuple]) -> dict[str, dict[str, Level]]:
    """The stock rows `LOCK_STOCK` or `READ_STOCK` returned, per item and warehouse (every item present)."""
    stock: dict[str, dict[str, Level]] = {item_id: {} for item_id in sorted(set(item_ids))}
    for item_id, warehouse_id, on_hand, reserved in found:
        stock[item_id][warehouse_id] = Level(on_hand, reserved)
    return stock


def reserving_leaving_some(picks: list[Pick], order_id: str) -> list[driver_sql.Step]:
    """The statements that reserve the picks without locking their rows first, for a caller that planned them on
    `reading_stock` and sends these after every other write of its transaction, in the same batch: the movements,
    then one conditional UPDATE per row (the last `len(picks)` statements, in item id order: the lock order), each
    locking its row and reserving only if units stay available after it. So no row crosses zero (no `stock_changed`
    is due), nothing is promised that the shelf does not hold, and the rows are held only for this last round trip
    and the commit: what bounds how fast one popular item sells.
    Each UPDATE must change its row; if one does not (the last units, or taken meanwhile), the caller must roll back
    (earlier picks may be reserved) and reserve on locked rows instead (`lock_stock`, `take`)."""
    movements = [(change, "reserve", order_id) for change in service.reservations(picks, +1)]
    updates = [driver_sql.Step(RESERVE_LEAVING_SOME, [{"q": pick.quantity, "i": pick.item_id, "w": pick.warehouse_id}])
               for pick in sorted(picks, key=lambda p: (p.item_id, p.warehouse_id))]
    return [driver_sql.Step(INSERT_MOVEMENTS, movement_rows(movements)), *updates]


async def lock_stock(conn: AsyncConnection, item_ids: Iterable[str]) -> dict[str, dict[str, Level]]:
    """The items' stock rows, locked until the transaction ends; items are locked in id order to avoid deadlocks."""
    ids = sorted(set(item_ids))
    return stock_levels(ids, await driver_sql.fetch(conn, LOCK_STOCK, {"ids": ids}) if ids else [])


async def take(conn: AsyncConnection, picks: list[Pick], order_id: str) -> None:
    """Reserve the units of every pick (rows locked by the caller); the condition keeps `on_hand - reserved` from
    going below zero, so a reservation never promises units the shelf does not hold."""
    for pick in picks:
        changed = await driver_sql.execute(conn, RESERVE_STOCK,
                                           {"q": pick.quantity, "i": pick.item_id, "w": pick.warehouse_id})
        if changed != 1:
            raise StockShort(pick)
    await record_movements(conn, [(change, "reserve", order_id) for change in service.reservations(picks, +1)])


async def put_back(conn: AsyncConnection, picks_by_order: dict[str, list[Pick]]) -> None:
    """Release the reservations of cancelled orders (rows locked by the caller)."""
    changes = [(change, order_id) for order_id, picks in picks_by_order.items()
               for change in service.reservations(picks, -1)]
    await _move(conn, [change for change, _ in changes])
    await record_movements(conn, [(change, "release", order_id) for change, order_id in changes])


async def ship(conn: AsyncConnection, locked: Levels, picks: list[Pick], order_id: str) -> None:
    """The order's units leave the shelf: on hand and reserved both go down (`locked`: the rows, as locked)."""
    changes = service.shipments(locked, picks)
    await _move(conn, changes)
    await record_movements(conn, [(change, "ship", order_id) for change in changes])


async def _move(conn: AsyncConnection, changes: list[Change]) -> None:
    """Add the changes to their rows, one statement per row however many orders share it (a sweep of many orders of
    one item)."""
    totals: dict[tuple[str, str], tuple[int, int]] = defaultdict(lambda: (0, 0))
    for c in changes:
        on_hand, reserved = totals[c.item_id, c.warehouse_id]
        totals[c.item_id, c.warehouse_id] = (on_hand + c.on_hand, reserved + c.reserved)
    if totals:
        await conn.execute(MOVE_STOCK, [{"i": i, "w": w, "h": h, "r": r} for (i, w), (h, r) in totals.items()])


async def record_movements(conn: AsyncConnection, movements: list[tuple[Change, str, str | None]]) -> None:
    """Append to the ledger that `reconcile` adds up: (change, reason, order_id)."""
    if movements:
        await driver_sql.execute_many(conn, INSERT_MOVEMENTS, movement_rows(movements))


def movement_rows(movements: Sequence[tuple[Change, str, str | None]]) -> list[dict]:
    """`INSERT_MOVEMENTS` parameters of (change, reason, order_id)."""
    return [{"i": c.item_id, "w": c.warehouse_id, "h": c.on_hand, "r": c.reserved, "reason": reason, "o": order_id}
            for c, reason, order_id in movements]


async def publish_crossings(conn: AsyncConnection, before: Levels, now: Levels) -> int:
    """Queue `inventory.stock_changed` for the items whose sellable warehouses changed (available units crossing
    zero); call with the rows locked. The version is the clock while holding the item's locks, so a later writer
    always carries a larger one."""
    changes = service.crossings(service.sellable(before), service.sellable(now), version=time.time_ns() // 1000)
    await add_events(conn, [(STOCK_CHANGED_TOPIC, change.item_id, change) for change in changes])
    return len(changes)


class StockStore:
    """The inventory's own operations: read stock, count it (seller or feed), and reconcile it against the movements."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def stock_levels(self, item_id: str) -> dict[str, Level]:
        """On hand and reserved per warehouse."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(text("SELECT warehouse_id, on_hand, reserved FROM stock_levels "
                                           "WHERE item_id = :i ORDER BY warehouse_id"), {"i": item_id})
            return {warehouse_id: Level(on_hand, reserved) for warehouse_id, on_hand, reserved in rows}

    async def available(self, item_ids: list[str]) -> dict[str, int]:
        """Units available (on hand less reserved) of each item over all its warehouses; items without stock rows
        are left out."""
        if not item_ids:
            return {}
        async with self.engine.connect() as conn:
            rows = await conn.execute(text("SELECT item_id, SUM(on_hand - reserved) FROM stock_levels "
                                           "WHERE item_id IN :ids GROUP BY item_id")
                                      .bindparams(bindparam("ids", expanding=True)), {"ids": list(item_ids)})
            return {item_id: int(units) for item_id, units in rows}

    async def levels(self, item_id: str) -> dict[str, int]:
        """Units available (sellable) per warehouse."""
        return {warehouse: level.available for warehouse, level in (await self.stock_levels(item_id)).items()}

    async def set_levels(self, item_id: str, quantities: dict[str, int]) -> dict[str, Level]:
        """Set on-hand stock per warehouse, as the seller counts it; reservations stay as they are. Returns the item's
        rows afterwards. (The feed's counts go through `apply_feed_stock`, guarded by feed version.)"""
        await self._ensure_rows([(item_id, warehouse) for warehouse in quantities])
        async with self.engine.begin() as conn:
            before = await lock_stock(conn, [item_id])
            changes = service.recounts(before, item_id, quantities)
            if changes:
                # feed_version stays: what the feed last applied still decides which feed records are older.
                await conn.execute(SET_COUNT, [{"i": item_id, "w": c.warehouse_id, "q": quantities[c.warehouse_id]}
                                               for c in changes])
            await record_movements(conn, [(change, "set", None) for change in changes])
            now = service.moved(before, changes)
            await publish_crossings(conn, before, now)
            return now[item_id]

    async def apply_feed_stock(self, stated: list[FeedStock]) -> None:
        """Set the on-hand counts many feed records state, in one transaction: per item the newest statement, row by
        row only where it is newer than the feed version last applied there and says something new
        (see `service.feed_changes`)."""
        if not stated:
            return
        await self._ensure_rows([(s.item_id, warehouse) for s in stated for warehouse in s.quantities])
        async with self.engine.begin() as conn:
            before = await lock_stock(conn, [s.item_id for s in stated])
            versions, last_stated = await _feed_state(conn, list(before))
            on_hand = {item: {w: level.on_hand for w, level in rows.items()} for item, rows in before.items()}
            changes = service.feed_changes(on_hand, versions, stated, last_stated)
            if changes.rows:
                await conn.execute(SET_FEED_COUNT, [{"i": i, "w": w, "q": q, "v": v} for i, w, q, v in changes.rows])
            if changes.repeats:
                await conn.execute(ADVANCE_FEED_VERSION, [{"i": i, "w": w, "q": q, "v": v}
                                                          for i, w, q, v in changes.repeats])
            counted = [Change(p.item_id, p.warehouse_id, delta, 0) for p, delta in changes.movements]
            await record_movements(conn, [(change, "set", None) for change in counted])
            await publish_crossings(conn, before, service.moved(before, counted))

    async def _ensure_rows(self, rows: list[tuple[str, str]]) -> None:
        # Committed (at 0) before the rows are locked: two first writers of an item would otherwise both find no rows
        # to lock, both record the whole quantity as a movement, and both publish the crossing.
        if rows:
            async with self.engine.begin() as conn:
                await conn.execute(text("INSERT INTO stock_levels (item_id, warehouse_id, on_hand) VALUES (:i, :w, 0) "
                                        "ON DUPLICATE KEY UPDATE on_hand = on_hand"),
                                   [{"i": item_id, "w": warehouse} for item_id, warehouse in sorted(set(rows))])

    async def reconcile(self, *, repair: bool, batch: int = 500, item_ids: Iterable[str] | None = None) -> list[Drift]:
        """Compare both columns of every stock row (or only those of `item_ids`) with the sums of its movements; with
        `repair`, set drifted columns to those sums."""
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
            sums = await conn.execute(_ids("SELECT item_id, warehouse_id, SUM(on_hand_delta), SUM(reserved_delta) "
                                           "FROM stock_movements WHERE item_id IN :ids GROUP BY item_id, warehouse_id"),
                                      {"ids": item_ids})
            expected: dict[str, dict[str, Level]] = defaultdict(dict)
            for item_id, warehouse_id, on_hand, reserved in sums:
                expected[item_id][warehouse_id] = Level(int(on_hand), int(reserved))
            found = service.level_drifts(recorded, expected)
            if repair and found:
                await _repair(conn, found, recorded)
            return found


async def _feed_state(conn: AsyncConnection, item_ids: list[str]) -> tuple[dict, dict]:
    """Per row, the feed version last applied and the quantity the feed last stated (absent: never stated)."""
    rows = await conn.execute(_ids("SELECT item_id, warehouse_id, feed_version, feed_quantity FROM stock_levels "
                                   "WHERE item_id IN :ids"), {"ids": item_ids})
    versions: dict[str, dict[str, int]] = defaultdict(dict)
    stated: dict[str, dict[str, int]] = defaultdict(dict)
    for item_id, warehouse_id, version, quantity in rows:
        versions[item_id][warehouse_id] = version
        if quantity is not None:
            stated[item_id][warehouse_id] = quantity
    return versions, stated


async def _repair(conn: AsyncConnection, found: list[Drift], recorded: Levels) -> None:
    """Set each drifted column to what its movements add up to (never below zero: such drifts are reported, not
    forced)."""
    fixable = [d for d in found if d.expected >= 0]
    if not fixable:
        return
    now = service.repaired_levels(recorded, fixable)
    rows = sorted({(d.item_id, d.warehouse_id) for d in fixable})
    await conn.execute(REPAIR_STOCK, [{"i": i, "w": w, "h": now[i][w].on_hand, "r": now[i][w].reserved} for i, w in rows])
    await publish_crossings(conn, recorded, now)
