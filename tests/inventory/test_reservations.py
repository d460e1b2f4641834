"""On hand and reserved kept apart on the real MySQL: a count (seller or feed) sets what is on the shelf and never erases
a reservation, shipping takes units off the shelf, releasing frees them, and the movements recompute both columns."""

from __future__ import annotations

import pytest

from inventory import store as inventory
from inventory.service import Drift, FeedStock, Pick
from tests.inventory.conftest import counted, drift_directly, sell_until_refused, shop

pytestmark = pytest.mark.stack


async def reserve(engine, item_id: str, units: int, order_id: str) -> None:
    async with engine.begin() as conn:
        await inventory.lock_stock(conn, [item_id])
        await inventory.take(conn, [Pick(item_id, "W1", units)], order_id=order_id)


@pytest.mark.parametrize("recount", ["seller", "feed"])
async def test_a_stock_set_never_erases_a_reservation(stock, engine, new_item, recount):
    item_id = new_item()
    await stock.apply_feed_stock([FeedStock(item_id, 1, {"W1": 9})])
    await reserve(engine, item_id, 3, "o1")

    if recount == "seller":
        await stock.set_levels(item_id, {"W1": 10})
    else:
        await stock.apply_feed_stock([FeedStock(item_id, 2, {"W1": 10})])

    assert await stock.levels(item_id) == {"W1": 7}
    assert 3 + await sell_until_refused(engine, item_id, "W1") == 10


async def test_a_replayed_feed_statement_never_undoes_a_newer_seller_count(stock, new_item):
    item_id = new_item()
    await stock.apply_feed_stock([FeedStock(item_id, 1_700_000_000_000_000, {"W1": 10})])
    await stock.set_levels(item_id, {"W1": 4})

    # the same file ingested again: no versions in it, so the records carry a later receive time
    await stock.apply_feed_stock([FeedStock(item_id, 1_700_000_100_000_000, {"W1": 10})])

    assert await stock.levels(item_id) == {"W1": 4}
    await stock.apply_feed_stock([FeedStock(item_id, 1_700_000_200_000_000, {"W1": 6})])
    assert await stock.levels(item_id) == {"W1": 6}


async def test_shipping_takes_the_units_off_the_shelf_and_out_of_the_reservation(stock, engine, new_item):
    item_id = new_item()
    await stock.set_levels(item_id, {"W1": 5})
    await reserve(engine, item_id, 2, "o1")

    async with engine.begin() as conn:
        locked = await inventory.lock_stock(conn, [item_id])
        await inventory.ship(conn, locked, [Pick(item_id, "W1", 2)], order_id="o1")

    assert await counted(engine, item_id) == {"W1": (3, 0)}
    assert await stock.levels(item_id) == {"W1": 3}


async def test_releasing_frees_the_reservation_and_keeps_the_recount(stock, engine, new_item):
    item_id = new_item()
    await stock.set_levels(item_id, {"W1": 5})
    await reserve(engine, item_id, 2, "o1")
    await stock.set_levels(item_id, {"W1": 5})

    async with engine.begin() as conn:
        await inventory.lock_stock(conn, [item_id])
        await inventory.put_back(conn, {"o1": [Pick(item_id, "W1", 2)]})

    assert await counted(engine, item_id) == {"W1": (5, 0)}


async def test_reconcile_finds_no_drift_after_counts_reservations_shipments_and_releases(stock, engine, new_item):
    item_id = new_item()
    await stock.apply_feed_stock([FeedStock(item_id, 1, {"W1": 10})])
    await reserve(engine, item_id, 3, "o1")
    await reserve(engine, item_id, 2, "o2")
    async with engine.begin() as conn:
        locked = await inventory.lock_stock(conn, [item_id])
        await inventory.ship(conn, locked, [Pick(item_id, "W1", 3)], order_id="o1")
    await stock.set_levels(item_id, {"W1": 6})
    async with engine.begin() as conn:
        await inventory.lock_stock(conn, [item_id])
        await inventory.put_back(conn, {"o2": [Pick(item_id, "W1", 2)]})
    await reserve(engine, item_id, 1, "o3")

    assert await stock.reconcile(repair=False, item_ids=[item_id]) == []
    assert await counted(engine, item_id) == {"W1": (6, 1)}


async def test_reconcile_finds_and_repairs_a_drift_of_each_column(stock, engine, new_item):
    item_id = new_item()
    await stock.set_levels(item_id, {"W1": 5})
    await reserve(engine, item_id, 2, "o1")
    await drift_directly(engine, item_id, "W1", on_hand=9, reserved=1)

    found = await stock.reconcile(repair=True, item_ids=[item_id])
    code, output = await shop("inventory", "reconcile", "--item", item_id)

    assert found == [Drift(item_id, "W1", 9, 5, "on_hand"), Drift(item_id, "W1", 1, 2, "reserved")]
    assert code == 0 and "no drift" in output
    assert await counted(engine, item_id) == {"W1": (5, 2)}


async def test_the_reconcile_report_names_the_drifted_column(stock, engine, new_item):
    item_id = new_item()
    await stock.set_levels(item_id, {"W1": 5})
    await reserve(engine, item_id, 2, "o1")
    await drift_directly(engine, item_id, "W1", on_hand=5, reserved=0)

    code, output = await shop("inventory", "reconcile", "--item", item_id)

    assert code == 1 and "reserved" in output and "-2" in output and "1 drifted row in 1 item" in output
