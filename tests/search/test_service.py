"""How records, stored items and stock pictures become index changes, and how delivery estimates are chosen."""

from __future__ import annotations

import pytest

from inventory.events import StockChanged
from search.service import (
    attribute_keywords,
    attribute_pairs,
    delivery_eta,
    record_change,
    stock_change,
    stored_item_change,
)
from tests.search.conftest import record

pytestmark = pytest.mark.unit
NOW = "2024-02-01T00:00:00+00:00"


def test_upsert_sets_stock_from_the_warehouses_that_hold_some():
    given = record(stock=[{"warehouse_id": "W1", "quantity": 2}, {"warehouse_id": "W2", "quantity": 0}])

    change = record_change(given, NOW)

    assert change["fields"]["in_stock"] is True
    assert change["fields"]["stock_warehouses"] == ["W1"]
    assert "stock" not in change["fields"]


def test_upsert_price_is_kept_as_the_exact_decimal_string():
    given = record(price="1299.50")

    change = record_change(given, NOW)

    assert change["fields"]["price"] == "1299.50"


def test_patch_carries_only_the_fields_it_changes():
    given = record(op="patch", version=2, title="New")

    change = record_change(given, NOW)

    assert change["op"] == "patch"
    assert change["fields"] == {"title": "New"}


def test_delete_carries_no_fields():
    given = record(op="delete", version=3)

    change = record_change(given, NOW)

    assert change["op"] == "delete"
    assert change["fields"] == {}


def test_attribute_values_become_keywords_and_dots_leave_names():
    attributes = {"size": 10, "organic": True, "colors": ["red", 2], "dims.width": 4.5, "gone": None}

    keywords = attribute_keywords(attributes)

    assert keywords == {"size": "10", "organic": "true", "colors": ["red", "2"], "dims_width": "4.5", "gone": None}


def test_an_equals_sign_leaves_names_too_so_a_pair_splits_at_its_first_one():
    keywords = attribute_keywords({"a=b": "c=d"})

    assert keywords == {"a_b": "c=d"}
    assert attribute_pairs(keywords) == ["a_b=c=d"]


def test_every_attribute_value_becomes_one_name_value_pair():
    keywords = attribute_keywords({"size": 10, "colors": ["red", 2], "organic": True, "gone": None, "none": []})

    pairs = attribute_pairs(keywords)

    assert pairs == ["size=10", "colors=red", "colors=2", "organic=true"]


def test_stored_tombstone_rebuilds_as_a_delete():
    item = {"_id": "i1", "seller_id": "s", "sku": "k", "version": 7, "deleted": True, "updated_at": NOW}

    change = stored_item_change(item, NOW)

    assert change["op"] == "delete"
    assert change["version"] == 7


def test_stored_item_rebuilds_with_its_price_and_creation_time():
    item = {"_id": "i1", "seller_id": "s", "sku": "k", "version": 2, "title": "Mug",
            "created_at": "2024-01-01T00:00:00Z",
            "price": {"amount": "99.00", "currency": "INR"}, "stock": [{"warehouse_id": "W3", "quantity": 1}]}

    change = stored_item_change(item, NOW)

    assert change["fields"]["price"] == "99.00" and change["fields"]["currency"] == "INR"
    assert change["fields"]["stock_warehouses"] == ["W3"]
    assert change["created_at"] == "2024-01-01T00:00:00Z"


def test_stock_picture_lists_only_warehouses_with_available_units():
    event = StockChanged(item_id="i1", version=4, in_stock=True,
                         warehouses=[{"warehouse_id": "W1", "available": 0}, {"warehouse_id": "W2", "available": 3}])

    change = stock_change(event, NOW)

    assert change["stock_warehouses"] == ["W2"]
    assert change["in_stock"] is True and change["stock_version"] == 4


def test_eta_is_the_fastest_warehouse_that_holds_the_item_and_carries_its_size():
    deliverable = {"small": {"W1": 30.0, "W2": 12.0, "W9": 2.0}, "bulky": {"W3": 5.0}}

    eta = delivery_eta("small", ["W1", "W2", "W3"], deliverable)

    assert eta == 12.0


def test_no_eta_when_no_holding_warehouse_can_carry_the_size():
    deliverable = {"small": {"W1": 30.0}, "bulky": {}}

    eta = delivery_eta("bulky", ["W1"], deliverable)

    assert eta is None
