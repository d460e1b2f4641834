"""MySQL adapter of the orders: placing one (from named lines or from the cart), reading them, moving them along and
timing them out. Each method is one transaction that changes the order, its stock and its outbox events together, so a
crash leaves all or none. Locks are always taken order rows first, then stock rows (in item id order); an order from
the cart takes the shopper's row before both (`place_from_cart` says why that cannot deadlock)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from cart.service import UnknownShopper
from cart.store import cart_lines, clear_cart
from infra import driver_sql
from infra.outbox import add_events, adding_events
from inventory import store as inventory
from inventory.service import sellable
from orders import rows, service, views
from orders.events import ORDERS_TOPIC
from orders.payment_store import refund
from orders.views import event_of, order_view

Pricing = Callable[[list[tuple[str, int]]], Awaitable[service.Quote]]
"""Quotes (item_id, quantity) lines: prices from the live items, deliverability to the order's pincode."""


class OrderNotFound(Exception):
    pass


class DuplicateIdempotencyKey(Exception):
    def __init__(self, order: dict) -> None:
        super().__init__(order["order_id"])
        self.order = order


class KeyTaken(Exception):
    """The order row's insert found its Idempotency-Key used; carries this request's fingerprint, to compare."""

    def __init__(self, request_hash: str) -> None:
        super().__init__(request_hash)
        self.request_hash = request_hash


@dataclass(frozen=True)
class NewOrder:
    """Who orders, under which Idempotency-Key, to which pincode, and how long the payment window stays open."""

    user_id: str
    idempotency_key: str
    pincode: str
    window_seconds: int


class ArchivedOrders(Protocol):
    """What the orders need of the order archive (`archival.archive.OrderArchive`): finished orders moved there, as
    `order_view` showed them. A position is (created_us, order_id) of the last order of a page: newest first."""

    async def get(self, order_id: str) -> dict | None: ...

    async def for_user(self, user_id: str, below: tuple[int, str] | None, limit: int) -> list[dict]: ...


class OrderStore:
    """Orders in MySQL and, once finished and archived, in the archive: reads by id, by Idempotency-Key and a
    shopper's list see both (MySQL first: the archiver deletes an order from MySQL only after its copy verified, so a
    reader that finds it in neither place cannot exist)."""

    def __init__(self, engine: AsyncEngine, archive: ArchivedOrders | None = None) -> None:
        self.engine, self.archive = engine, archive

    async def place(self, new: NewOrder, quote: service.Quote) -> dict:
        """Insert the order as CREATED, reserve every line or none, queue `order_created`; see `service.plan`."""
        async def placing(conn: AsyncConnection, locking: bool) -> dict:
            return await _insert(conn, new, quote, locking)

        try:
            return await self._placed(placing)
        except KeyTaken as taken:
            raise await self._replay(new, taken.request_hash) from None

    async def place_from_cart(self, new: NewOrder, price: Pricing) -> dict:
        """`place` with the shopper's cart, read once inside the order's transaction, priced (`price`), ordered and
        emptied there. An empty cart is `CartEmpty`, unless this key already ordered it (the cart emptied with it).

        Lock order: the shopper's row (reading the cart locks it, so the cart cannot change until the order commits),
        then the order row, then stock rows. That cannot deadlock with the other writers: cart changes (and profile
        edits) lock only the shopper's row, and every other order writer locks order rows, then stock rows, and never
        a shopper's row (orders have no foreign key to it); so nothing that holds an order or stock row ever waits for
        a shopper's row, and nothing locks stock rows and then a shopper's row."""
        async def placing(conn: AsyncConnection, locking: bool) -> dict:
            quote = await price(await _cart(conn, new.user_id))
            order = await _insert(conn, new, quote, locking)
            await clear_cart(conn, new.user_id)
            return order

        try:
            return await self._placed(placing)
        except KeyTaken as taken:
            raise await self._replay(new, taken.request_hash) from None
        except service.CartEmpty as empty:
            raise (await self._cart_ordered_already(new) or empty) from None

    async def get(self, order_id: str, user_id: str | None = None) -> dict | None:
        """The order, live or archived (only if it is `user_id`'s, when given)."""
        async with self.engine.connect() as conn:
            found = await rows.find_order(conn, order_id, user_id)
        if found is None and self.archive is not None:
            archived = await self.archive.get(order_id)
            if archived is not None and (user_id is None or archived["user_id"] == user_id):
                return archived
        return found

    async def by_idempotency_key(self, user_id: str, key: str) -> dict | None:
        """The order this key created (live or archived), with the hash of the request that created it."""
        async with self.engine.connect() as conn:
            found = await rows.select_orders(conn, "user_id = :u AND idempotency_key = :k", {"u": user_id, "k": key})
            if found:
                return {**(await rows.order_views(conn, found))[0], "request_hash": found[0]["request_hash"]}
            archived = (await conn.execute(text("SELECT order_id, request_hash FROM archived_orders WHERE user_id = :u "
                                                "AND idempotency_key = :k"), {"u": user_id, "k": key})).first()
        if archived is None or self.archive is None:
            return None
        order = await self.archive.get(archived.order_id)
        if order is None:
            raise LookupError(f"order {archived.order_id} left MySQL for the archive and is not there")
        return {**order, "request_hash": archived.request_hash}

    async def for_user(self, user_id: str, limit: int, below: tuple[int, str] | None = None) -> list[dict]:
        """The shopper's orders, live and archived together, newest first: the first `limit` below `below` (a
        position: (created_us, order_id) of the last order of the previous page)."""
        where, params = "user_id = :u", {"u": user_id, "n": limit}
        if below is not None:
            where += " AND (created_at, order_id) < (:at, :o)"
            params.update(at=views.from_micros(below[0]), o=below[1])
        async with self.engine.connect() as conn:
            found = await rows.select_orders(conn, f"{where} ORDER BY created_at DESC, order_id DESC LIMIT :n", params)
            live = await rows.order_views(conn, found)
        archived = await self.archive.for_user(user_id, below, limit) if self.archive is not None else []
        return views.newest_first(live, archived, limit)

    async def transition(self, order_id: str, action: service.Action, *, user_id: str | None = None,
                         reason: str | None = None) -> dict | None:
        """Ship (its units leave the shelf), deliver or cancel (releasing its reservation, refunding a paid order);
        anything else is InvalidTransition."""
        async with self.engine.begin() as conn:
            locked = await rows.select_orders(conn, "order_id = :o" + (" AND user_id = :u" if user_id else "")
                                              + " FOR UPDATE", {"o": order_id, "u": user_id})
            if not locked:
                raise OrderNotFound(order_id)
            status = service.next_status(locked[0]["status"], action)
            if status == "CANCELLED":
                await rows.cancel_locked(conn, locked, reason or "customer", refund)
            elif status == "SHIPPED":
                await rows.ship_locked(conn, locked[0])
            else:
                await rows.set_status(conn, locked[0], status)
        return await self.get(order_id)

    async def cancel_due(self, limit: int, order_ids: Sequence[str] | None = None) -> list[dict]:
        """Cancel unpaid orders whose window has closed (all due ones, or only `order_ids`); returns them.
        Rows another transaction holds are skipped: that one settles them, or a later sweep does."""
        where = "status = 'CREATED' AND expires_at <= :now"
        params: dict = {"now": rows.now(), "n": limit}
        if order_ids is not None:
            where, params["ids"] = where + " AND order_id IN :ids", list(order_ids)
        async with self.engine.begin() as conn:
            sql = f"SELECT {rows.COLUMNS} FROM orders WHERE {where} ORDER BY expires_at LIMIT :n FOR UPDATE SKIP LOCKED"
            query = rows.ids(sql) if order_ids is not None else text(sql)
            due = [dict(r) for r in (await conn.execute(query, params)).mappings()]
            if due:
                await rows.cancel_locked(conn, due, "payment_timeout", refund)
        return due

    async def _placed(self, placing: Callable[[AsyncConnection, bool], Awaitable[dict]]) -> dict:
        """`placing` in a transaction, first reserving without locking the stock rows beforehand (`_insert`); if
        that cannot reserve, rolled back and run again in a new transaction that locks them first."""
        try:
            async with self.engine.begin() as conn:
                return await placing(conn, False)
        except NeedsLockedStock:
            async with self.engine.begin() as conn:
                return await placing(conn, True)

    async def _replay(self, new: NewOrder, request_hash: str) -> Exception:
        """The order another request made with this key (committed, so this transaction rolled back): the same
        request's order again, or `IdempotencyKeyReused` for a different request."""
        existing = await self.by_idempotency_key(new.user_id, new.idempotency_key)
        if existing is None or existing["request_hash"] != request_hash:
            return service.IdempotencyKeyReused(new.idempotency_key)
        return DuplicateIdempotencyKey(existing)

    async def _cart_ordered_already(self, new: NewOrder) -> Exception | None:
        """For a cart found empty: the order this key already made from it (the cart emptied with it), if any."""
        existing = await self.by_idempotency_key(new.user_id, new.idempotency_key)
        if existing is None:
            return None
        if existing["pincode"] != new.pincode:  # all there is left to compare once the cart is gone
            return service.IdempotencyKeyReused(new.idempotency_key)
        return DuplicateIdempotencyKey(existing)


async def _cart(conn: AsyncConnection, user_id: str) -> list[tuple[str, int]]:
    """The cart's lines, locking the shopper's row until the transaction ends; `CartEmpty` when there are none."""
    try:
        lines = await cart_lines(conn, user_id)
    except UnknownShopper:  # a shopper who no longer exists has no cart
        lines = []
    if not lines:
        raise service.CartEmpty(user_id)
    return lines


class NeedsLockedStock(Exception):
    """The placement could not reserve without locking its stock rows first (`_insert`): it is rolled back and run
    again, locking them."""


async def _insert(conn: AsyncConnection, new: NewOrder, quote: service.Quote, locking: bool) -> dict:
    """The order row first (a second request with the same key waits on it, then finds this order), then its stock
    reserved for every line or none (only from units available: on hand and not yet reserved).

    Not `locking` (the first attempt), three round trips: the order row with the stock rows read as they are; every
    other row written with the units reserved last, each stock row locked by its own conditional UPDATE
    (`inventory.reserving_leaving_some`), so an item many shoppers buy at once is locked for one round trip and the
    commit; the commit. Where that cannot be done (a plan short of units, the last units of a row, units taken
    meanwhile) it is `NeedsLockedStock`. `locking`: the stock rows locked (`inventory.lock_stock`) before planning on
    them, so the plan is exact and a row's crossing of zero is published (`rows.reserve_lines`)."""
    row = _order_row(new, quote)
    item_ids = [line.item_id for line in quote.lines]
    inserting = driver_sql.Step(rows.INSERT_ORDER, [{**row, "key": new.idempotency_key}])
    if locking:
        await _inserted(conn, quote, [inserting])
        stock = await inventory.lock_stock(conn, item_ids)
        planned = service.plan(quote.lines, sellable(stock), quote.deliverable)
        lines = await rows.reserve_lines(conn, row["order_id"], planned, stock)
        await add_events(conn, [(ORDERS_TOPIC, row["order_id"], event_of("order_created", row, lines))])
        return order_view(row, lines)
    read = (await _inserted(conn, quote, [inserting, inventory.reading_stock(item_ids)]))[1]
    try:
        planned = service.plan(quote.lines, sellable(inventory.stock_levels(item_ids, read.rows)), quote.deliverable)
    except (service.OutOfStock, service.NotDeliverable):
        raise NeedsLockedStock from None  # refused only on locked rows
    lines = rows.line_rows(row["order_id"], planned)
    picks = [p.pick for p in planned]
    done = await driver_sql.execute_batch(conn, [
        driver_sql.Step(rows.INSERT_LINES, lines),
        adding_events([(ORDERS_TOPIC, row["order_id"], event_of("order_created", row, lines))]),
        *inventory.reserving_leaving_some(picks, row["order_id"])])
    if any(reserved.changed != 1 for reserved in done[-len(picks):]):
        raise NeedsLockedStock
    return order_view(row, lines)


async def _inserted(conn: AsyncConnection, quote: service.Quote, steps: list[driver_sql.Step]
                    ) -> list[driver_sql.Outcome]:
    """The order row's insert (the first step) and what follows it in the same round trip; `KeyTaken` when its
    Idempotency-Key is used, live or archived."""
    try:
        done = await driver_sql.execute_batch(conn, steps)
    except IntegrityError as error:
        if "orders_idempotency" not in str(error):
            raise
        raise KeyTaken(quote.request_hash) from None
    if done[0].changed == 0:  # the key's order was archived
        raise KeyTaken(quote.request_hash)
    return done


def _order_row(new: NewOrder, quote: service.Quote) -> dict:
    now = rows.now()
    return {"order_id": uuid.uuid4().hex, "user_id": new.user_id, "status": "CREATED", "cancel_reason": None,
            "pincode": new.pincode, "currency": quote.lines[0].currency, "total": service.total(quote.lines),
            "payment_id": uuid.uuid4().hex, "replaces_order_id": None, "request_hash": quote.request_hash,
            "created_at": now, "expires_at": now + timedelta(seconds=new.window_seconds), "updated_at": now,
            "placed_at": None, "shipped_at": None, "delivered_at": None, "cancelled_at": None}
