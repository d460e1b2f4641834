"""Order rules without services: pricing, warehouse choice, the status machine, what a payment outcome does."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orders import service
from orders.service import PricedLine

pytestmark = pytest.mark.unit


def line(item_id: str = "i1", quantity: int = 1, size_class: str = "small") -> PricedLine:
    return PricedLine(item_id, "s1", "Kettle", size_class, quantity, Decimal("10.00"), "INR")


def item(item_id: str, amount: str = "10.00", currency: str = "INR") -> dict:
    return {"item_id": item_id, "seller_id": "s1", "title": "Kettle", "size_class": "small",
            "price": {"amount": amount, "currency": currency}}


def test_the_same_item_twice_is_one_line_with_both_quantities():
    assert service.merged_quantities([("a", 1), ("b", 2), ("a", 3)]) == {"a": 4, "b": 2}


def test_lines_are_priced_from_the_live_items():
    lines = service.price_lines({"a": 3}, {"a": item("a", "19.99")})

    assert lines[0].unit_price == Decimal("19.99") and service.total(lines) == Decimal("59.97")


def test_unknown_items_are_named():
    with pytest.raises(service.UnknownItems) as error:
        service.price_lines({"a": 1, "b": 1}, {"a": item("a")})

    assert error.value.item_ids == ["b"]


def test_one_order_has_one_currency():
    with pytest.raises(service.MixedCurrencies):
        service.price_lines({"a": 1, "b": 1}, {"a": item("a"), "b": item("b", currency="USD")})


def test_the_fastest_warehouse_holding_enough_units_serves_a_line():
    stock = {"i1": {"W1": 1, "W2": 5, "W3": 9}}
    etas = {"small": {"W1": 10.0, "W2": 20.0, "W3": 30.0}}

    planned = service.plan([line(quantity=2)], stock, etas)

    assert planned[0].pick.warehouse_id == "W2" and planned[0].eta_hours == 20.0


def test_a_line_only_far_warehouses_hold_is_not_deliverable():
    with pytest.raises(service.NotDeliverable) as error:
        service.plan([line()], {"i1": {"W9": 5}}, {"small": {"W1": 10.0}})

    assert error.value.item_ids == ["i1"]


def test_a_line_short_of_units_is_out_of_stock_even_when_another_line_is_fine():
    stock = {"i1": {"W1": 5}, "i2": {"W1": 0}}

    with pytest.raises(service.OutOfStock) as error:
        service.plan([line("i1"), line("i2")], stock, {"small": {"W1": 10.0}})

    assert error.value.item_ids == ["i2"]


def test_a_route_that_cannot_carry_the_size_class_does_not_count():
    with pytest.raises(service.NotDeliverable):
        service.plan([line(size_class="bulky")], {"i1": {"W1": 5}}, {"small": {"W1": 10.0}, "bulky": {}})


@pytest.mark.parametrize("status, action, to", [("CREATED", "pay", "PLACED"), ("CREATED", "cancel", "CANCELLED"),
                                                ("PLACED", "cancel", "CANCELLED"), ("PLACED", "ship", "SHIPPED"),
                                                ("SHIPPED", "deliver", "DELIVERED")])
def test_allowed_transitions(status, action, to):
    assert service.next_status(status, action) == to


@pytest.mark.parametrize("status, action", [("CREATED", "ship"), ("SHIPPED", "cancel"), ("DELIVERED", "cancel"),
                                            ("CANCELLED", "pay"), ("PLACED", "deliver"), ("DELIVERED", "ship")])
def test_every_other_transition_is_refused(status, action):
    with pytest.raises(service.InvalidTransition):
        service.next_status(status, action)


@pytest.mark.parametrize("status, reason, outcome, policy, step", [
    ("CREATED", None, "succeeded", "reinstate", "place"),
    ("CREATED", None, "failed", "reinstate", "cancel"),
    ("CANCELLED", "payment_timeout", "succeeded", "reinstate", "reinstate"),
    ("CANCELLED", "payment_timeout", "succeeded", "refund", "refund"),
    ("CANCELLED", "customer", "succeeded", "reinstate", "refund"),
    ("CANCELLED", "payment_timeout", "failed", "reinstate", "ignore"),
    ("PLACED", None, "succeeded", "reinstate", "ignore"),
    ("PLACED", None, "failed", "refund", "ignore"),
])
def test_what_each_payment_outcome_does(status, reason, outcome, policy, step):
    assert service.payment_step(status, reason, outcome, policy) == step


@pytest.mark.parametrize("reason, policy, settled, step", [
    ("payment_timeout", "reinstate", "reinstated", "already_reinstated"),
    ("payment_timeout", "reinstate", "refunded", "already_refunded"),
    ("payment_timeout", "refund", "refunded", "already_refunded"),
    ("customer", "reinstate", "refunded", "already_refunded"),
])
def test_a_payment_that_already_settled_a_cancelled_order_settles_it_no_further(reason, policy, settled, step):
    assert service.payment_step("CANCELLED", reason, "succeeded", policy, settled) == step


def test_a_failure_after_a_settled_late_payment_is_ignored():
    assert service.payment_step("CANCELLED", "payment_timeout", "failed", "reinstate", "reinstated") == "ignore"


def test_the_request_hash_ignores_line_order():
    assert service.request_hash("560001", {"a": 1, "b": 2}) == service.request_hash("560001", {"b": 2, "a": 1})
