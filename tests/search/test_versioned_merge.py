"""One behaviour for the versioned merge of catalog records, written twice: in Python by the item service (MongoDB) and
in painless by the search index (Elasticsearch). The same record streams, in the same batches, must leave the same item
in both; a record the item store refuses must not reach the index. Records are published as raw JSON, as any producer
could: both consumers refuse the ones the record contract (`ItemRecord`) refuses before either store sees them."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import example, given, settings

from inbound.events import ItemFields, ItemRecord
from infra import connections
from infra.schema.mongo_indexes import MONGO_INDEXES
from item_service import agents as item_agents
from item_service.store import ItemStore
from search import agents as search_agents
from search.service import attribute_keywords, attribute_pairs
from search.store import SearchIndex
from tests.search.conftest import ITEMS_BODY
from tests.search.record_strategies import SLOTS, TOO_BIG, Spec, streams

pytestmark = pytest.mark.stack
RECEIVED_AT = "2024-05-01T10:00:00.000000Z"
SHIRT = {"title": "Cotton shirt", "category": "shirts", "price": "19.99", "currency": "INR", "size_class": "small",
         "stock": [{"warehouse_id": "W1", "quantity": 5}]}


@pytest.fixture(scope="module")
async def merge_targets(settings) -> AsyncIterator[tuple[ItemStore, SearchIndex]]:
    """An items collection and an item index of this module's own, made like the real ones, dropped afterwards."""
    name = f"t{uuid.uuid4().hex[:12]}"
    mongo, es = connections.mongo(settings), connections.elasticsearch(settings)
    for index in MONGO_INDEXES["items"]:
        await mongo[name]["items"].create_index(index["keys"], name=index["name"], unique=index.get("unique", False))
    search_index = SearchIndex(es, f"{name}-items")
    await es.indices.create(index=f"{search_index.alias}-v1", aliases={search_index.alias: {}}, **ITEMS_BODY)
    yield ItemStore(mongo[name]), search_index
    await es.indices.delete(index=f"{search_index.alias}-v*", ignore_unavailable=True)
    await mongo.drop_database(name)
    await mongo.close()
    await es.close()


@dataclass(frozen=True)
class Message:
    """A message as a consumer takes it from `catalog.items`."""

    key: bytes
    value: bytes


def as_published(spec: Spec, item_ids: list[str], index: int) -> Message:
    """The record as a producer puts it on `catalog.items` (without its null fields as inbound does, or with them),
    checked by nobody: it may be one the record contract refuses."""
    item_id = item_ids[spec.slot]
    if spec.with_nulls:
        fields = {name: spec.fields.get(name) for name in ItemFields.model_fields}
    else:
        fields = {name: value for name, value in spec.fields.items() if value is not None}
    record = {"item_id": item_id, "seller_id": "seller-1", "sku": f"sku-{item_id}", "op": spec.op,
              "version": spec.version, "feed_id": "feed-1", "index": index, "received_at": RECEIVED_AT, "fields": fields}
    return Message(item_id.encode(), json.dumps(record).encode())


def from_item_store(document: dict | None) -> dict | None:
    """What the index should hold of a stored item: the fields both keep, in one shape."""
    if document is None:
        return None
    kept = {"item_id": document["item_id"], "seller_id": document["seller_id"], "sku": document["sku"],
            "version": document["version"], "deleted": document["deleted"]}
    if document["deleted"]:
        return kept
    held = sorted(line["warehouse_id"] for line in document["stock"] if line["quantity"] > 0)
    return {**kept, "title": document["title"], "description": document["description"] or "",
            "category": document["category"], "brand": document["brand"], "size_class": document["size_class"],
            "price": Decimal(document["price"]["amount"]), "currency": document["price"]["currency"],
            "attributes": present(attribute_keywords(document["attributes"])), "stock_warehouses": held,
            "attribute_pairs": sorted(attribute_pairs(attribute_keywords(document["attributes"])))}


def from_index(document: dict | None) -> dict | None:
    if document is None:
        return None
    kept = {"item_id": document["item_id"], "seller_id": document["seller_id"], "sku": document["sku"],
            "version": document["version"], "deleted": document["deleted"]}
    if document["deleted"]:
        return kept
    price = document.get("price")
    return {**kept, "title": document.get("title"), "description": document.get("description") or "",
            "category": document.get("category"), "brand": document.get("brand"),
            "size_class": document.get("size_class"), "price": None if price is None else Decimal(price),
            "currency": document.get("currency"), "attributes": present(document.get("attributes") or {}),
            "stock_warehouses": sorted(document.get("stock_warehouses") or []),
            "attribute_pairs": sorted(document.get("attribute_pairs") or [])}


def present(attributes: dict) -> dict:
    """Attributes with a value: both read a null attribute as an absent one."""
    return {name: value for name, value in attributes.items() if value is not None}


@settings(max_examples=100, deadline=None, database=None)
# A batch delivering a patch before the upsert it patches; a patch published with a null field.
@example(stream=[[Spec(0, "patch", 3, {"title": "Renamed"}), Spec(0, "upsert", 2, SHIRT)],
                 [Spec(0, "patch", 4, {"brand": "Acme", "price": None}, with_nulls=True)]])
# Prices the currency cannot hold, given whole or by a patch of the price or of the currency alone.
@example(stream=[[Spec(0, "upsert", 1, SHIRT)], [Spec(0, "upsert", 2, {**SHIRT, "currency": "JPY"})],
                 [Spec(1, "upsert", 1, {**SHIRT, "price": "1E+17"}), Spec(0, "patch", 3, {"price": "0.125"})],
                 [Spec(0, "patch", 4, {"currency": "JPY"})], [Spec(0, "patch", 5, {"currency": "KWD"})]])
# Names and numbers MongoDB cannot keep; a patch removing a name it could not keep is fine.
@example(stream=[[Spec(0, "upsert", 1, {**SHIRT, "attributes": {"dims.width": 4}}),
                  Spec(1, "upsert", 1, {**SHIRT, "attributes": {"tags": [{"$x": 1}]}})],
                 [Spec(1, "upsert", 2, {**SHIRT, "stock": [{"warehouse_id": "W1", "quantity": TOO_BIG}]}),
                  Spec(0, "delete", TOO_BIG), Spec(0, "upsert", 2, {**SHIRT, "attributes": {"colour": "blue"}})],
                 [Spec(0, "patch", 3, {"attributes": {"dims.width": None, "colour": None}})]])
# An upsert lacking its price; a delete of an unknown item, then an older upsert.
@example(stream=[[Spec(0, "upsert", 2, {k: v for k, v in SHIRT.items() if k != "price"})],
                 [Spec(1, "delete", 4), Spec(1, "upsert", 3, SHIRT)]])
@given(stream=streams())
async def test_item_store_and_index_end_with_the_same_item(merge_targets, stream):
    items, search_index = merge_targets
    item_ids = [uuid.uuid4().hex for _ in range(SLOTS)]

    for batch in stream:
        messages = [as_published(spec, item_ids, index) for index, spec in enumerate(batch)]
        _, refused_by_items = await item_agents.apply_messages(items, messages)
        refused_by_search = await search_agents.index_messages(ItemRecord, search_index.apply_records, messages)
        unread_by_items = [id(m) for m, reason in refused_by_items if reason.startswith("unreadable record")]
        assert unread_by_items == [id(m) for m, reason in refused_by_search if reason.startswith("malformed ItemRecord")]

    stored = await items.current_docs(item_ids)
    for item_id in item_ids:
        assert from_index(await search_index.document(item_id)) == from_item_store(stored.get(item_id)), item_id
