"""The cart and wishlist rules without services: quantity bounds, size limits, change types, pricing."""

from __future__ import annotations

from datetime import datetime

import pytest

from cart.service import (
    MAX_CART_LINES,
    InvalidQuantity,
    Line,
    ListFull,
    cart_change,
    check_quantity,
    check_room,
    priced_cart,
    wishlist_view,
)

pytestmark = pytest.mark.unit
ADDED = datetime(2024, 5, 1, 10, 0, 0)


def item(item_id: str, amount: str = "19.99", currency: str = "INR", title: str = "Cotton shirt") -> dict:
    return {"item_id": item_id, "title": title, "price": {"amount": amount, "currency": currency}}


@pytest.mark.parametrize("quantity", [1, 42, 99])
def test_quantities_from_one_to_ninety_nine_are_allowed(quantity):
    check_quantity(quantity)


@pytest.mark.parametrize("quantity", [0, -1, 100])
def test_quantities_outside_one_to_ninety_nine_are_refused(quantity):
    with pytest.raises(InvalidQuantity):
        check_quantity(quantity)


def test_a_full_cart_takes_no_new_item():
    check_room(MAX_CART_LINES - 1, MAX_CART_LINES)

    with pytest.raises(ListFull):
        check_room(MAX_CART_LINES, MAX_CART_LINES)


@pytest.mark.parametrize("previous, quantity, change", [(0, 2, "item_added"), (2, 3, "quantity_changed"),
                                                        (3, 0, "item_removed"), (2, 2, None)])
def test_each_change_of_a_line_is_named_and_no_change_is_none(previous, quantity, change):
    assert cart_change(previous, quantity) == change


def test_cart_is_priced_line_by_line_at_current_prices():
    lines = [Line("a", 2, ADDED), Line("b", 1, ADDED)]

    cart = priced_cart(lines, {"a": item("a", "19.99"), "b": item("b", "5.50")})

    assert [line["line_total"]["amount"] for line in cart["lines"]] == ["39.98", "5.50"]
    assert cart["total"] == {"amount": "45.48", "currency": "INR"} and cart["item_count"] == 3


def test_line_of_a_deleted_item_is_unavailable_and_left_out_of_the_total():
    cart = priced_cart([Line("gone", 1, ADDED), Line("a", 1, ADDED)], {"a": item("a", "10.00")})

    gone = cart["lines"][0]
    assert gone["available"] is False and gone["unit_price"] is None and gone["line_total"] is None
    assert cart["total"] == {"amount": "10.00", "currency": "INR"}


def test_empty_cart_totals_zero():
    cart = priced_cart([], {})

    assert cart["lines"] == [] and cart["total"] == {"amount": "0.00", "currency": "INR"} and cart["totals"] == []


def test_cart_in_two_currencies_has_a_total_per_currency_and_no_single_total():
    items = {"a": item("a", "10.00"), "b": item("b", "3", "JPY")}

    cart = priced_cart([Line("a", 1, ADDED), Line("b", 2, ADDED)], items)

    assert cart["total"] is None
    assert cart["totals"] == [{"amount": "10.00", "currency": "INR"}, {"amount": "6", "currency": "JPY"}]


def test_wishlist_shows_current_price_and_marks_deleted_items():
    shown = wishlist_view([Line("a", 1, ADDED), Line("gone", 1, ADDED)], {"a": item("a", "7.25")})

    assert shown["items"][0]["price"] == {"amount": "7.25", "currency": "INR"}
    assert shown["items"][1]["available"] is False and shown["items"][1]["added_at"] == "2024-05-01T10:00:00.000000Z"
