"""The shopper's own cart and wishlist through the API, on real MySQL and the MongoDB item store."""

from __future__ import annotations

import pytest

from tests.conftest import sign_up

pytestmark = pytest.mark.stack


def put(client, shopper, item_id: str, quantity: int):
    return client.put(f"/v1/cart/items/{item_id}", headers=shopper.headers, json={"quantity": quantity})


def test_new_shopper_has_an_empty_cart(client):
    shopper = sign_up(client)

    cart = client.get("/v1/cart", headers=shopper.headers).json()

    assert cart["lines"] == [] and cart["total"] == {"amount": "0.00", "currency": "INR"}


async def test_added_item_is_priced_from_the_item_store(client, new_item):
    shopper = sign_up(client)
    shirt = await new_item(title="Linen shirt", price="19.99")

    response = put(client, shopper, shirt["item_id"], 2)

    line = response.json()["lines"][0]
    assert response.status_code == 200 and line["title"] == "Linen shirt" and line["quantity"] == 2
    assert line["unit_price"] == {"amount": "19.99", "currency": "INR"}
    assert line["line_total"] == {"amount": "39.98", "currency": "INR"}


async def test_changed_quantity_and_second_item_update_the_total(client, new_item):
    shopper = sign_up(client)
    shirt, socks = await new_item(price="19.99"), await new_item(price="4.50")
    put(client, shopper, shirt["item_id"], 1)

    put(client, shopper, shirt["item_id"], 3)
    put(client, shopper, socks["item_id"], 2)

    cart = client.get("/v1/cart", headers=shopper.headers).json()
    assert [(line["item_id"], line["quantity"]) for line in cart["lines"]] == [(shirt["item_id"], 3),
                                                                              (socks["item_id"], 2)]
    assert cart["total"] == {"amount": "68.97", "currency": "INR"} and cart["item_count"] == 5


async def test_removed_item_leaves_the_cart(client, new_item):
    shopper = sign_up(client)
    shirt = await new_item()
    put(client, shopper, shirt["item_id"], 1)

    response = client.delete(f"/v1/cart/items/{shirt['item_id']}", headers=shopper.headers)

    assert response.status_code == 200 and response.json()["lines"] == []
    again = client.delete(f"/v1/cart/items/{shirt['item_id']}", headers=shopper.headers)
    assert again.status_code == 404 and again.json()["error"] == "not_in_cart"


def test_unknown_item_cannot_be_added(client):
    shopper = sign_up(client)

    response = put(client, shopper, "no-such-item", 1)

    assert response.status_code == 404 and response.json()["error"] == "item_not_found"
    assert client.get("/v1/cart", headers=shopper.headers).json()["lines"] == []


async def test_deleted_item_cannot_be_added(client, new_item, change_item):
    shopper = sign_up(client)
    shirt = await new_item()
    await change_item(shirt["item_id"], version=2, deleted=True)

    response = put(client, shopper, shirt["item_id"], 1)

    assert response.status_code == 404 and response.json()["error"] == "item_not_found"


async def test_cart_shows_the_current_price_and_marks_an_item_deleted_since(client, new_item, change_item):
    shopper = sign_up(client)
    shirt, lamp = await new_item(price="19.99"), await new_item(price="50.00")
    put(client, shopper, shirt["item_id"], 1)
    put(client, shopper, lamp["item_id"], 1)

    await change_item(shirt["item_id"], version=2, price="25.00")
    await change_item(lamp["item_id"], version=2, deleted=True)

    cart = client.get("/v1/cart", headers=shopper.headers).json()
    assert cart["lines"][0]["unit_price"]["amount"] == "25.00" and cart["lines"][1]["available"] is False
    assert cart["total"] == {"amount": "25.00", "currency": "INR"}


@pytest.mark.parametrize("quantity", [0, 100])
async def test_quantity_out_of_range_is_refused(client, new_item, quantity):
    shopper = sign_up(client)
    shirt = await new_item()

    response = put(client, shopper, shirt["item_id"], quantity)

    assert response.status_code == 422 and response.json()["error"] == "invalid_quantity"


def test_cart_needs_a_token(client):
    response = client.get("/v1/cart")

    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


async def test_shopper_sees_and_changes_only_their_own_cart(client, new_item):
    alice, bob = sign_up(client), sign_up(client)
    shirt = await new_item()
    put(client, alice, shirt["item_id"], 2)

    bobs_cart = client.get("/v1/cart", headers=bob.headers).json()
    bobs_delete = client.delete(f"/v1/cart/items/{shirt['item_id']}", headers=bob.headers)

    assert bobs_cart["lines"] == [] and bobs_delete.status_code == 404
    assert client.get("/v1/cart", headers=alice.headers).json()["lines"][0]["quantity"] == 2


async def test_wishlist_holds_each_item_once_with_its_price(client, new_item):
    shopper = sign_up(client)
    lamp = await new_item(title="Desk lamp", price="50.00")

    client.put(f"/v1/wishlist/items/{lamp['item_id']}", headers=shopper.headers)
    response = client.put(f"/v1/wishlist/items/{lamp['item_id']}", headers=shopper.headers)

    assert response.status_code == 200 and len(response.json()["items"]) == 1
    entry = client.get("/v1/wishlist", headers=shopper.headers).json()["items"][0]
    assert entry["title"] == "Desk lamp" and entry["price"] == {"amount": "50.00", "currency": "INR"}


async def test_removed_wish_leaves_the_wishlist(client, new_item):
    shopper = sign_up(client)
    lamp = await new_item()
    client.put(f"/v1/wishlist/items/{lamp['item_id']}", headers=shopper.headers)

    response = client.delete(f"/v1/wishlist/items/{lamp['item_id']}", headers=shopper.headers)

    assert response.status_code == 200 and response.json()["items"] == []
    again = client.delete(f"/v1/wishlist/items/{lamp['item_id']}", headers=shopper.headers)
    assert again.status_code == 404 and again.json()["error"] == "not_in_wishlist"


async def test_unknown_item_cannot_be_wished_for_and_wishlists_are_private(client, new_item):
    alice, bob = sign_up(client), sign_up(client)
    lamp = await new_item()
    client.put(f"/v1/wishlist/items/{lamp['item_id']}", headers=alice.headers)

    unknown = client.put("/v1/wishlist/items/no-such-item", headers=alice.headers)

    assert unknown.status_code == 404 and unknown.json()["error"] == "item_not_found"
    assert client.get("/v1/wishlist", headers=bob.headers).json()["items"] == []
