"""Many finished orders fast: copies, in MySQL, of orders made through the API (each copy its own order, payment,
Idempotency-Key, payment events and refunds; the same shopper, lines and timeline, a little older)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

ORDER = ("order_id, user_id, idempotency_key, request_hash, status, cancel_reason, pincode, currency, total, "
         "payment_id, replaces_order_id, created_at, expires_at, updated_at, placed_at, shipped_at, delivered_at, "
         "cancelled_at")
TIMES = ("created_at", "expires_at", "updated_at", "placed_at", "shipped_at", "delivered_at", "cancelled_at")


def _in(sql: str):
    return text(sql).bindparams(bindparam("ids", expanding=True))


def _insert(table: str, columns: list[str]):
    return text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})")


async def clone_orders(engine: AsyncEngine, template_ids: list[str], copies: int, chunk: int = 500) -> list[str]:
    """`copies` copies of each template order; returns the new order ids."""
    async with engine.connect() as conn:
        orders = [dict(r) for r in (await conn.execute(_in(f"SELECT {ORDER} FROM orders WHERE order_id IN :ids"),
                                                       {"ids": template_ids})).mappings()]
        lines = [dict(r) for r in (await conn.execute(_in("SELECT * FROM order_lines WHERE order_id IN :ids"),
                                                      {"ids": template_ids})).mappings()]
        events = [dict(r) for r in (await conn.execute(_in("SELECT * FROM payment_events WHERE order_id IN :ids"),
                                                       {"ids": template_ids})).mappings()]
        refunds = [dict(r) for r in (await conn.execute(_in("SELECT * FROM refunds WHERE order_id IN :ids"),
                                                        {"ids": template_ids})).mappings()]
    made: list[str] = []
    batch: dict[str, list[dict]] = {"orders": [], "order_lines": [], "payment_events": [], "refunds": []}
    for n in range(copies):
        for order in orders:
            new_id, new_payment = uuid.uuid4().hex, uuid.uuid4().hex
            shift = timedelta(seconds=n + 1, microseconds=len(made))
            batch["orders"].append({**order, "order_id": new_id, "payment_id": new_payment,
                                    "idempotency_key": f"clone-{new_id}",
                                    **{t: order[t] - shift for t in TIMES if order[t] is not None}})
            batch["order_lines"] += [{**line, "order_id": new_id} for line in lines if line["order_id"] == order["order_id"]]
            batch["payment_events"] += [{**event, "order_id": new_id, "payment_id": new_payment,
                                         "event_id": f"clone-{uuid.uuid4().hex}"}
                                        for event in events if event["order_id"] == order["order_id"]]
            batch["refunds"] += [{**refund, "order_id": new_id, "payment_id": new_payment}
                                 for refund in refunds if refund["order_id"] == order["order_id"]]
            made.append(new_id)
            if len(batch["orders"]) >= chunk:
                await _write(engine, batch)
    await _write(engine, batch)
    return made


async def _write(engine: AsyncEngine, batch: dict[str, list[dict]]) -> None:
    async with engine.begin() as conn:
        for table, rows in batch.items():
            if rows:
                await conn.execute(_insert(table, list(rows[0])), rows)
            rows.clear()
