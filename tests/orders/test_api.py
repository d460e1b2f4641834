"""Placing, paying, cancelling and moving orders over HTTP on the real stack."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.orders.conftest import PINCODE, shop_with

pytestmark = pytest.mark.stack


async def test_an_order_reserves_stock_and_awaits_payment(shop):
    buyer = await shop.buyer()
    item_id, warehouse_id = await shop.sellable_item(5, price="250.00")

    response = await shop.order(buyer, [(item_id, 2)])

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "CREATED" and order["total"] == {"amount": "500.00", "currency": "INR"}
    assert order["lines"][0]["warehouse_id"] == warehouse_id and order["lines"][0]["eta_hours"] > 0
    assert order["payment"]["pay_url"].endswith(order["order_id"])
    assert await shop.stock(item_id) == {warehouse_id: 3}
    assert await shop.state.checkout.windows.is_open(order["order_id"])


async def test_last_unit_goes_to_exactly_one_of_200_concurrent_buyers(shop):
    item_id, warehouse_id = await shop.sellable_item(10)
    buyers = [await shop.buyer() for _ in range(200)]

    responses = await asyncio.gather(*(shop.order(buyer, [(item_id, 1)]) for buyer in buyers))

    codes = [r.status_code for r in responses]
    assert codes.count(201) == 10 and codes.count(409) == 190, sorted(set(codes))
    assert all(r.json()["error"] == "out_of_stock" and r.json()["items"] == [item_id]
               for r in responses if r.status_code == 409)
    assert await shop.stock(item_id) == {warehouse_id: 0}


async def test_out_of_stock_reserves_nothing_for_any_line(shop):
    buyer = await shop.buyer()
    plenty, plenty_warehouse = await shop.sellable_item(5)
    scarce, _ = await shop.sellable_item(1)

    response = await shop.order(buyer, [(plenty, 1), (scarce, 2)])

    assert response.status_code == 409
    assert response.json()["items"] == [scarce]
    assert await shop.stock(plenty) == {plenty_warehouse: 5}


async def test_the_same_idempotency_key_returns_the_same_order(shop):
    buyer = await shop.buyer()
    item_id, warehouse_id = await shop.sellable_item(5)
    key = uuid.uuid4().hex

    first, second = await asyncio.gather(shop.order(buyer, [(item_id, 1)], key=key),
                                         shop.order(buyer, [(item_id, 1)], key=key))
    reused = await shop.order(buyer, [(item_id, 2)], key=key)

    assert {first.status_code, second.status_code} == {201}
    assert first.json()["order_id"] == second.json()["order_id"]
    assert await shop.stock(item_id) == {warehouse_id: 4}
    assert reused.status_code == 422 and reused.json()["error"] == "idempotency_key_reused"


async def test_an_order_needs_an_idempotency_key_and_a_known_item(shop):
    buyer = await shop.buyer()

    unkeyed = await shop.http.post("/v1/orders", json={"pincode": PINCODE, "lines": [{"item_id": "x", "quantity": 1}]},
                                   headers=buyer.headers)
    unknown = await shop.order(buyer, [("no-such-item", 1)])

    assert unkeyed.status_code == 400 and unkeyed.json()["error"] == "idempotency_key_required"
    assert unknown.status_code == 404 and unknown.json()["items"] == ["no-such-item"]


async def test_an_item_no_stocking_warehouse_can_deliver_is_422(shop):
    buyer = await shop.buyer()
    item_id, _ = await shop.sellable_item(5)
    unserved = "999999"  # not a pincode of the sample network

    response = await shop.order(buyer, [(item_id, 1)], pincode=unserved)

    assert not (await shop.state.serviceability.deliverable_from(unserved))["small"]
    assert response.status_code == 422 and response.json()["error"] == "not_deliverable"


async def test_payment_succeeded_places_the_order_and_closes_the_window(shop):
    buyer = await shop.buyer()
    item_id, warehouse_id = await shop.sellable_item(5)
    order = (await shop.order(buyer, [(item_id, 1)])).json()

    response = await shop.pay(order, "succeeded")

    assert response.status_code == 200 and response.json()["result"] == "place"
    assert (await shop.status(buyer, order["order_id"]))["status"] == "PLACED"
    assert not await shop.state.checkout.windows.is_open(order["order_id"])
    assert await shop.stock(item_id) == {warehouse_id: 4}


async def test_payment_failed_cancels_and_releases_stock(shop):
    buyer = await shop.buyer()
    item_id, warehouse_id = await shop.sellable_item(5)
    order = (await shop.order(buyer, [(item_id, 2)])).json()

    await shop.pay(order, "failed")

    final = await shop.status(buyer, order["order_id"])
    assert (final["status"], final["cancel_reason"]) == ("CANCELLED", "payment_failed")
    assert await shop.stock(item_id) == {warehouse_id: 5}
    assert not await shop.state.checkout.windows.is_open(order["order_id"])


async def test_a_replayed_webhook_changes_nothing_and_a_bad_signature_is_401(shop):
    buyer = await shop.buyer()
    item_id, warehouse_id = await shop.sellable_item(5)
    order = (await shop.order(buyer, [(item_id, 1)])).json()
    event_id = uuid.uuid4().hex

    forged = await shop.pay(order, "failed", secret="not-the-secret")
    first = await shop.pay(order, "failed", event_id=event_id)
    replay = await shop.pay(order, "failed", event_id=event_id)

    assert forged.status_code == 401 and forged.json()["error"] == "bad_signature"
    assert first.json()["result"] == "cancel" and replay.json()["result"] == "duplicate:cancel"
    assert await shop.stock(item_id) == {warehouse_id: 5}


async def test_a_payment_for_another_amount_is_refused(shop):
    buyer = await shop.buyer()
    item_id, _ = await shop.sellable_item(5)
    order = (await shop.order(buyer, [(item_id, 1)])).json()

    response = await shop.pay({**order, "total": {"amount": "1.00", "currency": "INR"}}, "succeeded")

    assert response.status_code == 422 and response.json()["error"] == "payment_mismatch"
    assert (await shop.status(buyer, order["order_id"]))["status"] == "CREATED"


async def test_the_lifecycle_runs_placed_shipped_delivered_and_refuses_other_steps(shop):
    buyer = await shop.buyer()
    item_id, _ = await shop.sellable_item(5)
    order = (await shop.order(buyer, [(item_id, 1)])).json()
    path = f"/v1/orders/{order['order_id']}"

    early = await shop.http.post(f"{path}/ship", headers=shop.operator())
    await shop.pay(order, "succeeded")
    shipped = await shop.http.post(f"{path}/ship", headers=shop.operator())
    late_cancel = await shop.http.post(f"{path}/cancel", headers=buyer.headers)
    delivered = await shop.http.post(f"{path}/deliver", headers=shop.operator())
    no_key = await shop.http.post(f"{path}/deliver")

    assert early.status_code == 409 and early.json()["error"] == "invalid_transition"
    assert shipped.json()["status"] == "SHIPPED" and late_cancel.status_code == 409
    assert delivered.json()["status"] == "DELIVERED" and no_key.status_code == 401


async def test_a_shopper_cancels_before_shipping_and_the_stock_returns(shop):
    buyer = await shop.buyer()
    item_id, warehouse_id = await shop.sellable_item(3)
    order = (await shop.order(buyer, [(item_id, 3)])).json()
    await shop.pay(order, "succeeded")

    response = await shop.http.post(f"/v1/orders/{order['order_id']}/cancel", headers=buyer.headers)

    assert (response.json()["status"], response.json()["cancel_reason"]) == ("CANCELLED", "customer")
    assert await shop.stock(item_id) == {warehouse_id: 3}


async def test_shopper_a_cannot_see_or_cancel_shopper_bs_orders(shop):
    a, b = await shop.buyer(), await shop.buyer()
    item_id, _ = await shop.sellable_item(5)
    order = (await shop.order(b, [(item_id, 1)])).json()

    seen = await shop.http.get(f"/v1/orders/{order['order_id']}", headers=a.headers)
    cancelled = await shop.http.post(f"/v1/orders/{order['order_id']}/cancel", headers=a.headers)
    listed = await shop.http.get("/v1/orders", headers=a.headers)

    assert seen.status_code == 404 and cancelled.status_code == 404
    assert listed.json()["orders"] == []
    assert (await shop.status(b, order["order_id"]))["status"] == "CREATED"


async def test_own_orders_are_listed_newest_first(shop):
    buyer = await shop.buyer()
    item_id, _ = await shop.sellable_item(5)
    first = (await shop.order(buyer, [(item_id, 1)])).json()
    second = (await shop.order(buyer, [(item_id, 1)])).json()

    listed = (await shop.http.get("/v1/orders", params={"size": 10}, headers=buyer.headers)).json()["orders"]

    assert [o["order_id"] for o in listed] == [second["order_id"], first["order_id"]]


async def test_an_order_from_the_cart_empties_the_cart(shop):
    buyer = await shop.buyer()
    item_id, warehouse_id = await shop.sellable_item(5)
    await shop.http.put(f"/v1/cart/items/{item_id}", json={"quantity": 2}, headers=buyer.headers)

    response = await shop.http.post("/v1/orders", json={"pincode": PINCODE, "from_cart": True},
                                    headers={**buyer.headers, "Idempotency-Key": uuid.uuid4().hex})

    assert response.status_code == 201 and response.json()["lines"][0]["quantity"] == 2
    assert (await shop.http.get("/v1/cart", headers=buyer.headers)).json()["lines"] == []
    assert await shop.stock(item_id) == {warehouse_id: 3}


async def test_replaying_an_order_from_the_cart_returns_the_same_order(shop):
    buyer = await shop.buyer()
    item_id, warehouse_id = await shop.sellable_item(5)
    await shop.http.put(f"/v1/cart/items/{item_id}", json={"quantity": 2}, headers=buyer.headers)
    key = uuid.uuid4().hex

    first, second = await asyncio.gather(shop.order_cart(buyer, key=key), shop.order_cart(buyer, key=key))
    later = await shop.order_cart(buyer, key=key)

    assert [first.status_code, second.status_code, later.status_code] == [201, 201, 201]
    assert first.json()["order_id"] == second.json()["order_id"] == later.json()["order_id"]
    assert later.headers["Idempotent-Replayed"] == "true"
    assert await shop.stock(item_id) == {warehouse_id: 3}


async def test_without_the_simulator_its_route_is_404_and_orders_carry_no_pay_url(settings, sample_network):
    async with shop_with(settings, payment_simulator=False) as shop:
        buyer = await shop.buyer()
        item_id, _ = await shop.sellable_item(5)
        order = (await shop.order(buyer, [(item_id, 1)])).json()

        simulated = await shop.http.post(f"/v1/payments/simulator/{order['order_id']}", json={"outcome": "succeeded"},
                                         headers=buyer.headers)

        assert "pay_url" not in order["payment"] and order["payment"]["payment_id"]
        assert simulated.status_code == 404
        assert (await shop.status(buyer, order["order_id"]))["status"] == "CREATED"


async def test_a_non_ascii_signature_on_a_body_that_is_not_json_is_401_bad_signature(shop):
    response = await shop.http.post("/v1/payments/webhook", content=b"not json at all",
                                    headers={"X-Signature": "sha256=é".encode(),
                                             "content-type": "application/json"})

    assert response.status_code == 401 and response.json()["error"] == "bad_signature"


async def test_the_simulator_pays_only_the_shoppers_own_order_with_a_signed_answer(shop):
    buyer, stranger = await shop.buyer(), await shop.buyer()
    item_id, _ = await shop.sellable_item(5)
    order = (await shop.order(buyer, [(item_id, 1)])).json()

    foreign = await shop.http.post(order["payment"]["pay_url"], json={"outcome": "succeeded"}, headers=stranger.headers)
    paid = await shop.http.post(order["payment"]["pay_url"], json={"outcome": "succeeded"}, headers=buyer.headers)

    assert foreign.status_code == 404 and foreign.json()["error"] == "order_not_found"
    assert paid.status_code == 200 and paid.json()["order"]["status"] == "PLACED"
