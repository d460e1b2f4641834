"""Unpaid orders time out: the Redis expiry event is the fast path, the sweeper the guarantee; late payments follow policy."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from orders.agents import listen_for_expiries, sweep

pytestmark = pytest.mark.stack


async def unpaid_order(shop, buyer, units: int = 1, window: int = 1) -> tuple[dict, str, str]:
    shop.state.checkout.window_seconds = window
    item_id, warehouse_id = await shop.sellable_item(units)
    return (await shop.order(buyer, [(item_id, units)])).json(), item_id, warehouse_id


async def until_status(shop, buyer, order_id: str, status: str, timeout: float = 15) -> dict:
    async with asyncio.timeout(timeout):
        while (order := await shop.status(buyer, order_id))["status"] != status:
            await asyncio.sleep(0.1)
    return order


@contextlib.asynccontextmanager
async def running(loop):
    task = asyncio.create_task(loop)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_expiry_event_names_the_order_whose_window_closed(shop):
    windows = shop.state.checkout.windows
    heard = windows.expired()
    first = asyncio.ensure_future(anext(heard))
    await asyncio.sleep(0.2)  # subscribed

    order, _, _ = await unpaid_order(shop, await shop.buyer())

    assert await asyncio.wait_for(first, 15) == order["order_id"]
    await heard.aclose()


async def test_the_listener_cancels_a_timed_out_order_and_restocks(shop):
    buyer = await shop.buyer()

    async with running(listen_for_expiries(shop.state.checkout, 100)):
        await asyncio.sleep(0.2)
        order, item_id, warehouse_id = await unpaid_order(shop, buyer, units=2)
        final = await until_status(shop, buyer, order["order_id"], "CANCELLED")

    assert final["cancel_reason"] == "payment_timeout"
    assert await shop.stock(item_id) == {warehouse_id: 2}


async def test_the_sweeper_cancels_when_the_expiry_event_never_comes(shop):
    buyer = await shop.buyer()
    order, item_id, warehouse_id = await unpaid_order(shop, buyer)
    await shop.state.checkout.windows.close([order["order_id"]])  # the key is gone: no expiry event will ever fire

    async with running(sweep(shop.state.checkout, 0.1, 100)):
        final = await until_status(shop, buyer, order["order_id"], "CANCELLED")

    assert final["cancel_reason"] == "payment_timeout"
    assert await shop.stock(item_id) == {warehouse_id: 1}


async def test_listener_and_sweeper_together_release_stock_exactly_once(shop):
    buyer = await shop.buyer()
    orders = [await unpaid_order(shop, buyer, units=1) for _ in range(5)]

    async with running(sweep(shop.state.checkout, 0.05, 2)), running(sweep(shop.state.checkout, 0.05, 3)), \
            running(listen_for_expiries(shop.state.checkout, 100)):
        for order, _, _ in orders:
            await until_status(shop, buyer, order["order_id"], "CANCELLED")

    assert [await shop.stock(item_id) for _, item_id, _ in orders] == [{w: 1} for _, _, w in orders]


async def test_a_payment_before_the_deadline_wins_over_the_sweeper(shop):
    buyer = await shop.buyer()
    order, item_id, warehouse_id = await unpaid_order(shop, buyer, window=2)

    await shop.pay(order, "succeeded")
    await asyncio.sleep(2.5)
    swept = await shop.state.checkout.expire_due(100, [order["order_id"]])

    assert swept == [] and (await shop.status(buyer, order["order_id"]))["status"] == "PLACED"
    assert await shop.stock(item_id) == {warehouse_id: 0}


async def test_a_late_payment_is_reinstated_as_a_new_placed_order_while_stock_lasts(shop):
    buyer = await shop.buyer()
    order, item_id, warehouse_id = await unpaid_order(shop, buyer, units=2)
    await asyncio.sleep(1.2)
    await shop.state.checkout.expire_due(100, [order["order_id"]])

    response = await shop.pay(order, "succeeded")

    reinstated = response.json()["order"]
    assert response.json()["result"] == "reinstate"
    assert reinstated["status"] == "PLACED" and reinstated["replaces_order_id"] == order["order_id"]
    assert (await shop.status(buyer, order["order_id"]))["status"] == "CANCELLED"
    assert await shop.stock(item_id) == {warehouse_id: 0}


async def test_a_late_payment_is_refunded_when_the_stock_is_gone(shop):
    buyer, rival = await shop.buyer(), await shop.buyer()
    order, item_id, _ = await unpaid_order(shop, buyer)
    await asyncio.sleep(1.2)
    await shop.state.checkout.expire_due(100, [order["order_id"]])
    assert (await shop.order(rival, [(item_id, 1)])).status_code == 201

    response = await shop.pay(order, "succeeded")

    assert response.json()["result"] == "refund"
    assert await settled_refund_of(shop, order) == ("late_payment", "completed")


async def test_under_the_refund_policy_a_late_payment_is_refunded(shop):
    buyer = await shop.buyer()
    shop.state.checkout.late_policy = "refund"
    order, item_id, warehouse_id = await unpaid_order(shop, buyer)
    await asyncio.sleep(1.2)
    await shop.state.checkout.expire_due(100, [order["order_id"]])

    response = await shop.pay(order, "succeeded")

    assert response.json()["result"] == "refund" and response.json()["order"]["status"] == "CANCELLED"
    assert await settled_refund_of(shop, order) == ("late_payment", "completed")
    assert await shop.stock(item_id) == {warehouse_id: 1}


async def settled_refund_of(shop, order: dict) -> tuple[str, str] | None:
    """The order's refund once the gateway was asked to pay it back (as the worker asks; a running worker may have)."""
    await shop.state.checkout.settle_refunds(10, payment_ids=[order["payment"]["payment_id"]])
    return await refund_of(shop, order)


async def refund_of(shop, order: dict) -> tuple[str, str] | None:
    from sqlalchemy import text

    async with shop.state.mysql.connect() as conn:
        row = (await conn.execute(text("SELECT reason, status FROM refunds WHERE payment_id = :p"),
                                  {"p": order["payment"]["payment_id"]})).first()
    return tuple(row) if row else None
