"""Order rows read and written inside the caller's transaction, shared by the order store and the payment store.

Lock order, for every writer of orders: order rows first, then stock rows (in item id order, `inventory.lock_stock`).
An order from the cart takes the shopper's row before both; `OrderStore.place_from_cart` says why that is safe.
Stock follows the order: placing (or reinstating) reserves its units, cancelling releases them, shipping takes them
off the shelf."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from infra import driver_sql
from infra.outbox import add_events
from inventory import store as inventory
from inventory.service import Levels, Pick, moved, reservations, shipments
from orders import service
from orders.events import ORDERS_TOPIC, OrderEvent
from orders.views import event_of, order_view

COLUMNS = ("order_id, user_id, status, cancel_reason, pincode, currency, total, payment_id, replaces_order_id, "
           "request_hash, created_at, expires_at, updated_at, placed_at, shipped_at, delivered_at, cancelled_at")
MOMENTS = {"PLACED": "placed_at", "SHIPPED": "shipped_at", "DELIVERED": "delivered_at", "CANCELLED": "cancelled_at"}
"""The column that records when an order reached each status (with `created_at`: its timeline)."""
# Built once, and run on the driver (`infra.driver_sql`): statements of every order placement.
# An Idempotency-Key of an order moved to the archive stays taken (`archived_orders`): the insert then adds no row.
INSERT_ORDER = driver_sql.DriverStatement(text(
    f"INSERT INTO orders ({COLUMNS}, idempotency_key) SELECT {', '.join(':' + c for c in COLUMNS.split(', '))}, :key "
    "FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM archived_orders WHERE user_id = :user_id AND idempotency_key = :key)"))
INSERT_LINES = driver_sql.DriverStatement(text(
    "INSERT INTO order_lines (order_id, line_no, item_id, seller_id, warehouse_id, title, quantity, unit_price, "
    "eta_hours) VALUES (:order_id, :line_no, :item_id, :seller_id, :warehouse_id, :title, :quantity, :unit_price, "
    ":eta_hours)"))

Refund = Callable[[AsyncConnection, dict, str], Awaitable[None]]
"""How a cancelled order that was paid gives the money back, in the same transaction (`payment_store.refund`)."""


def ids(sql: str) -> TextClause:
    """`sql` with `:ids` bound to a list (`IN :ids`)."""
    return text(sql).bindparams(bindparam("ids", expanding=True))


def now() -> datetime:
    """UTC without tzinfo, as MySQL DATETIME columns hold it."""
    return datetime.now(UTC).replace(tzinfo=None)


async def select_orders(conn: AsyncConnection, where: str, params: dict, many: bool = False) -> list[dict]:
    """Order rows matching `where` (which may end in FOR UPDATE to lock them; `many`: it says `IN :ids`)."""
    sql = f"SELECT {COLUMNS} FROM orders WHERE {where}"
    result = await conn.execute(ids(sql) if many else text(sql), params)
    return [dict(row) for row in result.mappings()]


async def order_lines(conn: AsyncConnection, order_ids: list[str]) -> dict[str, list[dict]]:
    rows = await conn.execute(ids("SELECT * FROM order_lines WHERE order_id IN :ids ORDER BY order_id, line_no"),
                              {"ids": order_ids})
    lines: dict[str, list[dict]] = {order_id: [] for order_id in order_ids}
    for row in rows.mappings():
        lines[row["order_id"]].append(dict(row))
    return lines


async def order_views(conn: AsyncConnection, rows: list[dict]) -> list[dict]:
    """The orders as the API shows them, with their lines, payment events and refunds (what the archive keeps)."""
    if not rows:
        return []
    order_ids = [row["order_id"] for row in rows]
    lines = await order_lines(conn, order_ids)
    payments, refunds = await payments_of(conn, order_ids)
    return [order_view(row, lines[row["order_id"]], payments[row["order_id"]], refunds[row["order_id"]])
            for row in rows]


async def payments_of(conn: AsyncConnection, order_ids: list[str]) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """The orders' payment events and refunds, by order id, oldest first."""
    payments = await _grouped(conn, "SELECT order_id, event_id, outcome, amount, result, received_at FROM "
                              "payment_events WHERE order_id IN :ids ORDER BY received_at, event_id", order_ids)
    refunds = await _grouped(conn, "SELECT order_id, amount, reason, status, created_at FROM refunds "
                             "WHERE order_id IN :ids ORDER BY created_at, payment_id", order_ids)
    return payments, refunds


async def _grouped(conn: AsyncConnection, sql: str, order_ids: list[str]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {order_id: [] for order_id in order_ids}
    for row in (await conn.execute(ids(sql), {"ids": order_ids})).mappings():
        found[row["order_id"]].append(dict(row))
    return found


async def find_order(conn: AsyncConnection, order_id: str, user_id: str | None = None) -> dict | None:
    """The order as the API shows it (only if it is `user_id`'s, when given), or None."""
    rows = await select_orders(conn, "order_id = :o" + (" AND user_id = :u" if user_id else ""),
                               {"o": order_id, "u": user_id})
    views = await order_views(conn, rows)
    return views[0] if views else None


async def reserve_lines(conn: AsyncConnection, order_id: str, planned: list[service.PlannedLine],
                        stock: Levels) -> list[dict]:
    """Reserve the planned units in the stock rows this transaction locked (`stock`), and write the order's lines."""
    picks = [p.pick for p in planned]
    await inventory.take(conn, picks, order_id)
    lines = await write_lines(conn, order_id, planned)
    await inventory.publish_crossings(conn, stock, moved(stock, reservations(picks, +1)))
    return lines


async def write_lines(conn: AsyncConnection, order_id: str, planned: list[service.PlannedLine]) -> list[dict]:
    """The order's lines, as planned (reserving their units is the caller's)."""
    lines = line_rows(order_id, planned)
    await driver_sql.execute_many(conn, INSERT_LINES, lines)
    return lines


def line_rows(order_id: str, planned: list[service.PlannedLine]) -> list[dict]:
    """The order's lines as `INSERT_LINES` writes them."""
    return [{"order_id": order_id, "line_no": n, "item_id": p.line.item_id, "seller_id": p.line.seller_id,
             "warehouse_id": p.pick.warehouse_id, "title": p.line.title, "quantity": p.line.quantity,
             "unit_price": p.line.unit_price, "eta_hours": p.eta_hours} for n, p in enumerate(planned, 1)]


async def set_status(conn: AsyncConnection, order: dict, status: str) -> None:
    """Move a locked order to `status` and queue the event that says so."""
    at = now()
    await conn.execute(text(f"UPDATE orders SET status = :s, updated_at = :now, {MOMENTS[status]} = :now "
                            "WHERE order_id = :o"), {"s": status, "now": at, "o": order["order_id"]})
    lines = (await order_lines(conn, [order["order_id"]]))[order["order_id"]]
    changed = {**order, "status": status, "updated_at": at, MOMENTS[status]: at}
    await add_events(conn, [(ORDERS_TOPIC, order["order_id"], event_of(service.EVENT_TYPES[status], changed, lines))])


async def ship_locked(conn: AsyncConnection, order: dict) -> None:
    """Ship an order whose row this transaction holds: its reserved units leave the shelf (locking the stock rows now,
    after the order row), and the event says so."""
    picks = _picks(await order_lines(conn, [order["order_id"]]))[order["order_id"]]
    stock = await inventory.lock_stock(conn, [p.item_id for p in picks])
    await inventory.ship(conn, stock, picks, order["order_id"])
    await set_status(conn, order, "SHIPPED")
    await inventory.publish_crossings(conn, stock, moved(stock, shipments(stock, picks)))


def _picks(lines: dict[str, list[dict]]) -> dict[str, list[Pick]]:
    return {oid: [Pick(l["item_id"], l["warehouse_id"], l["quantity"]) for l in rows] for oid, rows in lines.items()}


async def cancel_locked(conn: AsyncConnection, orders: list[dict], reason: str, refund: Refund) -> None:
    """Cancel orders whose rows this transaction holds: release their reservations once (locking the stock rows now,
    after the order rows), queue the events, and `refund` the ones already paid."""
    order_ids, at = [o["order_id"] for o in orders], now()
    lines = await order_lines(conn, order_ids)
    picks = _picks(lines)
    stock = await inventory.lock_stock(conn, [p.item_id for group in picks.values() for p in group])
    await inventory.put_back(conn, picks)
    await conn.execute(ids("UPDATE orders SET status = 'CANCELLED', cancel_reason = :r, updated_at = :now, "
                           "cancelled_at = :now WHERE order_id IN :ids"), {"r": reason, "now": at, "ids": order_ids})
    events: list[tuple[str, str, OrderEvent]] = []
    for order in orders:
        cancelled = {**order, "status": "CANCELLED", "cancel_reason": reason, "updated_at": at}
        event = event_of("order_cancelled", cancelled, lines[order["order_id"]])
        events.append((ORDERS_TOPIC, order["order_id"], event))
    await add_events(conn, events)
    for order in orders:
        if order["status"] != "CREATED":  # it was paid
            await refund(conn, {**order, "status": "CANCELLED", "cancel_reason": reason}, reason)
    await inventory.publish_crossings(conn, stock, moved(stock, reservations([p for g in picks.values() for p in g], -1)))
