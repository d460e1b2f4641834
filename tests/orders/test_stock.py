"""Stock through the order lifecycle over HTTP on the real stack: an order reserves, shipping takes the units off the
shelf, cancelling releases them, and counts that race orders (seller recounts, feed replays) never make reserved units
sellable again."""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from sqlalchemy import text

from inventory.events import STOCK_CHANGED_TOPIC
from inventory.service import FeedStock
from inventory.store import StockStore
from tests.conftest import relay_pending
from tests.inventory.conftest import stock_events

pytestmark = pytest.mark.stack


def row(warehouse_id: str, on_hand: int, reserved: int) -> dict:
    return {"warehouse_id": warehouse_id, "on_hand": on_hand, "reserved": reserved, "available": on_hand - reserved}


async def test_shipping_takes_the_reserved_units_off_the_shelf(shop):
    buyer = await shop.buyer()
    item_id, warehouse_id = await shop.sellable_item(5)
    order = (await shop.order(buyer, [(item_id, 2)])).json()
    await shop.pay(order, "succeeded")
    placed = await shop.picture(item_id)

    shipped = await shop.http.post(f"/v1/orders/{order['order_id']}/ship", headers=shop.operator())

    assert shipped.json()["status"] == "SHIPPED"
    assert placed == [row(warehouse_id, 5, 2)]
    assert await shop.picture(item_id) == [row(warehouse_id, 3, 0)]


async def test_cancelling_releases_the_reservation_and_keeps_the_sellers_recount(shop):
    buyer = await shop.buyer()
    item_id, warehouse_id = await shop.sellable_item(5)
    order = (await shop.order(buyer, [(item_id, 2)])).json()
    await shop.pay(order, "succeeded")
    await StockStore(shop.state.mysql).set_levels(item_id, {warehouse_id: 5})  # the shelf still holds all 5

    await shop.http.post(f"/v1/orders/{order['order_id']}/cancel", headers=buyer.headers)

    assert await shop.picture(item_id) == [row(warehouse_id, 5, 0)]


async def test_orders_racing_recounts_and_feed_replays_never_sell_more_than_is_on_hand(shop):
    item_id, warehouse_id = await shop.sellable_item(10)
    buyers = [await shop.buyer() for _ in range(40)]
    stock, now = StockStore(shop.state.mysql), time.time_ns() // 1000
    recounts = [stock.set_levels(item_id, {warehouse_id: 10}) for _ in range(15)]
    replays = [stock.apply_feed_stock([FeedStock(item_id, now + n, {warehouse_id: 10})]) for n in range(15)]
    counts = recounts + replays
    random.Random(7).shuffle(counts)

    async with asyncio.timeout(90):
        orders = [asyncio.ensure_future(shop.order(buyer, [(item_id, 1)])) for buyer in buyers]
        await asyncio.gather(*counts, *orders)

    codes = [order.result().status_code for order in orders]
    assert codes.count(201) == 10 and codes.count(409) == 30, sorted(set(codes))
    assert await shop.picture(item_id) == [row(warehouse_id, 10, 10)]
    assert await stock.reconcile(repair=False, item_ids=[item_id]) == []


async def test_orders_say_an_item_left_stock_once_with_its_last_unit_and_never_before(shop, tail, producer):
    # Orders that leave units on the shelf reserve without locking the row first and publish nothing; the one that
    # takes the last unit is retried on the locked row and publishes that the item left stock.
    item_id, warehouse_id = await shop.sellable_item(5)
    await sent_from_outbox(shop.state.mysql, producer, item_id)  # the item's arrival in stock, before the tail opens
    events = await tail(STOCK_CHANGED_TOPIC)
    buyers = [await shop.buyer() for _ in range(8)]

    placed = await asyncio.gather(*(shop.order(buyer, [(item_id, 1)]) for buyer in buyers))

    assert sorted(response.status_code for response in placed) == [201] * 5 + [409] * 3
    published = await stock_events(events, shop.state.mysql, producer, item_id, count=1)
    assert [(event.in_stock, event.warehouses) for event in published] == [(False, [])]
    assert await shop.picture(item_id) == [row(warehouse_id, 5, 5)]
    async with shop.state.mysql.connect() as conn:  # what a retried placement wrote first was rolled back with it
        lines, reserved = (await conn.execute(text(
            "SELECT (SELECT COUNT(*) FROM order_lines WHERE item_id = :i), "
            "(SELECT SUM(reserved_delta) FROM stock_movements WHERE item_id = :i)"), {"i": item_id})).one()
    assert (lines, reserved) == (5, 5)


async def sent_from_outbox(engine, producer, key: str) -> None:
    """Waits until the outbox holds no event keyed `key` (sent by this test's relay or a running worker's)."""
    async with asyncio.timeout(30):
        while True:
            await relay_pending(engine, producer)
            async with engine.connect() as conn:
                held = (await conn.execute(text("SELECT COUNT(*) FROM outbox WHERE event_key = :k"), {"k": key})).scalar()
            if not held:
                return
            await asyncio.sleep(0.1)
