"""What the checkout benchmarks put in the stores and take out again: buyers with tokens, live items with stock in the
fastest warehouse for one pincode, and removal of everything a run created (its orders, their lines, movements, outbox
rows and payment windows, the items' stock, the buyers)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, text

from identity.service import hash_password, issue_token
from inbound.events import ItemRecord
from item_service.service import upserted
from logistics.commands import load_file
from orders.windows import PREFIX as WINDOW_PREFIX

PINCODE = "560001"  # Bengaluru: several warehouses of the sample network deliver here
SIZE_CLASS = "small"
CHUNK = 2_000


def _ids(sql: str):
    return text(sql).bindparams(bindparam("ids", expanding=True))


async def fastest_warehouse(serviceability) -> str:
    """The warehouse that delivers fastest to PINCODE, loading the sample network if it is missing."""
    if not (await serviceability.deliverable_from(PINCODE))[SIZE_CLASS]:
        await load_file(None, serviceability)
    etas = (await serviceability.deliverable_from(PINCODE))[SIZE_CLASS]
    return min(etas, key=etas.get)


async def buyers(users, jwt_secret: str, prefix: str, count: int) -> list[tuple[str, str]]:
    """(user_id, bearer token) of `count` new shoppers."""
    password_hash = hash_password("bench buyers never log in")
    made = []
    for n in range(count):
        profile = await users.create(email=f"{prefix}-{n}@example.com", name=f"Bench buyer {n}",
                                     password_hash=password_hash, default_pincode=PINCODE)
        made.append((profile["user_id"], issue_token(profile["user_id"], secret=jwt_secret, minutes=120,
                                                     now=datetime.now(UTC))))
    return made


async def stocked_items(stores, prefix: str, count: int, units: int, warehouse_id: str) -> list[str]:
    """`count` live items in MongoDB with `units` on hand in `warehouse_id`. The stock rows and their `set` movements
    are written in bulk (what `StockStore.set_levels` writes, without its `inventory.stock_changed` events: these items
    are not in the search index, and thousands of events would only load the shared worker)."""
    item_ids = [f"{prefix}-{n:06d}" for n in range(count)]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    documents = [upserted(None, ItemRecord(
        item_id=item_id, seller_id=f"{prefix}-seller", sku=item_id, op="upsert", version=1, feed_id=prefix, index=n,
        received_at=now, fields={"title": f"Bench kettle {n}", "category": "kitchen", "price": "250.00",
                                 "currency": "INR", "size_class": SIZE_CLASS, "attributes": {}}), now)
        for n, item_id in enumerate(item_ids)]
    for start in range(0, count, CHUNK):
        await stores.item_store.write_newer(documents[start:start + CHUNK])
        async with stores.mysql.begin() as conn:
            rows = [{"i": item_id, "w": warehouse_id, "q": units} for item_id in item_ids[start:start + CHUNK]]
            await conn.execute(text("INSERT INTO stock_levels (item_id, warehouse_id, on_hand) VALUES (:i, :w, :q)"),
                               rows)
            await conn.execute(text("INSERT INTO stock_movements (item_id, warehouse_id, on_hand_delta, reason) "
                                    "VALUES (:i, :w, :q, 'set')"), rows)
    return item_ids


async def remove_run(stores, user_ids: list[str], item_ids: list[str]) -> dict:
    """Delete what a run created (through a `Stores`); returns how many orders it removed."""
    mysql, redis, item_store = stores.mysql, stores.redis, stores.item_store
    async with mysql.connect() as conn:
        order_ids = list((await conn.execute(_ids("SELECT order_id FROM orders WHERE user_id IN :ids"),
                                             {"ids": user_ids or ["-"]})).scalars())
    for start in range(0, len(order_ids), CHUNK):
        chunk = order_ids[start:start + CHUNK]
        async with mysql.begin() as conn:
            for table, column in (("outbox", "event_key"), ("stock_movements", "order_id"), ("order_lines", "order_id"),
                                  ("orders", "order_id")):
                await conn.execute(_ids(f"DELETE FROM {table} WHERE {column} IN :ids"), {"ids": chunk})
        await redis.delete(*(WINDOW_PREFIX + order_id for order_id in chunk))
    for start in range(0, len(item_ids), CHUNK):
        chunk = item_ids[start:start + CHUNK]
        async with mysql.begin() as conn:
            for table, column in (("outbox", "event_key"), ("stock_movements", "item_id"), ("stock_levels", "item_id")):
                await conn.execute(_ids(f"DELETE FROM {table} WHERE {column} IN :ids"), {"ids": chunk})
        # One delete per id: a `$in` filter makes FerretDB scan the collection.
        await asyncio.gather(*(item_store.items.delete_one({"_id": item_id}) for item_id in chunk))
    if user_ids:
        async with mysql.begin() as conn:
            await conn.execute(_ids("DELETE FROM users WHERE user_id IN :ids"), {"ids": user_ids})
    return {"orders": len(order_ids), "items": len(item_ids), "buyers": len(user_ids)}


async def unpaid_orders(mysql, prefix: str, user_ids: list[str], item_ids: list[str], warehouse_id: str,
                        eta_hours: float, count: int) -> list[str]:
    """`count` unpaid one-unit orders, written in bulk as `OrderStore.place` leaves them (the order CREATED, its line,
    the units reserved with a `reserve` movement each), without their `order_created` outbox events, and not yet
    due: `expires_at` is a day away until `set_deadlines` sets it. The n-th order's idempotency key ends in n."""
    now, order_ids = datetime.now(UTC).replace(tzinfo=None), []
    for start in range(0, count, CHUNK):
        orders, lines, movements, reserved = [], [], [], Counter()
        for n in range(start, min(count, start + CHUNK)):
            order_id, item_id = uuid.uuid4().hex, item_ids[n % len(item_ids)]
            order_ids.append(order_id)
            reserved[item_id] += 1
            orders.append({"o": order_id, "u": user_ids[n % len(user_ids)], "k": f"{prefix}-{n:07d}", "h": order_id,
                           "p": uuid.uuid4().hex, "now": now, "e": now + timedelta(days=1)})
            lines.append({"o": order_id, "i": item_id, "s": f"{prefix}-seller", "w": warehouse_id, "eta": eta_hours})
            movements.append({"i": item_id, "w": warehouse_id, "o": order_id})
        async with mysql.begin() as conn:
            await conn.execute(text("INSERT INTO orders (order_id, user_id, idempotency_key, request_hash, status, "
                                    "pincode, currency, total, payment_id, created_at, expires_at, updated_at) VALUES "
                                    f"(:o, :u, :k, :h, 'CREATED', '{PINCODE}', 'INR', 250.00, :p, :now, :e, :now)"),
                               orders)
            await conn.execute(text("INSERT INTO order_lines (order_id, line_no, item_id, seller_id, warehouse_id, "
                                    "title, quantity, unit_price, eta_hours) VALUES (:o, 1, :i, :s, :w, "
                                    "'Bench kettle', 1, 250.00, :eta)"), lines)
            await conn.execute(text("INSERT INTO stock_movements (item_id, warehouse_id, reserved_delta, reason, "
                                    "order_id) VALUES (:i, :w, 1, 'reserve', :o)"), movements)
            await conn.execute(text("INSERT INTO stock_levels (item_id, warehouse_id, on_hand, reserved) "
                                    "VALUES (:i, :w, 0, :q) ON DUPLICATE KEY UPDATE reserved = reserved + VALUES(reserved)"),
                               [{"i": i, "w": warehouse_id, "q": q} for i, q in reserved.items()])
    return order_ids


async def set_deadlines(mysql, windows, prefix: str, user_ids: list[str], order_ids: list[str], first: datetime,
                        step_us: int) -> None:
    """Order n falls due at `first` + n * `step_us` microseconds: its `expires_at`, and its payment window opened
    with `PaymentWindows.open` (`windows` wraps a Redis pipeline, sent every CHUNK orders)."""
    for start in range(0, len(order_ids), CHUNK):
        async with mysql.begin() as conn:
            await conn.execute(_ids("UPDATE orders SET expires_at = DATE_ADD(:first, INTERVAL "
                                    "CAST(RIGHT(idempotency_key, 7) AS UNSIGNED) * :step MICROSECOND) "
                                    "WHERE user_id IN :ids AND idempotency_key >= :low AND idempotency_key < :high "
                                    "AND status = 'CREATED'"),
                               {"ids": user_ids, "first": first, "step": step_us, "low": f"{prefix}-{start:07d}",
                                "high": f"{prefix}-{start + CHUNK:07d}"})
    for start in range(0, len(order_ids), CHUNK):
        for n in range(start, min(len(order_ids), start + CHUNK)):
            await windows.open(order_ids[n], first + timedelta(microseconds=n * step_us))
        await windows.redis.execute()
