"""The stock store on the real MySQL and Kafka: stock events only on crossings of zero, the feed version guard, the
CHECK constraint under decrements, concurrent first writers, and reconciliation through `shop inventory reconcile`."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from inventory import store as inventory
from inventory.events import STOCK_CHANGED_TOPIC
from inventory.service import FeedStock, Pick
from tests.inventory.conftest import set_directly, shop, stock_events

pytestmark = pytest.mark.stack


async def test_stock_changed_is_published_once_per_crossing_of_zero_and_never_otherwise(
        stock, engine, producer, tail, new_item):
    item_id, events = new_item(), await tail(STOCK_CHANGED_TOPIC)

    await stock.set_levels(item_id, {"W1": 5})
    await stock.set_levels(item_id, {"W1": 3})
    await stock.set_levels(item_id, {"W1": 0})

    published = await stock_events(events, engine, producer, item_id, count=2)
    assert [(e.in_stock, [(w.warehouse_id, w.available) for w in e.warehouses]) for e in published] == [
        (True, [("W1", 5)]), (False, [])]


async def test_feed_stock_older_than_what_the_feed_last_set_is_ignored(stock, new_item):
    item_id = new_item()
    await stock.apply_feed_stock([FeedStock(item_id, 20, {"W1": 8})])

    await stock.apply_feed_stock([FeedStock(item_id, 19, {"W1": 2})])
    await stock.apply_feed_stock([FeedStock(item_id, 20, {"W1": 3})])

    assert await stock.levels(item_id) == {"W1": 8}


async def test_seller_setting_stock_without_a_version_always_applies(stock, new_item):
    item_id = new_item()
    await stock.apply_feed_stock([FeedStock(item_id, 20, {"W1": 8})])

    await stock.set_levels(item_id, {"W1": 1})

    assert await stock.levels(item_id) == {"W1": 1}
    await stock.apply_feed_stock([FeedStock(item_id, 21, {"W1": 6})])
    assert await stock.levels(item_id) == {"W1": 6}


async def test_a_take_larger_than_the_stock_is_refused_and_changes_nothing(stock, engine, new_item):
    item_id = new_item()
    await stock.set_levels(item_id, {"W1": 2})

    with pytest.raises(inventory.StockShort):
        async with engine.begin() as conn:
            await inventory.lock_stock(conn, [item_id])
            await inventory.take(conn, [Pick(item_id, "W1", 3)], order_id="o1")

    assert await stock.levels(item_id) == {"W1": 2}


async def test_the_database_refuses_stock_below_zero(stock, engine, new_item):
    item_id = new_item()
    await stock.set_levels(item_id, {"W1": 2})

    # MariaDB reports a failed CHECK as error 4025, which the driver raises as an OperationalError.
    with pytest.raises(DBAPIError, match="stock_never_negative"):
        await set_directly(engine, item_id, "W1", -1)

    assert await stock.levels(item_id) == {"W1": 2}


async def test_takes_and_releases_are_movements_so_reconcile_finds_no_drift(stock, engine, new_item):
    item_id = new_item()
    await stock.set_levels(item_id, {"W1": 5})

    async with engine.begin() as conn:
        await inventory.lock_stock(conn, [item_id])
        await inventory.take(conn, [Pick(item_id, "W1", 2)], order_id="o1")
    async with engine.begin() as conn:
        await inventory.lock_stock(conn, [item_id])
        await inventory.put_back(conn, {"o1": [Pick(item_id, "W1", 1)]})

    assert await stock.levels(item_id) == {"W1": 4}
    assert await stock.reconcile(repair=False, item_ids=[item_id]) == []


async def test_concurrent_first_writers_of_an_item_leave_no_drift_and_one_crossing(
        stock, engine, producer, tail, new_item):
    item_id, events = new_item(), await tail(STOCK_CHANGED_TOPIC)

    await asyncio.gather(*(stock.set_levels(item_id, {"W1": quantity}) for quantity in (3, 7, 11)))

    assert await stock.reconcile(repair=False, item_ids=[item_id]) == []
    assert len(await stock_events(events, engine, producer, item_id, count=1)) == 1


async def test_reconcile_reports_a_direct_update_and_repair_sets_the_row_back(stock, engine, new_item):
    item_id = new_item()
    await stock.set_levels(item_id, {"W1": 5, "W2": 1})
    await set_directly(engine, item_id, "W1", 9)

    found_code, found = await shop("inventory", "reconcile", "--item", item_id)
    repair_code, repaired = await shop("inventory", "reconcile", "--item", item_id, "--repair")
    after_code, after = await shop("inventory", "reconcile", "--item", item_id)

    assert found_code == 1 and item_id in found and "+4" in found and "1 drifted row in 1 item" in found
    assert repair_code == 0 and "repaired" in repaired
    assert after_code == 0 and "no drift" in after
    assert await stock.levels(item_id) == {"W1": 5, "W2": 1}


async def test_reconcile_of_all_items_finds_the_drift(stock, engine, new_item):
    item_id = new_item()
    await stock.set_levels(item_id, {"W1": 5})
    await set_directly(engine, item_id, "W1", 2)

    code, output = await shop("inventory", "reconcile")

    assert code == 1 and item_id in output
    async with engine.connect() as conn:
        left = await conn.scalar(text("SELECT on_hand FROM stock_levels WHERE item_id = :i"), {"i": item_id})
    assert left == 2
