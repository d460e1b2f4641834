"""The rules of applying catalog records: newer versions win, patches merge, deletes leave tombstones."""

from __future__ import annotations

from itertools import permutations

import pytest

from item_service.service import apply_batch, opening_with_upsert, outcome_of_unreadable
from tests.item_service.conftest import LATER, NOW, delete, new_item_id, patch, upsert

pytestmark = pytest.mark.unit


def stored_after(*records, stored=None, now=NOW) -> dict:
    """The one item's document after applying the records to what was stored."""
    result = apply_batch(stored or {}, list(records), now=now)
    return result.documents[0] if result.documents else (stored or {}).get(records[0].item_id)


def test_upsert_of_a_new_item_stores_every_field_with_price_in_minor_units():
    record = upsert(price="19.99", currency="INR")

    result = apply_batch({}, [record], now=NOW)

    document = result.documents[0]
    assert document["_id"] == document["item_id"] == record.item_id
    assert document["price"] == {"amount": "19.99", "currency": "INR"} and document["price_minor"] == 1999
    assert document["attributes"] == {"colour": "blue", "fit": "slim"}
    assert document["stock"] == [{"warehouse_id": "W1", "quantity": 5}]
    assert document["version"] == 1 and document["deleted"] is False
    assert document["created_at"] == document["updated_at"] == NOW
    assert result.outcomes[0].status == "applied" and not result.outcomes[0].stale


def test_price_minor_follows_the_currency_exponent():
    yen, dinar = upsert(price="1500", currency="JPY"), upsert(price="2.5", currency="KWD")

    documents = apply_batch({}, [yen, dinar], now=NOW).documents

    assert [d["price_minor"] for d in documents] == [1500, 2500]
    assert [d["price"]["amount"] for d in documents] == ["1500", "2.500"]


def test_newer_version_replaces_the_fields_and_keeps_created_at():
    first = stored_after(upsert(version=1, attributes={"colour": "blue"}))

    document = stored_after(upsert(first["item_id"], version=2, title="Linen shirt", attributes={"size": "M"}),
                            stored={first["_id"]: first}, now=LATER)

    assert document["title"] == "Linen shirt" and document["attributes"] == {"size": "M"}
    assert document["version"] == 2 and document["created_at"] == NOW and document["updated_at"] == LATER


@pytest.mark.parametrize("version", [1, 2])
def test_equal_or_older_version_is_stale_and_changes_nothing(version):
    current = stored_after(upsert(version=2))

    result = apply_batch({current["_id"]: current}, [upsert(current["item_id"], version=version, title="Old")],
                         now=LATER)

    assert result.documents == []
    assert result.outcomes[0].status == "applied" and result.outcomes[0].stale


def test_patch_merges_given_fields_and_attributes_key_by_key():
    current = stored_after(upsert(version=1, attributes={"colour": "blue", "fit": "slim"}))
    change = patch(current["item_id"], version=2, price="25.50", attributes={"fit": "loose", "size": "L"})

    document = stored_after(change, stored={current["_id"]: current}, now=LATER)

    assert document["attributes"] == {"colour": "blue", "fit": "loose", "size": "L"}
    assert document["price"] == {"amount": "25.50", "currency": "INR"} and document["price_minor"] == 2550
    assert document["title"] == current["title"] and document["stock"] == current["stock"]
    assert document["version"] == 2 and document["updated_at"] == LATER


def test_patch_with_a_null_attribute_removes_that_attribute():
    current = stored_after(upsert(version=1, attributes={"colour": "blue", "fit": "slim"}))

    document = stored_after(patch(current["item_id"], version=2, attributes={"fit": None}),
                            stored={current["_id"]: current})

    assert document["attributes"] == {"colour": "blue"}


def test_patch_of_an_unknown_item_is_dead_lettered_with_a_reason():
    record = patch(new_item_id(), version=3, title="Ghost")

    result = apply_batch({}, [record], now=NOW)

    assert result.documents == []
    assert result.outcomes[0].status == "dead_lettered" and result.outcomes[0].errors == ["patch of an unknown item"]


def test_patch_of_a_deleted_item_is_dead_lettered():
    tombstone = stored_after(delete(new_item_id(), version=2))

    result = apply_batch({tombstone["_id"]: tombstone}, [patch(tombstone["item_id"], version=3, title="Back")], now=NOW)

    assert result.documents == []
    assert result.outcomes[0].errors == ["patch of a deleted item"]


def test_delete_leaves_a_tombstone_that_an_older_upsert_cannot_undo():
    current = stored_after(upsert(version=1))
    tombstone = stored_after(delete(current["item_id"], version=3), stored={current["_id"]: current})

    result = apply_batch({tombstone["_id"]: tombstone}, [upsert(current["item_id"], version=2)], now=LATER)

    assert tombstone["deleted"] is True and tombstone["version"] == 3 and "title" not in tombstone
    assert result.documents == [] and result.outcomes[0].stale


def test_upsert_lacking_required_fields_is_dead_lettered():
    record = upsert(price=None, category=None)

    result = apply_batch({}, [record], now=NOW)

    assert result.outcomes[0].status == "dead_lettered"
    assert result.outcomes[0].errors == ["upsert lacks category, price"]


def test_records_of_one_item_in_one_batch_give_the_same_item_in_any_order():
    item_id = new_item_id()
    records = [upsert(item_id, version=1, attributes={"colour": "blue"}, index=0),
               patch(item_id, version=2, attributes={"size": "M"}, index=1),
               patch(item_id, version=3, title="Renamed", index=2)]

    results = [apply_batch({}, list(order), now=NOW) for order in permutations(records)]

    assert all(result.documents == results[0].documents for result in results)
    assert results[0].documents[0]["attributes"] == {"colour": "blue", "size": "M"}
    assert results[0].documents[0]["title"] == "Renamed" and results[0].documents[0]["version"] == 3


def test_outcomes_come_in_the_order_of_the_records():
    first, second = upsert(index=0), upsert(index=1)
    replayed_second = upsert(second.item_id, version=1, index=2)

    result = apply_batch({}, [first, second, replayed_second], now=NOW)

    assert [(o.index, o.stale) for o in result.outcomes] == [(0, False), (1, False), (2, True)]
    assert [o.item_id for o in result.outcomes] == [first.item_id, second.item_id, second.item_id]


def test_unreadable_record_with_feed_and_index_gets_a_dead_lettered_outcome():
    raw = b'{"feed_id": "feed-9", "index": 4, "item_id": "abc", "op": "rename"}'

    outcome = outcome_of_unreadable(raw, "abc", "unreadable record: op: bad")

    assert (outcome.feed_id, outcome.index, outcome.item_id, outcome.status) == ("feed-9", 4, "abc", "dead_lettered")
    assert outcome.errors == ["unreadable record: op: bad"]


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"feed_id": "f", "index": "x"}', None])
def test_unreadable_record_without_feed_and_index_gets_no_outcome(raw):
    assert outcome_of_unreadable(raw, "key", "unreadable") is None


def test_attribute_names_the_store_cannot_keep_are_dead_lettered_with_the_reason():
    record = upsert(attributes={"size (in.)": 12})

    result = apply_batch({}, [record], now=NOW)

    assert result.documents == []
    assert result.outcomes[0].errors == ["field name attributes.'size (in.)' may not contain '.' or start with '$'"]


@pytest.mark.parametrize(("value", "reason"), [(float("nan"), "is not a finite number"),
                                               (float("inf"), "is not a finite number"),
                                               (2**70, "does not fit in 64 bits")])
def test_numbers_the_store_cannot_keep_are_dead_lettered(value, reason):
    current = stored_after(upsert(version=1))

    result = apply_batch({current["_id"]: current}, [patch(current["item_id"], version=2, attributes={"w": [value]})],
                         now=NOW)

    assert result.documents == []
    assert result.outcomes[0].errors == [f"attributes.w {reason}"]


def test_a_price_too_large_for_minor_units_is_dead_lettered():
    result = apply_batch({}, [upsert(price="1e40")], now=NOW)

    assert result.documents == [] and result.outcomes[0].status == "dead_lettered"
    assert "cannot be expressed in INR minor units" in result.outcomes[0].errors[0]


def test_items_opening_with_an_upsert_are_those_whose_oldest_record_in_the_batch_is_one():
    fresh, patched_first, deleted = new_item_id(), new_item_id(), new_item_id()
    records = [patch(fresh, version=5, price="3.00"), upsert(fresh, version=2), upsert(patched_first, version=9),
               patch(patched_first, version=4, price="1.00"), delete(deleted, version=3)]

    assert opening_with_upsert(records) == {fresh}
