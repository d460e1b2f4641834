"""Every cart and wishlist change reaches Kafka through the outbox, keyed by the shopper."""

from __future__ import annotations

import json

import pytest

from cart.events import CART_TOPIC, WISHLIST_TOPIC
from cart.store import CartStore, clear_cart
from tests.cart.conftest import relayed
from tests.conftest import sign_up

pytestmark = pytest.mark.stack


def of(shopper):
    return lambda message: message.key == shopper.user_id.encode()


async def test_cart_changes_are_published_in_order(client, new_item, mysql, producer, tail):
    shopper, shirt = sign_up(client), await new_item()
    consumer = await tail(CART_TOPIC)
    path = f"/v1/cart/items/{shirt['item_id']}"

    client.put(path, headers=shopper.headers, json={"quantity": 1})
    client.put(path, headers=shopper.headers, json={"quantity": 4})
    client.delete(path, headers=shopper.headers)

    events = [json.loads(m.value) for m in await relayed(mysql, producer, consumer, of(shopper), 3)]
    assert [(e["type"], e["quantity"], e["previous_quantity"]) for e in events] == [
        ("item_added", 1, 0), ("quantity_changed", 4, 1), ("item_removed", 0, 4)]
    assert {e["user_id"] for e in events} == {shopper.user_id} and {e["item_id"] for e in events} == {shirt["item_id"]}
    assert len({e["event_id"] for e in events}) == 3


async def test_wishlist_changes_are_published(client, new_item, mysql, producer, tail):
    shopper, lamp = sign_up(client), await new_item()
    consumer = await tail(WISHLIST_TOPIC)

    client.put(f"/v1/wishlist/items/{lamp['item_id']}", headers=shopper.headers)
    client.delete(f"/v1/wishlist/items/{lamp['item_id']}", headers=shopper.headers)

    events = [json.loads(m.value) for m in await relayed(mysql, producer, consumer, of(shopper), 2)]
    assert [(e["type"], e["item_id"]) for e in events] == [("item_added", lamp["item_id"]),
                                                          ("item_removed", lamp["item_id"])]


async def test_lines_taken_by_an_order_are_published_as_removed_for_the_order(client, mysql, producer, tail):
    shopper, carts = sign_up(client), CartStore(mysql)
    await carts.set_quantity(shopper.user_id, "item-a", 2)
    await carts.set_quantity(shopper.user_id, "item-b", 1)
    consumer = await tail(CART_TOPIC)

    async with mysql.begin() as conn:
        await clear_cart(conn, shopper.user_id)

    def removal(message) -> bool:
        return of(shopper)(message) and json.loads(message.value)["type"] == "item_removed"

    removed = [json.loads(m.value) for m in await relayed(mysql, producer, consumer, removal, 2)]
    assert [(e["item_id"], e["previous_quantity"], e["reason"]) for e in removed] == [("item-a", 2, "ordered"),
                                                                                     ("item-b", 1, "ordered")]
