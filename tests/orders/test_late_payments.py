"""A late payment settles once: it reinstates the timed-out order or is refunded, and a repeated success (a new event_id
for the same payment) is answered with what was done, never a second order or a refund on top; refunds are completed
through the gateway."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from orders.payments import GatewayUnavailable, SimulatedGateway

pytestmark = pytest.mark.stack


@pytest.mark.parametrize("spare", [0, 3])  # stock left after the reinstatement: none, or enough for another
async def test_a_second_success_for_a_reinstated_order_is_answered_idempotently(shop, spare):
    buyer = await shop.buyer()
    order, _, _ = await shop.timed_out(buyer, stocked=2 + spare, ordered=2)
    first = await shop.pay(order, "succeeded")

    second = await shop.pay(order, "succeeded")

    assert first.json()["result"] == "reinstate"
    assert second.status_code == 200 and second.json()["result"] == "already_reinstated"
    assert second.json()["order"]["order_id"] == first.json()["order"]["order_id"]
    assert await shop.replacements(order) == ["PLACED"]
    assert await shop.refund_of(order) is None


async def test_two_late_successes_at_once_reinstate_the_order_once(shop):
    buyer = await shop.buyer()
    order, _, _ = await shop.timed_out(buyer, stocked=5, ordered=1)

    answers = await asyncio.gather(shop.pay(order, "succeeded"), shop.pay(order, "succeeded"))

    assert [a.status_code for a in answers] == [200, 200]
    assert sorted(a.json()["result"] for a in answers) == ["already_reinstated", "reinstate"]
    assert await shop.replacements(order) == ["PLACED"] and await shop.refund_of(order) is None


async def test_a_second_success_after_a_late_payment_was_refunded_reinstates_nothing(shop):
    buyer, rival = await shop.buyer(), await shop.buyer()
    order, item_id, _ = await shop.timed_out(buyer, stocked=1, ordered=1)
    rivals = (await shop.order(rival, [(item_id, 1)])).json()
    first = await shop.pay(order, "succeeded")
    await shop.http.post(f"/v1/orders/{rivals['order_id']}/cancel", headers=rival.headers)  # the unit is back

    second = await shop.pay(order, "succeeded")

    assert first.json()["result"] == "refund"
    assert second.status_code == 200 and second.json()["result"] == "already_refunded"
    assert await shop.replacements(order) == [] and (await shop.picture(item_id))[0]["available"] == 1


async def test_a_cancelled_paid_orders_refund_reaches_completed(shop):
    buyer = await shop.buyer()
    item_id, _ = await shop.sellable_item(3)
    order = (await shop.order(buyer, [(item_id, 1)])).json()
    await shop.pay(order, "succeeded")
    await shop.http.post(f"/v1/orders/{order['order_id']}/cancel", headers=buyer.headers)

    await shop.state.checkout.settle_refunds(10, payment_ids=[order["payment"]["payment_id"]])

    assert await shop.refund_of(order) == ("customer", "completed")


class DecliningGateway(SimulatedGateway):
    async def refund(self, payment_id: str, amount: Decimal, currency: str) -> str:
        return "failed"


class UnreachableGateway(SimulatedGateway):
    async def refund(self, payment_id: str, amount: Decimal, currency: str) -> str:
        raise GatewayUnavailable("no answer within the timeout")


@pytest.mark.parametrize("gateway, status", [(DecliningGateway, "failed"), (UnreachableGateway, "pending")])
async def test_a_refund_the_gateway_declines_fails_and_one_it_cannot_hear_stays_pending(shop, gateway, status):
    buyer = await shop.buyer()
    item_id, _ = await shop.sellable_item(3)
    order = (await shop.order(buyer, [(item_id, 1)])).json()
    await shop.pay(order, "succeeded")
    await shop.http.post(f"/v1/orders/{order['order_id']}/cancel", headers=buyer.headers)
    shop.state.checkout.gateway = gateway("not used")

    await shop.state.checkout.settle_refunds(10, payment_ids=[order["payment"]["payment_id"]])

    assert await shop.refund_of(order) == ("customer", status)
