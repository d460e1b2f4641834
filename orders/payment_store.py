"""MySQL adapter of the orders' payments: each gateway event applied once (by event_id), a late payment reinstated as a
new order or refunded (once per payment, whatever its event_id), refunds recorded `pending` and moved on by the
gateway's answer. Locks as everywhere in orders (`orders.rows`): order rows, then stock rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from infra import driver_sql
from infra.outbox import add_events
from inventory import store as inventory
from inventory.service import Pick, sellable
from orders import rows, service
from orders.events import ORDERS_TOPIC
from orders.payments import PaymentEvent, RefundOutcome
from orders.views import event_of

RECORD_EVENT = text("INSERT INTO payment_events (event_id, payment_id, order_id, outcome, amount, result)"
                    " VALUES (:e, :p, :o, :c, :a, 'applying')")


class PaymentMismatch(Exception):
    """The event names a payment or amount that is not this order's."""


class PaymentStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def settle_payment(self, event: PaymentEvent, late_policy: str) -> tuple[str, dict | None]:
        """Apply one gateway event exactly once (by event_id); returns what it did and the order as it now stands
        (for a reinstated late payment, the new order)."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(RECORD_EVENT, {"e": event.event_id, "p": event.payment_id, "o": event.order_id,
                                                  "c": event.outcome, "a": event.amount})
                step, order_id = await _apply_payment(conn, event, late_policy)
                await conn.execute(text("UPDATE payment_events SET result = :r WHERE event_id = :e"),
                                   {"r": step, "e": event.event_id})
        except IntegrityError as error:
            if "PRIMARY" not in str(error):
                raise
            async with self.engine.connect() as conn:
                step = (await conn.execute(text("SELECT result FROM payment_events WHERE event_id = :e"),
                                           {"e": event.event_id})).scalar_one()
            return f"duplicate:{step}", await self._order(event.order_id)
        return step, await self._order(order_id)

    async def _order(self, order_id: str) -> dict | None:
        async with self.engine.connect() as conn:
            return await rows.find_order(conn, order_id)

    async def pending_refunds(self, limit: int, payment_ids: Sequence[str] | None = None) -> list[dict]:
        """Refunds not yet answered by the gateway (all, or those of `payment_ids`), oldest first:
        {payment_id, order_id, amount, currency}."""
        where, params = "r.status = 'pending'", {"n": limit, "ids": list(payment_ids or [])}
        if payment_ids is not None:
            where += " AND r.payment_id IN :ids"
        sql = ("SELECT r.payment_id, r.order_id, r.amount, COALESCE(o.currency, a.currency) AS currency FROM refunds r "
               "LEFT JOIN orders o ON o.order_id = r.order_id LEFT JOIN archived_orders a ON a.order_id = r.order_id "
               f"WHERE {where} ORDER BY r.created_at LIMIT :n")
        async with self.engine.connect() as conn:
            found = await conn.execute(rows.ids(sql) if payment_ids is not None else text(sql), params)
            return [dict(row) for row in found.mappings()]

    async def record_refund(self, payment_id: str, outcome: RefundOutcome) -> bool:
        """The gateway's answer to a pending refund; False when it was answered already."""
        async with self.engine.begin() as conn:
            result = await conn.execute(text("UPDATE refunds SET status = :s WHERE payment_id = :p AND status = 'pending'"),
                                        {"s": outcome, "p": payment_id})
            return result.rowcount == 1


async def refund(conn: AsyncConnection, order: dict, reason: str, lines: list[dict] | None = None) -> None:
    """Record that the order's payment is to be given back (once per payment, `pending` until the gateway answers:
    `Checkout.settle_refunds`) and queue `payment_refunded` (with the order's lines, read here unless given)."""
    await conn.execute(text("INSERT IGNORE INTO refunds (payment_id, order_id, amount, reason, status) "
                            "VALUES (:p, :o, :a, :r, 'pending')"),
                       {"p": order["payment_id"], "o": order["order_id"], "a": order["total"], "r": reason})
    if lines is None:
        lines = (await rows.order_lines(conn, [order["order_id"]]))[order["order_id"]]
    await add_events(conn, [(ORDERS_TOPIC, order["order_id"], event_of("payment_refunded", order, lines))])


async def _apply_payment(conn: AsyncConnection, event: PaymentEvent, late_policy: str) -> tuple[str, str]:
    """What the event does to its order (locked first); returns the step and the id of the order it leaves standing."""
    locked = await rows.select_orders(conn, "order_id = :o FOR UPDATE", {"o": event.order_id})
    if not locked:
        return await _apply_to_archived(conn, event)
    if locked[0]["payment_id"] != event.payment_id:
        raise PaymentMismatch(f"payment {event.payment_id} is not the payment of order {event.order_id}")
    order = locked[0]
    if event.amount != order["total"]:
        raise PaymentMismatch(f"amount {event.amount} differs from the order total {order['total']}")
    settled, replacement = await _settled(conn, order) if order["status"] == "CANCELLED" else (None, None)
    step = service.payment_step(order["status"], order["cancel_reason"], event.outcome, late_policy, settled)
    if step == "already_reinstated" and replacement:
        return step, replacement
    if step == "place":
        await rows.set_status(conn, order, "PLACED")
    elif step == "cancel":
        await rows.cancel_locked(conn, locked, "payment_failed", refund)
    elif step == "reinstate":
        new_order_id = await _reinstate(conn, order)
        if new_order_id:
            return step, new_order_id
        step = "refund"  # the stock is gone: give the money back
    if step == "refund":
        await refund(conn, order, "late_payment")
    return step, order["order_id"]


async def _apply_to_archived(conn: AsyncConnection, event: PaymentEvent) -> tuple[str, str]:
    """An event for an order already moved to the archive (finished long ago): answered from the header MySQL keeps
    of it. A late success is refunded (never reinstated: the order is long over), once per payment."""
    found = (await conn.execute(text("SELECT order_id, user_id, status, cancel_reason, pincode, currency, total, "
                                     "payment_id, replaces_order_id, settled FROM archived_orders WHERE order_id = :o "
                                     "FOR UPDATE"), {"o": event.order_id})).mappings().first()
    if found is None or found["payment_id"] != event.payment_id:
        raise PaymentMismatch(f"payment {event.payment_id} is not the payment of order {event.order_id}")
    if event.amount != found["total"]:
        raise PaymentMismatch(f"amount {event.amount} differs from the order total {found['total']}")
    step = service.payment_step(found["status"], found["cancel_reason"], event.outcome, "refund", found["settled"])
    if step == "refund":
        await conn.execute(text("UPDATE archived_orders SET settled = 'refunded' WHERE order_id = :o"),
                           {"o": event.order_id})
        await refund(conn, {**found, "updated_at": rows.now()}, "late_payment", lines=[])
    return step, event.order_id


async def _settled(conn: AsyncConnection, order: dict) -> tuple[service.Settled, str | None]:
    """What already became of a cancelled order's payment, and the order that reinstated it if one did. Exact: it runs
    after the order's row lock, and every reinstatement or refund of this payment through this order holds that lock
    until it commits."""
    replacement = (await conn.execute(text("SELECT order_id FROM orders WHERE user_id = :u AND idempotency_key = :k "
                                           "UNION ALL SELECT order_id FROM archived_orders WHERE user_id = :u "
                                           "AND idempotency_key = :k"),
                                      {"u": order["user_id"], "k": _reinstating_key(order)})).scalar()
    if replacement:
        return "reinstated", replacement
    refunded = (await conn.execute(text("SELECT 1 FROM refunds WHERE payment_id = :p"), {"p": order["payment_id"]}))
    return ("refunded" if refunded.first() else None), None


def _reinstating_key(old: dict) -> str:
    """The Idempotency-Key of the order that reinstates `old`: unique per shopper, so one at most."""
    return f"reinstates:{old['order_id']}"


async def _reinstate(conn: AsyncConnection, old: dict) -> str | None:
    """A new PLACED order with the timed-out order's lines, from the same warehouses, if they still hold them."""
    lines = (await rows.order_lines(conn, [old["order_id"]]))[old["order_id"]]
    stock = await inventory.lock_stock(conn, [line["item_id"] for line in lines])
    available = sellable(stock)
    if any(available[l["item_id"]].get(l["warehouse_id"], 0) < l["quantity"] for l in lines):
        return None
    now = rows.now()
    row = {**old, "order_id": uuid.uuid4().hex, "status": "PLACED", "cancel_reason": None,
           "replaces_order_id": old["order_id"], "created_at": now, "expires_at": now, "updated_at": now,
           "placed_at": now, "shipped_at": None, "delivered_at": None, "cancelled_at": None}
    await driver_sql.execute(conn, rows.INSERT_ORDER, {**row, "key": _reinstating_key(old)})
    planned = [service.PlannedLine(service.PricedLine(l["item_id"], l["seller_id"], l["title"], "", l["quantity"],
                                                      l["unit_price"], old["currency"]),
                                   Pick(l["item_id"], l["warehouse_id"], l["quantity"]), l["eta_hours"]) for l in lines]
    new_lines = await rows.reserve_lines(conn, row["order_id"], planned, stock)
    await add_events(conn, [(ORDERS_TOPIC, row["order_id"], event_of("order_placed", row, new_lines))])
    return row["order_id"]
