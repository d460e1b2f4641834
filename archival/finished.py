"""MySQL side of the archive: which finished orders are due, their documents (the order as the API shows it, built by
`orders.rows`), and removing the archived ones in one transaction per batch, leaving each a header in
`archived_orders` (its Idempotency-Key and payment stay answerable).

A header is written (committed) before its order's delete transaction starts, so an Idempotency-Key is never free in
between; a header whose order then stays in MySQL is harmless (every reader looks in `orders` first) and is brought
up to date when the order is removed. Lock order, as every writer of orders (`orders.rows`): order rows first. `remove` locks the batch's order rows, builds
their documents again under the lock and removes only those still equal to what Cassandra verified; an order that
changed meanwhile (a late payment's refund) stays, and the next run archives it as it now is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from orders import rows
from orders.views import payment_events_view, refunds_view

# The oldest of each finished status, then the oldest of both: each part reads `orders_finished` (status, updated_at,
# and the primary key after them) in order and stops after :n rows, where one `status IN (...)` range sorted every
# finished order on each call.
_DUE_OF = ("(SELECT o.order_id, o.updated_at FROM orders o WHERE o.status = '{status}' AND o.updated_at <= :before "
           "AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = o.order_id AND r.status = 'pending') "
           "ORDER BY o.updated_at, o.order_id LIMIT :n)")
DUE = text(f"SELECT order_id FROM ({_DUE_OF.format(status='DELIVERED')} UNION ALL {_DUE_OF.format(status='CANCELLED')}) "
           "due ORDER BY updated_at, order_id LIMIT :n")
# What stays of an archived order in MySQL; `settled` is what became of a cancelled order's payment (see
# `orders.payment_store._settled`): it is answered from here once the order has left `orders`.
KEEP_HEADER = ("INSERT INTO archived_orders (order_id, user_id, idempotency_key, request_hash, status, "
               "cancel_reason, pincode, currency, total, payment_id, replaces_order_id, created_at, updated_at, settled) "
               "SELECT o.order_id, o.user_id, o.idempotency_key, o.request_hash, o.status, o.cancel_reason, o.pincode, "
               "o.currency, o.total, o.payment_id, o.replaces_order_id, o.created_at, o.updated_at, "
               "CASE WHEN EXISTS (SELECT 1 FROM orders n WHERE n.user_id = o.user_id "
               "AND n.idempotency_key = CONCAT('reinstates:', o.order_id)) OR EXISTS (SELECT 1 FROM archived_orders n "
               "WHERE n.user_id = o.user_id AND n.idempotency_key = CONCAT('reinstates:', o.order_id)) THEN 'reinstated' "
               "WHEN EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = o.payment_id) THEN 'refunded' END "
               "FROM orders o WHERE o.order_id IN :ids ON DUPLICATE KEY UPDATE status = VALUES(status), "
               "cancel_reason = VALUES(cancel_reason), updated_at = VALUES(updated_at), settled = VALUES(settled)")


class FinishedOrders:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def due(self, before: datetime, limit: int) -> list[str]:
        """Orders DELIVERED or CANCELLED whose last change is at or before `before` and whose refunds (if any) the
        gateway has answered; the oldest first."""
        async with self.engine.connect() as conn:
            return list((await conn.execute(DUE, {"before": before, "n": limit})).scalars())

    async def documents(self, order_ids: list[str]) -> list[dict]:
        """The orders as the API shows them (what the archive stores), those of `order_ids` still in MySQL."""
        async with self.engine.connect() as conn:
            found = await rows.select_orders(conn, "order_id IN :ids", {"ids": order_ids}, many=True)
            return await rows.order_views(conn, found)

    async def remove(self, archived: list[dict]) -> list[str]:
        """Delete the archived orders from MySQL, in one transaction, keeping each one's header; only orders whose
        document is still the one archived (others changed after they were read). Returns the ids removed."""
        wanted = {doc["order_id"]: doc for doc in archived}
        if not wanted:
            return []
        async with self.engine.begin() as conn:
            # The headers first, committed on their own: a placement that reuses an archived order's key is refused by
            # them (its insert checks `archived_orders` without locking it) before the order row is gone.
            await conn.execute(rows.ids(KEEP_HEADER), {"ids": list(wanted)})
        async with self.engine.begin() as conn:
            locked = await rows.select_orders(conn, "order_id IN :ids FOR UPDATE", {"ids": list(wanted)}, many=True)
            now = await rows.order_views(conn, locked)
            # Both documents are built by `order_views` from MySQL's rows, so equal ones are equal as stored (`encode`).
            same = [doc["order_id"] for doc in now if doc == wanted[doc["order_id"]]]
            if same:
                params = {"ids": same}
                await conn.execute(rows.ids(KEEP_HEADER), params)
                await conn.execute(rows.ids("DELETE FROM refunds WHERE order_id IN :ids"), params)
                await conn.execute(rows.ids("DELETE FROM order_lines WHERE order_id IN :ids"), params)
                await conn.execute(rows.ids("DELETE FROM orders WHERE order_id IN :ids"), params)
        return same

    # --- payments that reach an order after it was archived (a late success, refunded: `orders.payment_store`) ---
    async def late_refunds(self, limit: int) -> list[str]:
        """Archived orders with a refund the gateway has answered that the archive does not have yet."""
        async with self.engine.connect() as conn:
            found = await conn.execute(text("SELECT DISTINCT r.order_id FROM refunds r JOIN archived_orders a "
                                            "ON a.order_id = r.order_id WHERE r.status <> 'pending' AND NOT EXISTS "
                                            "(SELECT 1 FROM orders o WHERE o.order_id = r.order_id) LIMIT :n"),
                                       {"n": limit})
            return list(found.scalars())

    async def with_payments(self, docs: list[dict]) -> list[dict]:
        """Archived documents with their payment events and refunds as MySQL now holds them (the same documents again
        once their refunds are folded in and deleted: payment events stay in MySQL)."""
        async with self.engine.connect() as conn:
            payments, refunds = await rows.payments_of(conn, [doc["order_id"] for doc in docs])
        updated = []
        for doc in docs:
            currency = doc["total"]["currency"]
            refunded = refunds[doc["order_id"]]
            updated.append({**doc, "payment": {**doc["payment"], "events": payment_events_view(
                payments[doc["order_id"]], currency)}, "refunds": refunds_view(refunded, currency) if refunded
                else doc["refunds"]})
        return updated

    async def drop_refunds(self, order_ids: list[str]) -> None:
        """The answered refunds of these archived orders, once the archive holds them."""
        async with self.engine.begin() as conn:
            await conn.execute(rows.ids("DELETE FROM refunds WHERE order_id IN :ids AND status <> 'pending'"),
                               {"ids": order_ids})
