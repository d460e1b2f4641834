"""The order page's development gateway: a declined payment cancels the order, and walking away leaves it waiting
for the payment window to close. Served in-process, the shopper's token in the page's cookie."""

from __future__ import annotations

import pytest

from storefront.session import SHOPPER_COOKIE

pytestmark = pytest.mark.stack


async def placed_from_cart(shop) -> str:
    """The order id a signed-in shopper's checkout form placed from a one-line cart."""
    buyer = await shop.buyer()
    item_id, _ = await shop.sellable_item(3)
    shop.http.cookies.set(SHOPPER_COOKIE, buyer.headers["Authorization"].removeprefix("Bearer "))
    added = await shop.http.post("/cart/items", data={"item_id": item_id, "quantity": "1"})
    assert added.status_code == 303, added.text
    placed = await shop.http.post("/checkout", data={"pincode": "560001", "checkout_key": "page-test-" + item_id})
    assert placed.status_code == 303, placed.text
    return placed.headers["location"].rsplit("/", 1)[-1]


async def test_a_declined_payment_shows_the_order_cancelled(shop):
    order_id = await placed_from_cart(shop)

    answered = await shop.http.post(f"/orders/{order_id}/pay", data={"outcome": "failed"})
    shown = await shop.http.get(answered.headers["location"])

    assert "The gateway answered: payment failed." in shown.text
    assert "<strong>CANCELLED</strong> (payment failed)" in shown.text


async def test_walking_away_leaves_the_order_waiting_with_its_countdown(shop):
    order_id = await placed_from_cart(shop)

    answered = await shop.http.post(f"/orders/{order_id}/pay", data={"outcome": "never"})
    shown = await shop.http.get(answered.headers["location"])
    countdown = await shop.http.get(f"/orders/{order_id}/payment")

    assert "The gateway will not answer" in shown.text and "<strong>CREATED</strong>" in shown.text
    assert countdown.status_code == 200 and 'id="countdown"' in countdown.text
