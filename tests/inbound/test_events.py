"""The item record contract: every consumer that parses a record refuses what no store could keep, the same way."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from inbound.events import ItemRecord, minor_units
from infra.consumer import first_error
from tests.inbound.conftest import published

pytestmark = pytest.mark.unit


def parsed(payload: dict[str, Any]) -> ItemRecord:
    """The record as a consumer reads it from `catalog.items`."""
    return ItemRecord.model_validate_json(json.dumps(payload))


def refusals(payload: dict[str, Any]) -> list[str]:
    """Why a consumer refuses the record: each problem where it is, as the consumers' dead letters say it."""
    with pytest.raises(ValidationError) as refused:
        parsed(payload)
    return [": ".join(filter(None, (".".join(str(part) for part in problem["loc"]), problem["msg"])))
            for problem in refused.value.errors()]


def test_a_version_of_2_to_the_63_is_refused():
    record = published("delete", version=2**63)

    reasons = refusals(record)

    assert reasons == ["version: must be less than 2**63"]


def test_the_largest_64_bit_version_is_accepted():
    record = published("delete", version=2**63 - 1)

    assert parsed(record).version == 2**63 - 1


def test_a_negative_version_is_refused():
    record = published("delete", version=-1)

    reasons = refusals(record)

    assert reasons == ["version: Input should be greater than or equal to 0"]


def test_an_upsert_without_a_price_is_refused():
    record = published(price=None)

    reasons = refusals(record)

    assert reasons == ["upsert lacks price"]


def test_an_upsert_names_every_required_field_it_lacks():
    record = published(title=None, category=None, currency=None, size_class=None, price=None)

    reasons = refusals(record)

    assert reasons == ["upsert lacks title, category, price, currency, size_class"]


def test_a_patch_needs_none_of_the_fields_an_upsert_requires():
    record = published("patch", version=2, brand="Acme")

    assert parsed(record).fields.brand == "Acme"


def test_a_price_with_more_decimals_than_its_currency_is_refused():
    record = published(price="19.99", currency="JPY")

    reasons = refusals(record)

    assert reasons == ["fields.price: 19.99 cannot be expressed in JPY minor units: more decimals than JPY has"]


@pytest.mark.parametrize(("price", "currency"), [("19.99", "INR"), ("1500.00", "JPY"), ("2.5", "KWD"),
                                                 ("0.125", "KWD"), ("7", "jpy")])
def test_a_price_exact_in_its_currency_minor_units_is_accepted(price, currency):
    record = published(price=price, currency=currency)

    assert parsed(record).fields.price == Decimal(price)


@pytest.mark.parametrize(("price", "currency"), [("1E+17", "INR"), ("1E+40", "JPY"), ("-1E+17", "INR")])
def test_a_price_whose_minor_units_do_not_fit_in_64_bits_is_refused(price, currency):
    record = published(price=price, currency=currency)

    reasons = refusals(record)

    assert reasons == [f"fields.price: {price} cannot be expressed in {currency} minor units: the amount does not fit in 64 bits"]


def test_a_patch_of_the_price_alone_is_left_to_the_consumers_who_know_the_currency():
    record = published("patch", version=2, price="0.125")

    assert parsed(record).fields.price == Decimal("0.125")


def test_an_attribute_name_with_a_dot_is_refused():
    record = published(attributes={"dims.width": 4})

    reasons = refusals(record)

    assert reasons == ["fields.attributes: field name attributes.'dims.width' may not contain '.' or start with '$'"]


@pytest.mark.parametrize(("attributes", "reason"), [
    ({"$ref": "x"}, "field name attributes.'$ref' may not contain '.' or start with '$'"),
    ({"dims": {"a.b": 1}}, "field name attributes.dims.'a.b' may not contain '.' or start with '$'"),
    ({"tags": [{"$x": 1}]}, "field name attributes.tags.'$x' may not contain '.' or start with '$'"),
])
def test_an_attribute_name_starting_with_a_dollar_or_nested_with_a_dot_is_refused(attributes, reason):
    record = published(attributes=attributes)

    reasons = refusals(record)

    assert reasons == [f"fields.attributes: {reason}"]


def test_a_patch_may_remove_an_attribute_whose_name_could_never_be_kept():
    record = published("patch", version=2, attributes={"dims.width": None, "colour": None})

    assert parsed(record).fields.attributes == {"dims.width": None, "colour": None}


def test_an_upsert_keeps_its_null_attributes_so_their_names_are_checked():
    record = published(attributes={"dims.width": None})

    reasons = refusals(record)

    assert reasons == ["fields.attributes: field name attributes.'dims.width' may not contain '.' or start with '$'"]


@pytest.mark.parametrize(("value", "reason"), [(2**63, "attributes.w does not fit in 64 bits"),
                                               (-(2**63) - 1, "attributes.w does not fit in 64 bits"),
                                               ([1, 2**70], "attributes.w does not fit in 64 bits"),
                                               ({"depth": float("inf")}, "attributes.w.depth is not a finite number"),
                                               (float("nan"), "attributes.w is not a finite number")])
def test_an_attribute_number_no_store_can_keep_is_refused(value, reason):
    record = published(attributes={"w": value})

    reasons = refusals(record)

    assert reasons == [f"fields.attributes: {reason}"]


def test_attribute_numbers_at_the_64_bit_limits_are_accepted():
    record = published(attributes={"most": 2**63 - 1, "least": -(2**63), "ratio": 0.5, "flag": True})

    assert parsed(record).fields.attributes == {"most": 2**63 - 1, "least": -(2**63), "ratio": 0.5, "flag": True}


def test_a_stock_quantity_of_2_to_the_63_is_refused():
    record = published(stock=[{"warehouse_id": "W1", "quantity": 2**63}])

    reasons = refusals(record)

    assert reasons == ["fields.stock.0.quantity: must be less than 2**63"]


def test_a_consumer_dead_letters_a_refused_record_with_the_contract_reason():
    message = json.dumps(published(price="19.99", currency="JPY"))

    with pytest.raises(ValidationError) as refused:
        ItemRecord.model_validate_json(message)

    assert first_error(refused.value) == "fields.price: 19.99 cannot be expressed in JPY minor units: more decimals than JPY has"


@pytest.mark.parametrize(("price", "currency", "minor"), [("19.99", "INR", 1999), ("1500.00", "JPY", 1500),
                                                          ("2.5", "KWD", 2500), ("-3", "usd", -300)])
def test_minor_units_follow_the_currency_exponent(price, currency, minor):
    assert minor_units(Decimal(price), currency) == minor
