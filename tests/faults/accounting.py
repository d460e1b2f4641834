"""What the stores and Kafka hold of what a fault test's load did, read straight from MySQL and `orders.events`, and a
short way to say how two large dicts differ."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from orders.events import OrderEvent


def ids(sql: str):
    return text(sql).bindparams(bindparam("ids", expanding=True))


async def outbox_rows(engine: AsyncEngine, keys: list[str]) -> int:
    """How many outbox rows are keyed by one of `keys` (order ids, item ids): events not yet relayed."""
    async with engine.connect() as conn:
        return (await conn.execute(ids("SELECT COUNT(*) FROM outbox WHERE event_key IN :ids"), {"ids": keys})).scalar()


async def stock_rows(engine: AsyncEngine, item_ids: list[str]) -> dict[str, dict[str, tuple[int, int]]]:
    """{item_id: {warehouse_id: (on_hand, reserved)}} as stored."""
    found: dict[str, dict[str, tuple[int, int]]] = {}
    async with engine.connect() as conn:
        rows = await conn.execute(ids("SELECT item_id, warehouse_id, on_hand, reserved FROM stock_levels "
                                      "WHERE item_id IN :ids"), {"ids": item_ids})
        for item_id, warehouse_id, on_hand, reserved in rows:
            found.setdefault(item_id, {})[warehouse_id] = (on_hand, reserved)
    return found


def differences(found: dict, expected: dict, what: str, show: int = 5) -> str:
    """'' when equal, else how many keys differ, with a few of them (a dict of 2,000 keys is no message to read)."""
    wrong = [key for key in expected.keys() | found.keys() if found.get(key) != expected.get(key)]
    examples = {key: {"found": found.get(key), "expected": expected.get(key)} for key in sorted(wrong)[:show]}
    return f"{len(wrong)} of {len(expected)} {what} differ, e.g. {json.dumps(examples, default=str)}" if wrong else ""


async def orders_of(engine: AsyncEngine, user_ids: list[str]) -> dict[str, dict]:
    """Every order of these shoppers as stored: {order_id: {status, cancel_reason, key, expires_at, lines}}, its lines
    as [(item_id, quantity)]."""
    async with engine.connect() as conn:
        found = await conn.execute(ids("SELECT order_id, status, cancel_reason, idempotency_key, expires_at "
                                       "FROM orders WHERE user_id IN :ids"), {"ids": user_ids})
        orders = {row.order_id: {"status": row.status, "cancel_reason": row.cancel_reason, "key": row.idempotency_key,
                                 "expires_at": row.expires_at, "lines": []} for row in found}
        lines = await conn.execute(ids("SELECT order_id, item_id, quantity FROM order_lines WHERE order_id IN :ids "
                                       "ORDER BY order_id, line_no"), {"ids": list(orders)})
        for order_id, item_id, quantity in lines:
            orders[order_id]["lines"].append((item_id, quantity))
    return orders


def order_events(messages: list[Any], order_ids: Iterable[str]) -> list[OrderEvent]:
    """The events of these orders among messages of `orders.events`, in the order they were read."""
    wanted = {order_id.encode() for order_id in order_ids}
    return [OrderEvent.model_validate_json(message.value) for message in messages if message.key in wanted]


def kinds(order_ids: list[str], messages: list) -> dict[str, Counter[str]]:
    """Order id -> how many distinct events of each type it has on `orders.events` (redeliveries counted once)."""
    distinct = {(e.order_id, e.type, e.event_id) for e in order_events(messages, order_ids)}
    found: dict[str, Counter[str]] = {order_id: Counter() for order_id in order_ids}
    for order_id, event_type, _ in distinct:
        found[order_id][event_type] += 1
    return found


def redelivered(order_ids: list[str], messages: list) -> int:
    """How many messages of these orders repeat an event id already on the topic."""
    events = order_events(messages, order_ids)
    return len(events) - len({event.event_id for event in events})


def reserved_by(orders: dict[str, dict], statuses: set[str]) -> Counter[str]:
    """Units per item in the lines of the orders in one of `statuses`."""
    units: Counter[str] = Counter()
    for order in orders.values():
        if order["status"] in statuses:
            for item_id, quantity in order["lines"]:
                units[item_id] += quantity
    return units
