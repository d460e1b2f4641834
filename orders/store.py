"""MySQL adapter of the orders. Each method is one transaction that changes the order, its stock and its outbox events
together, so a crash leaves all or none. Locks are always taken order rows first, then stock rows (in item id order)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from cart.store import cart_lines, clear_cart
from infra.outbox import add_events
from inventory import store as inventory
from inventory.service import Pick, after
from orders import service
from orders.events import ORDERS_TOPIC, OrderEvent
from orders.payments import PaymentEvent
from orders.views import event_of, order_view

COLUMNS = ("order_id, user_id, status, cancel_reason, pincode, currency, total, payment_id, replaces_order_id, "
           "request_hash, created_at, expires_at, updated_at")
# Built once: parsing a text() statement's binds on every order is measurable CPU on the checkout path.
INSERT_ORDER = text(f"INSERT INTO orders ({COLUMNS}, idempotency_key) VALUES "
                    f"({', '.join(':' + c for c in COLUMNS.split(', '))}, :key)")
INSERT_LINES = text("INSERT INTO order_lines (order_id, line_no, item_id, seller_id, warehouse_id, title, quantity, "
                    "unit_price, eta_hours) VALUES (:order_id, :line_no, :item_id, :seller_id, :warehouse_id, :title, "
                    ":quantity, :unit_price, :eta_hours)")


class OrderNotFound(Exception):
    pass


class PaymentMismatch(Exception):
    """The event names a payment or amount that is not this order's."""


class DuplicateIdempotencyKey(Exception):
    def __init__(self, order: dict) -> None:
        super().__init__(order["order_id"])
        self.order = order


@dataclass(frozen=True)
class NewOrder:
    user_id: str
    idempotency_key: str
    request_hash: str
    pincode: str
    lines: list[service.PricedLine]
    deliverable: dict[str, dict[str, float]]  # size class -> {warehouse_id: eta_hours} for the pincode
    window_seconds: int
    from_cart: bool = False  # the lines came from the shopper's cart, which empties with the order


def _ids(sql: str) -> text:
    return text(sql).bindparams(bindparam("ids", expanding=True))


class OrderStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def place(self, new: NewOrder) -> dict:
        """Insert the order as CREATED, reserve every line or none, queue `order_created`; see `service.plan`."""
        order_id, payment_id, now = uuid.uuid4().hex, uuid.uuid4().hex, _now()
        row = {"order_id": order_id, "user_id": new.user_id, "status": "CREATED", "cancel_reason": None,
               "pincode": new.pincode, "currency": new.lines[0].currency, "total": service.total(new.lines),
               "payment_id": payment_id, "replaces_order_id": None, "request_hash": new.request_hash, "created_at": now,
               "expires_at": now + timedelta(seconds=new.window_seconds), "updated_at": now}
        try:
            async with self.engine.begin() as conn:
                # The order row first: a second request with the same key waits here, then finds this order.
                await conn.execute(INSERT_ORDER,
                                   {**row, "key": new.idempotency_key})
                stock = await inventory.lock_stock(conn, [line.item_id for line in new.lines])
                planned = service.plan(new.lines, stock, new.deliverable)
                lines = await self._reserve(conn, order_id, planned, stock)
                await add_events(conn, [(ORDERS_TOPIC, order_id, event_of("order_created", row, lines))])
                if new.from_cart:
                    # The cart is locked now: if it changed since it was priced, the shopper must look again.
                    current = service.merged_quantities(await cart_lines(conn, new.user_id))
                    if current != {line.item_id: line.quantity for line in new.lines}:
                        raise service.CartChanged(new.user_id)
                    await clear_cart(conn, new.user_id)
        except IntegrityError as error:
            if "orders_idempotency" not in str(error):
                raise
            existing = await self.by_idempotency_key(new.user_id, new.idempotency_key)
            if existing["request_hash"] != new.request_hash:
                raise service.IdempotencyKeyReused(new.idempotency_key) from None
            raise DuplicateIdempotencyKey(existing) from None
        return order_view(row, lines)

    async def get(self, order_id: str, user_id: str | None = None) -> dict | None:
        async with self.engine.connect() as conn:
            rows = await self._orders(conn, "order_id = :o" + (" AND user_id = :u" if user_id else ""),
                                      {"o": order_id, "u": user_id})
            return (await self._views(conn, rows) or [None])[0]

    async def by_idempotency_key(self, user_id: str, key: str) -> dict:
        """The order this key created, with the hash of the request that created it."""
        async with self.engine.connect() as conn:
            rows = await self._orders(conn, "user_id = :u AND idempotency_key = :k", {"u": user_id, "k": key})
            return {**(await self._views(conn, rows))[0], "request_hash": rows[0]["request_hash"]}

    async def for_user(self, user_id: str, *, page: int, size: int) -> list[dict]:
        async with self.engine.connect() as conn:
            rows = await self._orders(conn, "user_id = :u ORDER BY created_at DESC, order_id LIMIT :n OFFSET :s",
                                      {"u": user_id, "n": size, "s": (page - 1) * size})
            return await self._views(conn, rows)

    async def transition(self, order_id: str, action: service.Action, *, user_id: str | None = None,
                         reason: str | None = None) -> dict:
        """Ship, deliver or cancel (releasing stock, refunding a paid order); anything else is InvalidTransition."""
        async with self.engine.begin() as conn:
            rows = await self._orders(conn, "order_id = :o" + (" AND user_id = :u" if user_id else "") + " FOR UPDATE",
                                      {"o": order_id, "u": user_id})
            if not rows:
                raise OrderNotFound(order_id)
            status = service.next_status(rows[0]["status"], action)
            if status == "CANCELLED":
                await self._cancel_locked(conn, rows, reason or "customer")
            else:
                await self._set_status(conn, rows[0], status)
        return await self.get(order_id)

    async def settle_payment(self, event: PaymentEvent, late_policy: str) -> tuple[str, dict]:
        """Apply one gateway event exactly once (by event_id); returns what it did and the order as it now stands
        (for a reinstated late payment, the new order)."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(text("INSERT INTO payment_events (event_id, payment_id, order_id, outcome, amount, result)"
                                        " VALUES (:e, :p, :o, :c, :a, 'applying')"),
                                   {"e": event.event_id, "p": event.payment_id, "o": event.order_id, "c": event.outcome,
                                    "a": event.amount})
                step, order_id = await self._apply_payment(conn, event, late_policy)
                await conn.execute(text("UPDATE payment_events SET result = :r WHERE event_id = :e"),
                                   {"r": step, "e": event.event_id})
        except IntegrityError as error:
            if "PRIMARY" not in str(error):
                raise
            async with self.engine.connect() as conn:
                step = (await conn.execute(text("SELECT result FROM payment_events WHERE event_id = :e"),
                                           {"e": event.event_id})).scalar_one()
            return f"duplicate:{step}", await self.get(event.order_id)
        return step, await self.get(order_id)

    async def cancel_due(self, limit: int, order_ids: Sequence[str] | None = None) -> list[dict]:
        """Cancel unpaid orders whose window has closed (all due ones, or only `order_ids`); returns them.
        Rows another transaction holds are skipped: that one settles them, or a later sweep does."""
        where = "status = 'CREATED' AND expires_at <= :now"
        params: dict = {"now": _now(), "n": limit}
        if order_ids is not None:
            where, params["ids"] = where + " AND order_id IN :ids", list(order_ids)
        async with self.engine.begin() as conn:
            sql = f"SELECT {COLUMNS} FROM orders WHERE {where} ORDER BY expires_at LIMIT :n FOR UPDATE SKIP LOCKED"
            query = _ids(sql) if order_ids is not None else text(sql)
            rows = [dict(r) for r in (await conn.execute(query, params)).mappings()]
            if rows:
                await self._cancel_locked(conn, rows, "payment_timeout")
        return rows

    async def _apply_payment(self, conn: AsyncConnection, event: PaymentEvent, late_policy: str) -> tuple[str, str]:
        rows = await self._orders(conn, "order_id = :o FOR UPDATE", {"o": event.order_id})
        if not rows or rows[0]["payment_id"] != event.payment_id:
            raise PaymentMismatch(f"payment {event.payment_id} is not the payment of order {event.order_id}")
        order = rows[0]
        if event.amount != order["total"]:
            raise PaymentMismatch(f"amount {event.amount} differs from the order total {order['total']}")
        step = service.payment_step(order["status"], order["cancel_reason"], event.outcome, late_policy)
        if step == "place":
            await self._set_status(conn, order, "PLACED")
        elif step == "cancel":
            await self._cancel_locked(conn, rows, "payment_failed")
        elif step == "reinstate":
            new_order_id = await self._reinstate(conn, order)
            if new_order_id:
                return step, new_order_id
            step = "refund"  # the stock is gone: give the money back
        if step == "refund":
            await self._refund(conn, order, "late_payment")
        return step, order["order_id"]

    async def _reserve(self, conn: AsyncConnection, order_id: str, planned: list[service.PlannedLine],
                       stock: dict) -> list[dict]:
        picks = [p.pick for p in planned]
        await inventory.take(conn, picks, order_id)
        lines = [{"order_id": order_id, "line_no": n, "item_id": p.line.item_id, "seller_id": p.line.seller_id,
                  "warehouse_id": p.pick.warehouse_id, "title": p.line.title, "quantity": p.line.quantity,
                  "unit_price": p.line.unit_price, "eta_hours": p.eta_hours} for n, p in enumerate(planned, 1)]
        await conn.execute(INSERT_LINES, lines)
        await inventory.publish_crossings(conn, stock, after(stock, picks, -1))
        return lines

    async def _reinstate(self, conn: AsyncConnection, old: dict) -> str | None:
        """A new PLACED order with the timed-out order's lines, from the same warehouses, if they still hold them."""
        lines = (await self._lines(conn, [old["order_id"]]))[old["order_id"]]
        stock = await inventory.lock_stock(conn, [line["item_id"] for line in lines])
        if any(stock[l["item_id"]].get(l["warehouse_id"], 0) < l["quantity"] for l in lines):
            return None
        now = _now()
        row = {**old, "order_id": uuid.uuid4().hex, "status": "PLACED", "cancel_reason": None,
               "replaces_order_id": old["order_id"], "created_at": now, "expires_at": now, "updated_at": now}
        await conn.execute(INSERT_ORDER,
                           {**row, "key": f"reinstates:{old['order_id']}"})
        planned = [service.PlannedLine(service.PricedLine(l["item_id"], l["seller_id"], l["title"], "", l["quantity"],
                                                          l["unit_price"], old["currency"]),
                                       Pick(l["item_id"], l["warehouse_id"], l["quantity"]), l["eta_hours"]) for l in lines]
        new_lines = await self._reserve(conn, row["order_id"], planned, stock)
        await add_events(conn, [(ORDERS_TOPIC, row["order_id"], event_of("order_placed", row, new_lines))])
        return row["order_id"]

    async def _set_status(self, conn: AsyncConnection, order: dict, status: str) -> None:
        now = _now()
        await conn.execute(text("UPDATE orders SET status = :s, updated_at = :now WHERE order_id = :o"),
                           {"s": status, "now": now, "o": order["order_id"]})
        lines = (await self._lines(conn, [order["order_id"]]))[order["order_id"]]
        changed = {**order, "status": status, "updated_at": now}
        await add_events(conn, [(ORDERS_TOPIC, order["order_id"], event_of(service.EVENT_TYPES[status], changed, lines))])

    async def _cancel_locked(self, conn: AsyncConnection, orders: list[dict], reason: str) -> None:
        """Cancel orders whose rows this transaction holds: put their units back once, queue the events, and refund
        the ones already paid."""
        ids, now = [o["order_id"] for o in orders], _now()
        lines = await self._lines(conn, ids)
        picks = {oid: [Pick(l["item_id"], l["warehouse_id"], l["quantity"]) for l in lines[oid]] for oid in ids}
        stock = await inventory.lock_stock(conn, [p.item_id for group in picks.values() for p in group])
        await inventory.put_back(conn, picks)
        await conn.execute(_ids("UPDATE orders SET status = 'CANCELLED', cancel_reason = :r, updated_at = :now "
                                "WHERE order_id IN :ids"), {"r": reason, "now": now, "ids": ids})
        events: list[tuple[str, str, OrderEvent]] = []
        for order in orders:
            cancelled = {**order, "status": "CANCELLED", "cancel_reason": reason, "updated_at": now}
            events.append((ORDERS_TOPIC, order["order_id"], event_of("order_cancelled", cancelled, lines[order["order_id"]])))
        await add_events(conn, events)
        for order in orders:
            if order["status"] != "CREATED":  # it was paid
                await self._refund(conn, {**order, "status": "CANCELLED", "cancel_reason": reason}, reason)
        await inventory.publish_crossings(conn, stock, after(stock, [p for g in picks.values() for p in g], +1))

    async def _refund(self, conn: AsyncConnection, order: dict, reason: str) -> None:
        await conn.execute(text("INSERT IGNORE INTO refunds (payment_id, order_id, amount, reason, status) "
                                "VALUES (:p, :o, :a, :r, 'pending')"),
                           {"p": order["payment_id"], "o": order["order_id"], "a": order["total"], "r": reason})
        lines = (await self._lines(conn, [order["order_id"]]))[order["order_id"]]
        await add_events(conn, [(ORDERS_TOPIC, order["order_id"], event_of("payment_refunded", order, lines))])

    async def _orders(self, conn: AsyncConnection, where: str, params: dict) -> list[dict]:
        result = await conn.execute(text(f"SELECT {COLUMNS} FROM orders WHERE {where}"), params)
        return [dict(row) for row in result.mappings()]

    async def _lines(self, conn: AsyncConnection, order_ids: list[str]) -> dict[str, list[dict]]:
        rows = await conn.execute(_ids("SELECT * FROM order_lines WHERE order_id IN :ids ORDER BY order_id, line_no"),
                                  {"ids": order_ids})
        lines: dict[str, list[dict]] = {order_id: [] for order_id in order_ids}
        for row in rows.mappings():
            lines[row["order_id"]].append(dict(row))
        return lines

    async def _views(self, conn: AsyncConnection, rows: list[dict]) -> list[dict]:
        if not rows:
            return []
        lines = await self._lines(conn, [row["order_id"] for row in rows])
        return [order_view(row, lines[row["order_id"]]) for row in rows]


def _now() -> datetime:
    """UTC without tzinfo, as MySQL DATETIME columns hold it."""
    return datetime.now(UTC).replace(tzinfo=None)
