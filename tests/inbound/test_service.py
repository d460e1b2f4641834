"""Feed record rules: what a valid upsert, patch and delete is, and how accepted records are published."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from inbound.events import ItemRecord, RejectedRecord
from inbound.parse import Unparsable
from inbound.service import FeedContext, Verdict, item_id_for, judge, key_hash, sku_of, validate_record
from tests.inbound.conftest import item

pytestmark = pytest.mark.unit

FEED = FeedContext("f1", "seller1", datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC))


def errors_of(raw):
    result = validate_record(raw)
    assert isinstance(result, list), f"expected errors, got {result!r}"
    return " | ".join(result)


def test_item_id_is_stable_per_seller_and_sku():
    assert item_id_for("s1", "a") == item_id_for("s1", "a")
    assert item_id_for("s1", "a") != item_id_for("s2", "a") != item_id_for("s1", "b")
    assert len(item_id_for("s1", "a")) == 32 and int(item_id_for("s1", "a"), 16) >= 0


def test_valid_upsert_is_published_with_its_item_id_and_a_two_decimal_price():
    raw = item("sku-1", price=Decimal("19.9"), currency="inr", attributes={"ram_gb": Decimal(8), "tags": ["a", 1]})

    record = judge(3, raw, FEED, default_version=42)

    assert isinstance(record, ItemRecord)
    assert record.item_id == item_id_for("seller1", "sku-1") and record.index == 3 and record.version == 42
    assert record.fields.price == Decimal("19.90") and record.fields.currency == "INR"
    assert record.fields.attributes == {"ram_gb": 8, "tags": ["a", 1]}
    assert record.received_at == "2026-01-02T03:04:05.000006Z"


def test_upsert_needs_every_required_field():
    errors = errors_of({"sku": "a"})

    for name in ("title", "category", "price", "currency", "size_class"):
        assert f"{name}: Field required" in errors


@pytest.mark.parametrize("field, value, reason", [
    ("price", "0", "greater than 0"),
    ("price", "-3", "greater than 0"),
    ("price", "1.999", "2 decimal places"),
    ("price", "NaN", "finite"),
    ("currency", "RUPEE", "currency: must be a 3-letter currency code"),
    ("sku", "two words", "sku: must be without spaces"),
    ("size_class", "huge", "size_class"),
    ("title", "x" * 301, "at most 300"),
    ("title", "", "at least 1"),
    ("version", -1, "greater than or equal to 0"),
    ("version", True, "not a boolean"),
    ("images", ["ftp://x/1.jpg"], "images.0: must be an http(s) URL"),
    ("stock", [{"warehouse_id": "w1", "quantity": -1}], "stock.0.quantity"),
    ("stock", [{"warehouse_id": "w1", "quantity": 1}, {"warehouse_id": "w1", "quantity": 2}], "more than once"),
    ("colour", "red", "colour: unknown field"),
])
def test_upsert_field_rules(field, value, reason):
    assert reason in errors_of({**item("a"), field: value})


def test_attribute_values_must_be_scalars_or_lists_of_scalars():
    errors = errors_of(item("a", attributes={"ok": ["x", 2, True], "nested": {"a": 1}, "deep": [[1]], "empty": None}))

    assert "attributes.nested" in errors and "attributes.deep" in errors and "attributes.empty" in errors
    assert "attributes.ok" not in errors


def test_a_version_of_2_to_the_63_and_a_price_in_yen_with_decimals_are_rejected_at_intake():
    too_late, in_yen = item("a", version=2**63), item("b", price="19.99", currency="JPY")

    rejected = [judge(index, raw, FEED, default_version=1) for index, raw in enumerate([too_late, in_yen])]

    assert [Verdict.of(record) for record in rejected] == [
        Verdict(0, "a", None, "rejected", ["version: must be less than 2**63"]),
        Verdict(1, "b", None, "rejected", ["price: 19.99 cannot be expressed in JPY minor units: more decimals than JPY has"])]


@pytest.mark.parametrize(("attributes", "reason"), [
    ({"dims.width": 4}, "attributes: field name attributes.'dims.width' may not contain '.' or start with '$'"),
    ({"$ref": "x"}, "attributes: field name attributes.'$ref' may not contain '.' or start with '$'"),
    ({"weight": 2**63}, "attributes: attributes.weight does not fit in 64 bits"),
    ({"ratio": float("inf")}, "attributes: attributes.ratio is not a finite number"),
])
def test_attributes_no_store_can_keep_are_rejected_at_intake(attributes, reason):
    raw = item("a", attributes=attributes)

    rejected = judge(0, raw, FEED, default_version=1)

    assert isinstance(rejected, RejectedRecord) and rejected.errors == [reason]


def test_a_stock_quantity_of_2_to_the_63_is_rejected_at_intake():
    raw = item("a", stock=[{"warehouse_id": "w1", "quantity": 2**63}])

    rejected = judge(0, raw, FEED, default_version=1)

    assert isinstance(rejected, RejectedRecord) and rejected.errors == ["stock.0.quantity: must be less than 2**63"]


def test_a_whole_price_in_yen_is_accepted():
    record = judge(0, item("a", price="1500", currency="jpy"), FEED, default_version=1)

    assert isinstance(record, ItemRecord) and record.fields.price == Decimal(1500) and record.fields.currency == "JPY"


def test_patch_needs_sku_and_at_least_one_field():
    assert "at least one field" in errors_of({"op": "patch", "sku": "a"})
    assert "sku: Field required" in errors_of({"op": "patch", "price": "2.00"})


def test_patch_publishes_only_the_fields_it_changes():
    record = judge(0, {"op": "patch", "sku": "a", "price": "5", "version": "7"}, FEED, default_version=1)

    assert record.op == "patch" and record.version == 7
    assert record.fields.model_dump(exclude_none=True) == {"price": Decimal("5.00")}


def test_delete_needs_only_the_sku_and_refuses_item_fields():
    record = judge(0, {"op": "delete", "sku": "a"}, FEED, default_version=9)

    assert record.op == "delete" and record.version == 9
    assert "title: unknown field" in errors_of({"op": "delete", "sku": "a", "title": "x"})


def test_unknown_operation_is_refused():
    assert errors_of({"op": "merge", "sku": "a"}) == "op: must be one of upsert, patch, delete"
    assert errors_of({"op": ["upsert"], "sku": "a"}) == "op: must be one of upsert, patch, delete"


def test_invalid_record_is_rejected_with_its_sku_and_raw_record():
    rejected = judge(5, {"sku": "bad-1", "price": "0"}, FEED, default_version=1)

    assert isinstance(rejected, RejectedRecord)
    assert rejected.index == 5 and rejected.sku == "bad-1" and rejected.raw == {"sku": "bad-1", "price": "0"}
    assert Verdict.of(rejected) == Verdict(5, "bad-1", None, "rejected", rejected.errors)


def test_unparsable_record_is_rejected_with_the_parser_reason():
    rejected = judge(2, Unparsable("the line is not valid JSON", "{oops"), FEED, default_version=1)

    assert rejected.errors == ["the line is not valid JSON"] and rejected.sku is None and rejected.raw == "{oops"


def test_accepted_verdict_carries_the_item_id():
    record = judge(0, item("a"), FEED, default_version=1)

    assert Verdict.of(record) == Verdict(0, "a", item_id_for("seller1", "a"), "accepted")


def test_sku_of_names_what_it_can():
    assert sku_of({"sku": "a"}) == "a" and sku_of({"sku": 12}) == "12"
    assert sku_of({"sku": True}) is None and sku_of({"sku": ["a"]}) is None and sku_of({}) is None


def test_api_key_hash_is_sha256_hex():
    assert key_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
