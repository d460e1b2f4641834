"""The cart store on real MySQL: what the orders folder calls for an order from the cart, and one shopper's
concurrent changes."""

from __future__ import annotations

import asyncio

import pytest

from cart.service import UnknownShopper
from cart.store import CartStore, cart_lines, clear_cart
from tests.conftest import sign_up

pytestmark = pytest.mark.stack


async def test_cart_lines_are_read_from_the_engine_or_inside_a_transaction(client, mysql):
    shopper, carts = sign_up(client), CartStore(mysql)
    await carts.set_quantity(shopper.user_id, "item-a", 2)
    await carts.set_quantity(shopper.user_id, "item-b", 1)

    from_engine = await cart_lines(mysql, shopper.user_id)
    async with mysql.begin() as conn:
        in_transaction = await cart_lines(conn, shopper.user_id)

    assert from_engine == in_transaction == [("item-a", 2), ("item-b", 1)]


async def test_cleared_cart_is_empty_once_the_order_commits(client, mysql):
    shopper, carts = sign_up(client), CartStore(mysql)
    await carts.set_quantity(shopper.user_id, "item-a", 2)

    async with mysql.begin() as conn:
        await clear_cart(conn, shopper.user_id)

    assert await cart_lines(mysql, shopper.user_id) == []


async def test_cart_cleared_in_a_rolled_back_order_keeps_its_lines(client, mysql):
    shopper, carts = sign_up(client), CartStore(mysql)
    await carts.set_quantity(shopper.user_id, "item-a", 2)

    with pytest.raises(RuntimeError):
        async with mysql.begin() as conn:
            await clear_cart(conn, shopper.user_id)
            raise RuntimeError("the order failed")

    assert await cart_lines(mysql, shopper.user_id) == [("item-a", 2)]


async def test_concurrent_changes_of_one_line_all_succeed_and_leave_one_line(client, mysql):
    shopper, carts = sign_up(client), CartStore(mysql)

    changes = await asyncio.gather(*(carts.set_quantity(shopper.user_id, "item-a", q) for q in range(1, 21)))

    assert changes.count("item_added") == 1 and changes.count("quantity_changed") == 19
    assert len(await carts.lines(shopper.user_id)) == 1


async def test_cart_of_an_unknown_shopper_cannot_change(mysql):
    with pytest.raises(UnknownShopper):
        await CartStore(mysql).set_quantity("no-such-shopper", "item-a", 1)
