"""The feed-stock consumer against the real Kafka and MySQL, run as a task with a consumer group of its own that starts
at the topic's current end: feed records' stock lands in stock_levels, newest version wins, poison goes to the DLQ
(what the store refuses too, while the rest of its batch is applied), and MySQL being away is waited out."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest

from inbound.events import ITEMS_DLQ_TOPIC, ITEMS_TOPIC
from infra import connections
from inventory.agents import apply_messages, consume
from inventory.service import FeedStock
from inventory.store import StockStore
from tests.conftest import start_group_at_end
from tests.item_service.conftest import delete, patch, upsert

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
async def feed_stock_consumer(settings, stock) -> AsyncIterator[None]:
    group = f"inventory-test-{uuid.uuid4().hex[:8]}"
    await start_group_at_end(settings, group, ITEMS_TOPIC)
    task = asyncio.create_task(consume(settings.kafka_bootstrap, stock, batch_size=500, within=0.2, group=group))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def publish(producer, *records) -> None:
    for record in records:
        await producer.send_and_wait(ITEMS_TOPIC, key=record.item_id.encode(), value=record.model_dump_json().encode())


async def levels_become(stock, item_id: str, wanted: dict[str, int], timeout: float = 60) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while (levels := await stock.levels(item_id)) != wanted and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return levels


async def test_stock_of_a_feed_record_lands_in_the_stock_rows(feed_stock_consumer, producer, stock, new_item):
    record = upsert(new_item(), version=10, stock=[{"warehouse_id": "W1", "quantity": 5},
                                                  {"warehouse_id": "W2", "quantity": 2}])

    await publish(producer, record)

    assert await levels_become(stock, record.item_id, {"W1": 5, "W2": 2}) == {"W1": 5, "W2": 2}


async def test_newest_feed_stock_wins_and_empties_warehouses_it_no_longer_names(
        feed_stock_consumer, producer, stock, new_item):
    item_id = new_item()
    newer = upsert(item_id, version=20, stock=[{"warehouse_id": "W1", "quantity": 5}])
    older = upsert(item_id, version=19, stock=[{"warehouse_id": "W1", "quantity": 1}])
    newest = patch(item_id, version=22, stock=[{"warehouse_id": "W2", "quantity": 3}])

    await publish(producer, newer)
    await levels_become(stock, item_id, {"W1": 5})
    await publish(producer, older, newest)

    assert await levels_become(stock, item_id, {"W1": 0, "W2": 3}) == {"W1": 0, "W2": 3}


async def test_records_without_stock_and_deletes_leave_the_stock_as_it_is(stock, new_item):
    item_id = new_item()
    await stock.apply_feed_stock([FeedStock(item_id, 1, {"W1": 5})])

    letters = await apply_messages(stock, [message(patch(item_id, version=2, title="Renamed")),
                                           message(delete(item_id, version=3))])

    assert letters == [] and await stock.levels(item_id) == {"W1": 5}


def message(record) -> SimpleNamespace:
    """A consumed message as aiokafka hands it over."""
    return SimpleNamespace(topic=ITEMS_TOPIC, partition=0, offset=0, key=record.item_id.encode(),
                           value=record.model_dump_json().encode())


async def test_unreadable_and_unstorable_records_go_to_the_dlq_with_their_reason(
        feed_stock_consumer, producer, tail, new_item):
    letters = await tail(ITEMS_DLQ_TOPIC)
    junk_key, too_long = new_item(), upsert(new_item(), stock=[{"warehouse_id": "W" * 80, "quantity": 1}])

    await producer.send_and_wait(ITEMS_TOPIC, key=junk_key.encode(), value=b"{not json")
    await publish(producer, too_long)

    found = await inventory_letters(letters, {junk_key, too_long.item_id})
    assert found[junk_key]["reason"].startswith("unreadable record")
    assert found[too_long.item_id]["reason"].startswith("unusable stock: warehouse_id")


async def inventory_letters(consumer, keys: set[str], timeout: float = 60) -> dict[str, dict]:
    """The inventory consumer's dead letters for `keys` (the item consumer dead-letters junk too)."""
    found: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while keys - found.keys() and time.monotonic() < deadline:
        for messages in (await consumer.getmany(timeout_ms=500)).values():
            for message in messages:
                letter = json.loads(message.value)
                if letter.get("consumer") == "inventory" and letter.get("key") in keys:
                    found[letter["key"]] = letter
    return found


async def case_twin(stock, item_id: str) -> str:
    """An id the stock store cannot use: the item's id in capitals, while the item has a stock row. MySQL's
    case-insensitive collation finds that row for the twin, and the store has no place for it (a KeyError)."""
    await stock.apply_feed_stock([FeedStock(item_id, 1, {"W1": 1})])
    return item_id.upper()


async def test_a_record_the_store_refuses_is_dead_lettered_and_the_next_record_of_its_partition_is_applied(
        feed_stock_consumer, producer, tail, stock, new_item):
    letters = await tail(ITEMS_DLQ_TOPIC)
    refused = upsert(await case_twin(stock, new_item()), version=5, stock=[{"warehouse_id": "W1", "quantity": 2}])
    after = upsert(new_item(), version=5, stock=[{"warehouse_id": "W1", "quantity": 7}])

    for record in (refused, after):
        await producer.send_and_wait(ITEMS_TOPIC, key=record.item_id.encode(), value=record.model_dump_json().encode(),
                                     partition=0)

    assert await levels_become(stock, after.item_id, {"W1": 7}) == {"W1": 7}
    letter = (await inventory_letters(letters, {refused.item_id}))[refused.item_id]
    assert letter["reason"].startswith("refused by the stock store: KeyError") and letter["partition"] == 0


async def test_a_refused_record_is_narrowed_out_of_its_batch_and_the_rest_of_the_batch_is_applied(stock, new_item):
    first, last = new_item(), new_item()
    refused = upsert(await case_twin(stock, new_item()), version=3, stock=[{"warehouse_id": "W1", "quantity": 2}])
    batch = [upsert(first, version=3, stock=[{"warehouse_id": "W1", "quantity": 4}]), refused,
             patch(first, version=4, stock=[{"warehouse_id": "W2", "quantity": 1}]),
             upsert(last, version=3, stock=[{"warehouse_id": "W3", "quantity": 9}])]

    letters = await apply_messages(stock, [message(record) for record in batch])

    assert [(json.loads(m.value)["item_id"], reason.split(":")[0]) for m, reason in letters] == [
        (refused.item_id, "refused by the stock store")]
    assert await stock.levels(first) == {"W1": 0, "W2": 1} and await stock.levels(last) == {"W3": 9}


async def test_feed_stock_is_retried_while_mysql_is_away_and_set_once_it_answers(settings, stock, new_item):
    away = connections.mysql(settings, settings.mysql_url.replace(f"@{settings.mysql_host}:{settings.mysql_port}/",
                                                                  "@127.0.0.1:1/"))
    attempts = [StockStore(away), StockStore(away), stock]
    flaky = SimpleNamespace(apply_feed_stock=lambda stated: attempts.pop(0).apply_feed_stock(stated))
    record = upsert(new_item(), version=2, stock=[{"warehouse_id": "W1", "quantity": 4}])

    letters = await apply_messages(flaky, [message(record)])

    assert letters == [] and attempts == [] and await stock.levels(record.item_id) == {"W1": 4}
    await away.dispose()
