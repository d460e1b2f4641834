"""Order -> outbox -> `inventory.stock_changed` -> search: the last unit sold hides the item, a cancellation shows it again."""

from __future__ import annotations

import asyncio

import pytest

from tests.orders.conftest import PINCODE

pytestmark = pytest.mark.stack


async def search_hits(shop, category: str) -> list[str]:
    response = await shop.http.get("/v1/search", params={"category": category, "pincode": PINCODE})
    return [hit["item_id"] for hit in response.json()["items"]]


async def until_hits(shop, category: str, expected: list[str], timeout: float = 60) -> None:
    async with asyncio.timeout(timeout):
        while await search_hits(shop, category) != expected:
            await asyncio.sleep(0.3)


async def test_the_last_unit_sold_leaves_search_and_a_cancellation_brings_it_back(running_worker, shop, unique_name):
    buyer = await shop.buyer()
    item_id, _ = await shop.sellable_item(1, category=unique_name, searchable=True)
    await until_hits(shop, unique_name, [item_id])

    order = (await shop.order(buyer, [(item_id, 1)])).json()
    await until_hits(shop, unique_name, [])
    await shop.http.post(f"/v1/orders/{order['order_id']}/cancel", headers=buyer.headers)

    await until_hits(shop, unique_name, [item_id])


async def test_every_transition_reaches_orders_events_in_order(running_worker, shop, tail):
    from orders.events import ORDERS_TOPIC, OrderEvent
    from tests.inbound.conftest import read_matching

    events = await tail(ORDERS_TOPIC)
    buyer = await shop.buyer()
    item_id, _ = await shop.sellable_item(2)
    order = (await shop.order(buyer, [(item_id, 1)])).json()
    await shop.pay(order, "succeeded")
    await shop.http.post(f"/v1/orders/{order['order_id']}/ship", headers=shop.operator())

    messages = await read_matching(events, lambda m: m.key == order["order_id"].encode(), count=3, timeout=60)

    published = [OrderEvent.model_validate_json(m.value) for m in messages]
    assert [e.type for e in published] == ["order_created", "order_placed", "order_shipped"]
    assert published[1].lines[0].item_id == item_id and len({e.event_id for e in published}) == 3
