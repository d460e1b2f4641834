"""The search agents in the real worker: records on Kafka become searchable, poison goes to the DLQ, stock flips."""

from __future__ import annotations

import json

import pytest
from elasticsearch import AsyncElasticsearch

from inbound.events import ITEMS_DLQ_TOPIC, ITEMS_TOPIC
from inventory.events import STOCK_CHANGED_DLQ_TOPIC, STOCK_CHANGED_TOPIC, StockChanged
from search.agents import until_applied
from search.query import SearchParams
from search.store import SearchIndex
from tests.conftest import next_matching
from tests.search.conftest import eventually, record

pytestmark = pytest.mark.stack


async def publish(producer, topic: str, key: str, value: bytes) -> None:
    await producer.send_and_wait(topic, key=key.encode(), value=value)


def found(search_index, category: str, count: int):
    async def check() -> list[str] | None:
        page = await search_index.search(SearchParams(categories=[category]), None)
        return [item["item_id"] for item in page["items"]] if page["total"] == count else None

    return check


async def test_records_published_to_catalog_items_become_searchable(running_worker, producer, search_index,
                                                                    unique_name):
    records = [record(category=unique_name, title=f"Lamp {n}") for n in range(3)]

    for item in records:
        await publish(producer, ITEMS_TOPIC, item.item_id, item.model_dump_json().encode())

    indexed = await eventually(found(search_index, unique_name, 3))
    assert sorted(indexed) == sorted(r.item_id for r in records)


async def test_poison_message_reaches_the_dlq_and_the_next_record_is_still_indexed(running_worker, producer, tail,
                                                                                   search_index, unique_name):
    dlq = await tail(ITEMS_DLQ_TOPIC)
    item = record(category=unique_name)

    await publish(producer, ITEMS_TOPIC, item.item_id, b'{"not": "an item record"')
    await publish(producer, ITEMS_TOPIC, item.item_id, item.model_dump_json().encode())

    def ours(message) -> bool:
        letter = json.loads(message.value)
        return message.key == item.item_id.encode() and letter["reason"].startswith("malformed ItemRecord")

    letter = json.loads((await next_matching(dlq, ours, timeout=20)).value)
    assert letter["topic"] == ITEMS_TOPIC and letter["value"] == '{"not": "an item record"'
    assert {"partition", "offset", "key"} <= set(letter)
    assert await eventually(found(search_index, unique_name, 1)) == [item.item_id]


async def test_a_malformed_stock_change_reaches_the_stock_dead_letter_topic(running_worker, producer, tail,
                                                                          unique_name):
    dlq = await tail(STOCK_CHANGED_DLQ_TOPIC)
    key = f"item-{unique_name}"

    await publish(producer, STOCK_CHANGED_TOPIC, key, b'{"item_id": "no stock picture"}')

    letter = json.loads((await next_matching(dlq, lambda m: m.key == key.encode(), timeout=30)).value)
    assert letter["topic"] == STOCK_CHANGED_TOPIC and letter["consumer"] == "search"
    assert letter["reason"].startswith("malformed StockChanged")


async def test_stock_changes_hide_and_show_the_item(running_worker, producer, search_index, unique_name):
    # No stock in the feed record: the worker's inventory consumer leaves the item alone (feed stock would make it
    # publish a real stock_changed, whose clock version outranks the small versions below).
    item = record(category=unique_name, stock=None)
    await publish(producer, ITEMS_TOPIC, item.item_id, item.model_dump_json().encode())
    await eventually(lambda: search_index.document(item.item_id))

    def stock(version: int, available: int) -> bytes:
        return StockChanged(item_id=item.item_id, version=version, in_stock=available > 0,
                            warehouses=[{"warehouse_id": "W1", "available": available}]).model_dump_json().encode()

    await publish(producer, STOCK_CHANGED_TOPIC, item.item_id, stock(1, 4))
    assert await eventually(found(search_index, unique_name, 1)) == [item.item_id]
    await publish(producer, STOCK_CHANGED_TOPIC, item.item_id, stock(2, 0))
    assert await eventually(found(search_index, unique_name, 0)) == []


async def test_a_batch_is_retried_until_elasticsearch_answers(search_index, unique_name):
    unreachable = AsyncElasticsearch("http://127.0.0.1:9", max_retries=0)
    attempts = [SearchIndex(unreachable, search_index.alias), SearchIndex(unreachable, search_index.alias), search_index]
    item = record(category=unique_name)

    refused = await until_applied(lambda records: attempts.pop(0).apply_records(records), [item])

    assert refused == {} and attempts == []
    assert (await search_index.document(item.item_id))["version"] == 1
    await unreachable.close()
