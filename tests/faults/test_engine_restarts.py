"""Restarts of one engine of the real stack (Kafka; Redis, then MySQL) while shoppers place and pay orders through
the API: every order a shopper was told about is stored once, holds its stock, ends as its payment says, reaches
`orders.events`, and nothing is sold twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from inventory.store import StockStore
from orders.windows import PREFIX
from tests.faults.accounting import kinds, order_events, orders_of, outbox_rows, redelivered, reserved_by, stock_rows
from tests.faults.conftest import TopicLog, fresh_mysql, report, restart_engine, running, until
from tests.faults.load import Operation, OrderLoad, around_fault, until_answered

pytestmark = [pytest.mark.stack, pytest.mark.restarts_stack, pytest.mark.timeout(170)]


async def peak(read: Callable[[], Awaitable[int]], while_running: asyncio.Future) -> int:
    """The highest `read()` gave while the future ran (read every 0.2 s)."""
    highest = 0
    while not while_running.done():
        highest = max(highest, await read())
        await asyncio.sleep(0.2)
    return highest


async def test_restarting_kafka_while_orders_are_placed_loses_no_order_or_event(shop, worker, settings):
    """Injects: 20 shoppers (8 at a time) place 180 orders through the API while a worker relays them; when 30 are
    answered, Kafka's process group is stopped (SIGTERM, as `shop stack down` does) with the next 30 in flight, 60
    more start while it is down, it is started again (healthy: a DescribeCluster answered) and the last 60 are
    placed.
    Checks: the shoppers' orders in MySQL are exactly the 201 answers (one per Idempotency-Key), each CREATED with its
    lines, and each item's reserved units are the sum of those lines (no drift from its movements); the outbox
    drains, and every order has exactly one `order_created` event id on `orders.events` (a batch the relay sent
    into the outage and sent again may repeat a message; consumers drop it by event id)."""
    events = await TopicLog.opened(settings, "orders.events")
    await running(worker)
    items = [(await shop.sellable_item(10_000))[0] for _ in range(3)]
    load = OrderLoad(shop, [await shop.buyer() for _ in range(20)],
                     lambda n: [(items[n % 3], 1 + n % 3)] + ([(items[(n + 1) % 3], 1)] if n % 5 == 0 else []))

    waiting: list[int] = []  # the most order events the outbox held while Kafka restarted

    async def restart_kafka(down: asyncio.Event) -> float:
        restarting = asyncio.ensure_future(restart_engine(settings, "kafka", down))
        waiting.append(await peak(lambda: outbox_rows(shop.state.mysql, load.order_ids), restarting))
        return await restarting

    away = await around_fault(restart_kafka, before=load.orders(60), during=load.orders(60), after=load.orders(60))

    async with fresh_mysql(settings) as engine:
        pending = await until(lambda: outbox_rows(engine, load.order_ids), lambda left: left == 0, timeout=90)
        stored = await orders_of(engine, [buyer.user_id for buyer in load.buyers])
        stock = await stock_rows(engine, items)
        drift = await StockStore(engine).reconcile(repair=False, item_ids=items)
    published = await until(events.read, lambda m: all(kinds(load.order_ids, m).values()), timeout=30)
    assert sorted(stored) == sorted(load.order_ids) and len(load.placed) == 180
    assert sorted(order["key"] for order in stored.values()) == sorted(load.keys[n] for n in load.placed)
    assert {order["status"] for order in stored.values()} == {"CREATED"}
    assert stock == {item: {stock_warehouse(stock, item): (10_000, reserved_by(stored, {"CREATED"})[item])}
                     for item in items}
    assert drift == [] and pending == 0
    assert kinds(load.order_ids, published) == {order_id: Counter(order_created=1) for order_id in load.order_ids}
    report("test_restarting_kafka_while_orders_are_placed_loses_no_order_or_event", requests=load.summary(),
           faults=f"1 Kafka restart (away {away:.1f}s, 60 orders started meanwhile; up to {waiting[0]} of the "
           f"orders' events waited in the outbox)",
           outcome=f"{len(stored)} orders in MySQL with their reserved units, outbox drained, "
           f"{len(order_events(published, load.order_ids))} messages of these orders on orders.events, every "
           f"order's order_created there "
           f"({redelivered(load.order_ids, published)} sent twice, dropped by event id)")


K = {"A": 90, "B": 50}  # units on hand of the two items: fewer than the orders ask for


def payment_of(n: int) -> str | None:
    """What the gateway answers for order n: failed (2 in 10), nothing (1 in 10), else succeeded."""
    return "failed" if n % 10 < 2 else None if n % 10 == 2 else "succeeded"


def ships(n: int) -> bool:
    return payment_of(n) == "succeeded" and n % 3 == 0


def final_state(n: int) -> tuple[str, str | None]:
    if payment_of(n) == "failed":
        return "CANCELLED", "payment_failed"
    if payment_of(n) is None:
        return "CREATED", None
    return ("SHIPPED" if ships(n) else "PLACED"), None


EVENTS_OF = {"CREATED": ["order_created"], "PLACED": ["order_created", "order_placed"],
             "SHIPPED": ["order_created", "order_placed", "order_shipped"],
             "CANCELLED": ["order_created", "order_cancelled"]}


async def journey(load: OrderLoad, n: int, answers: Counter[str]) -> None:
    """Shopper n places an order, the gateway answers its payment (the same event id on every delivery), and
    operations ship some paid ones (a retried ship that finds the order shipped already is its answer)."""
    order = await load.place(n)
    if order is None or (outcome := payment_of(n)) is None:
        return
    event_id = f"faults-{order['order_id']}"
    paid = await until_answered(load.tally, lambda: load.shop.pay(order, outcome, event_id=event_id))
    assert paid.status_code == 200, paid.text
    answers[paid.json()["result"]] += 1
    if ships(n):
        shipped = await until_answered(load.tally, lambda: load.shop.http.post(
            f"/v1/orders/{order['order_id']}/ship", headers=load.shop.operator()))
        assert shipped.status_code == 200 or shipped.json().get("order_status") == "SHIPPED", shipped.text
        answers[f"ship {shipped.status_code}"] += 1


async def test_restarting_redis_and_mysql_while_orders_are_placed_and_paid_never_oversells(shop, worker, settings):
    """Injects: 24 shoppers (8 at a time) go through 130 orders (place, then the gateway's payment webhook: succeeded,
    failed or never; a third of the paid ones shipped) of two items with 90 and 50 units, which they ask more of than
    there is. When 15 orders are through, Redis' process group is stopped with the next 15 in flight and held down
    2 s (20 more start meanwhile), then started; 15 more, 15 through, then MySQL's is stopped the same way and held
    down 1 s (20 start meanwhile), then started, and the last 15 go. Every request that fails (a 5xx, no answer) is
    sent again as a client or gateway would (same Idempotency-Key, same event id).
    Checks: the shoppers' orders in MySQL are exactly the 201 answers, one per key; each ends as its payment says
    (CREATED with its window still open if unpaid, PLACED or SHIPPED if paid, CANCELLED `payment_failed` with its
    stock released if refused); per item the reserved column is the units of CREATED and PLACED orders, on hand is
    the start less what shipped, nothing is negative, no more units are held or sold than there were; reconcile finds
    no drift; the outbox drains and each order's events (by event id) are on `orders.events` once each."""
    events = await TopicLog.opened(settings, "orders.events")
    await running(worker)
    items = {name: (await shop.sellable_item(units))[0] for name, units in K.items()}
    a, b = items["A"], items["B"]
    lines = [[(a, 1), (b, 1)], [(a, 2)], [(b, 2)], [(a, 1)]]
    load, answers = OrderLoad(shop, [await shop.buyer() for _ in range(24)], lambda n: lines[n % 4]), Counter[str]()

    def journeys(count: int) -> list[Operation]:
        return [lambda n=n: journey(load, n, answers) for n in load.numbers(count)]

    away_redis = await around_fault(lambda down: restart_engine(settings, "redis", down, hold_seconds=2),
                                    before=journeys(30), during=journeys(20), after=journeys(15))
    away_mysql = await around_fault(lambda down: restart_engine(settings, "mysql", down, hold_seconds=1),
                                    before=journeys(30), during=journeys(20), after=journeys(15))

    async with fresh_mysql(settings) as engine:
        pending = await until(lambda: outbox_rows(engine, load.order_ids), lambda left: left == 0, timeout=60)
        stored = await orders_of(engine, [buyer.user_id for buyer in load.buyers])
        stock = await stock_rows(engine, list(items.values()))
        drift = await StockStore(engine).reconcile(repair=False, item_ids=list(items.values()))
    published = await until(events.read, lambda m: kinds(load.order_ids, m) == expected_kinds(stored), timeout=30)
    now, windows = datetime.now(UTC).replace(tzinfo=None), await open_windows(shop, load.order_ids)
    held, shipped = reserved_by(stored, {"CREATED", "PLACED"}), reserved_by(stored, {"SHIPPED"})
    assert sorted(stored) == sorted(load.order_ids)
    assert sorted(order["key"] for order in stored.values()) == sorted(load.keys[n] for n in load.placed)
    assert {n: (stored[o["order_id"]]["status"], stored[o["order_id"]]["cancel_reason"]) for n, o in
            load.placed.items()} == {n: final_state(n) for n in load.placed}
    assert all(o["expires_at"] > now for o in stored.values() if o["status"] == "CREATED")
    assert {o for o in stored if stored[o]["status"] == "CREATED"} <= windows  # a retried placement reopens it
    assert {name: stock[item] for name, item in items.items()} == {
        name: {stock_warehouse(stock, item): (K[name] - shipped[item], held[item])} for name, item in items.items()}
    assert all(held[item] + shipped[item] <= K[name] for name, item in items.items())
    assert drift == [] and pending == 0
    assert kinds(load.order_ids, published) == expected_kinds(stored)
    assert set(load.refused) <= {"409 out_of_stock"}
    report("test_restarting_redis_and_mysql_while_orders_are_placed_and_paid_never_oversells",
           requests=load.summary(), payments_and_shipments=dict(answers),
           faults=f"Redis restarted (away {away_redis:.1f}s, 20 orders started meanwhile), then MySQL (away "
           f"{away_mysql:.1f}s, 20 orders started meanwhile)",
           outcome=f"{outcome(items, stored, windows)}; no drift, outbox drained, every order's events on Kafka "
           f"({redelivered(load.order_ids, published)} sent twice, dropped by event id)")


def outcome(items: dict[str, str], stored: dict[str, dict], windows: set[str]) -> str:
    """The orders by status, the units sold and held of each item, and the payment windows left in Redis."""
    sold, held = reserved_by(stored, {"PLACED", "SHIPPED"}), reserved_by(stored, {"CREATED", "PLACED"})
    unpaid_without_window = [o for o in stored if stored[o]["status"] == "CREATED" and o not in windows]
    settled_with_window = [o for o in windows if stored[o]["status"] != "CREATED"]
    return (f"{len(stored)} orders stored ({dict(Counter(order['status'] for order in stored.values()))}); units "
            f"sold {({name: sold[item] for name, item in items.items()})} of {K}, held by open orders "
            f"{({name: held[item] for name, item in items.items()})}; unpaid orders without their Redis window: "
            f"{unpaid_without_window or 0}, settled orders whose window is still there: {settled_with_window or 0}")


def expected_kinds(stored: dict[str, dict]) -> dict[str, Counter[str]]:
    """The events each stored order's transitions must have put on `orders.events`."""
    return {order_id: Counter(EVENTS_OF[order["status"]]) for order_id, order in stored.items()}


def stock_warehouse(stock: dict, item_id: str) -> str:
    """The item's one warehouse (`Shop.sellable_item` stocks one)."""
    return next(iter(stock[item_id]))


async def open_windows(shop, order_ids: list[str]) -> set[str]:
    """The orders whose payment-window key is in Redis."""
    async with shop.state.redis.pipeline(transaction=False) as pipe:
        for order_id in order_ids:
            pipe.exists(PREFIX + order_id)
        found = await pipe.execute()
    return {order_id for order_id, exists in zip(order_ids, found) if exists}
