"""The search consumers against the real Kafka and Elasticsearch, each run with a consumer group of its own: a record
the index cannot take goes to its dead-letter topic with the reason, and the next record of its partition is indexed."""

from __future__ import annotations

import json

import pytest

from inbound.events import ITEMS_DLQ_TOPIC, ITEMS_TOPIC, ItemRecord
from inventory.events import STOCK_CHANGED_DLQ_TOPIC, STOCK_CHANGED_TOPIC, StockChanged
from search.agents import consume
from tests.conftest import next_matching
from tests.search.conftest import eventually, record

pytestmark = pytest.mark.stack


def stock_changed(item_id: str, version: int) -> StockChanged:
    return StockChanged(item_id=item_id, version=version, in_stock=True,
                        warehouses=[{"warehouse_id": "W1", "available": 3}])


def indexed_at(search_index, item_id: str, field: str, version: int):
    async def check() -> dict | None:
        document = await search_index.document(item_id)
        return document if document and document.get(field) == version else None

    return check


def refused_by_search(key: str):
    return lambda message: message.key == key.encode() and json.loads(message.value).get("consumer") == "search"


async def test_a_stock_change_the_index_cannot_take_is_dead_lettered_and_the_next_one_is_applied(
        consumer_of_its_own, producer, tail, search_index, unique_name):
    dlq = await tail(STOCK_CHANGED_DLQ_TOPIC)
    item = record(category=unique_name, stock=None)
    await search_index.apply_records([item])
    # Past 64 bits: no JSON encoder of a bulk request takes it, so Elasticsearch never even sees the request.
    refused, after = stock_changed(f"item-{unique_name}", 2**64), stock_changed(item.item_id, 5)
    await consumer_of_its_own(consume, STOCK_CHANGED_TOPIC, StockChanged, search_index.apply_stock, 500, 0.2,
                              topic=STOCK_CHANGED_TOPIC)

    for change in (refused, after):
        await producer.send_and_wait(STOCK_CHANGED_TOPIC, key=change.item_id.encode(),
                                     value=change.model_dump_json().encode(), partition=0)

    assert await eventually(indexed_at(search_index, item.item_id, "stock_version", 5))
    letter = json.loads((await next_matching(dlq, refused_by_search(refused.item_id), timeout=30)).value)
    assert letter["reason"].startswith("refused by the index: SerializationError")
    assert letter["topic"] == STOCK_CHANGED_TOPIC and letter["partition"] == 0


async def test_a_feed_record_the_mapping_refuses_is_dead_lettered_and_the_next_one_is_indexed(
        consumer_of_its_own, producer, tail, search_index, unique_name):
    dlq = await tail(ITEMS_DLQ_TOPIC)
    # The contract leaves received_at a free string; the index maps created_at (set from it) as a date.
    refused: ItemRecord = record(category=unique_name, stock=None).model_copy(update={"received_at": "last tuesday"})
    after = record(category=unique_name, version=3)
    await consumer_of_its_own(consume, ITEMS_TOPIC, ItemRecord, search_index.apply_records, 500, 0.2, topic=ITEMS_TOPIC)

    for item in (refused, after):
        await producer.send_and_wait(ITEMS_TOPIC, key=item.item_id.encode(), value=item.model_dump_json().encode(),
                                     partition=0)

    assert await eventually(indexed_at(search_index, after.item_id, "version", 3))
    letter = json.loads((await next_matching(dlq, refused_by_search(refused.item_id), timeout=30)).value)
    assert letter["reason"].startswith("refused by the index: mapper_parsing_exception")
    assert ((await search_index.document(refused.item_id)) or {}).get("version") is None
