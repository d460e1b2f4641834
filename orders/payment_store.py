"""MySQL adapter of the orders' payments: each gateway event applied once (by event_id), a late payment reinstated as a
new order or refunded, refunds recorded. Locks as everywhere in orders (`orders.rows`): order rows, then stock rows."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from infra.outbox import add_events
from inventory import store as inventory
from inventory.service import Pick
from orders import rows, service
from orders.events import ORDERS_TOPIC
from orders.payments import PaymentEvent
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


async def refund(conn: AsyncConnection, order: dict, reason: str) -> None:
    """Record that the order's payment is to be given back (once per payment) and queue `payment_refunded`."""
    await conn.execute(text("INSERT IGNORE INTO refunds (payment_id, order_id, amount, reason, status) "
                            "VALUES (:p, :o, :a, :r, 'pending')"),
                       {"p": order["payment_id"], "o": order["order_id"], "a": order["total"], "r": reason})
    lines = (await rows.order_lines(conn, [order["order_id"]]))[order["order_id"]]
    await add_events(conn, [(ORDERS_TOPIC, order["order_id"], event_of("payment_refunded", order, lines))])


async def _apply_payment(conn: AsyncConnection, event: PaymentEvent, late_policy: str) -> tuple[str, str]:
    """What the event does to its order (locked first); returns the step and the id of the order it leaves standing."""
    locked = await rows.select_orders(conn, "order_id = :o FOR UPDATE", {"o": event.order_id})
    if not locked or locked[0]["payment_id"] != event.payment_id:
        raise PaymentMismatch(f"payment {event.payment_id} is not the payment of order {event.order_id}")
    order = locked[0]
    if event.amount != order["total"]:
        raise PaymentMismatch(f"amount {event.amount} differs from the order total {order['total']}")
    step = service.payment_step(order["status"], order["cancel_reason"], event.outcome, late_policy)
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


async def _reinstate(conn: AsyncConnection, old: dict) -> str | None:
    """A new PLACED order with the timed-out order's lines, from the same warehouses, if they still hold them."""
    lines = (await rows.order_lines(conn, [old["order_id"]]))[old["order_id"]]
    stock = await inventory.lock_stock(conn, [line["item_id"] for line in lines])
    if any(stock[l["item_id"]].get(l["warehouse_id"], 0) < l["quantity"] for l in lines):
        return None
    now = rows.now()
    row = {**old, "order_id": uuid.uuid4().hex, "status": "PLACED", "cancel_reason": None,
           "replaces_order_id": old["order_id"], "created_at": now, "expires_at": now, "updated_at": now}
    await conn.execute(rows.INSERT_ORDER, {**row, "key": f"reinstates:{old['order_id']}"})
    planned = [service.PlannedLine(service.PricedLine(l["item_id"], l["seller_id"], l["title"], "", l["quantity"],
                                                      l["unit_price"], old["currency"]),
                                   Pick(l["item_id"], l["warehouse_id"], l["quantity"]), l["eta_hours"]) for l in lines]
    new_lines = await rows.reserve_lines(conn, row["order_id"], planned, stock)
    await add_events(conn, [(ORDERS_TOPIC, row["order_id"], event_of("order_placed", row, new_lines))])
    return row["order_id"]
