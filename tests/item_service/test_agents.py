"""The item consumer in the real worker: records on Kafka reach MongoDB, replays and older versions change nothing,
every record's fate is reported, and poison goes to the DLQ without stopping the stream: a record MongoDB refuses too
(reported dead_lettered, the rest of its batch applied), while MongoDB being away is waited out."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from types import SimpleNamespace

import pytest
from pydantic import ValidationError
from pymongo import AsyncMongoClient

from inbound.events import ITEMS_DLQ_TOPIC, ITEMS_TOPIC
from item_service.agents import apply_messages, consume, until_applied
from item_service.events import OUTCOMES_TOPIC, RecordOutcome
from item_service.store import ItemStore
from tests.conftest import next_matching
from tests.item_service.conftest import eventually, new_item_id, patch, upsert

pytestmark = pytest.mark.stack


async def publish(producer, *records) -> None:
    for record in records:
        await producer.send_and_wait(ITEMS_TOPIC, key=record.item_id.encode(), value=record.model_dump_json().encode())


async def outcomes_of(outcomes, *records, timeout: float = 60) -> list[RecordOutcome]:
    """The reported outcome of each record, read from a tail on the outcomes topic."""
    wanted = {_identity(record) for record in records}
    found: dict[tuple, RecordOutcome] = {}
    deadline = time.monotonic() + timeout
    while wanted - found.keys() and time.monotonic() < deadline:
        for messages in (await outcomes.getmany(timeout_ms=500)).values():
            read = [_outcome(message.value) for message in messages]
            found.update({_identity(o): o for o in read if o is not None and _identity(o) in wanted})
    assert not wanted - found.keys(), f"no outcome within {timeout}s for {wanted - found.keys()}"
    return [found[_identity(record)] for record in records]


def _identity(record_or_outcome) -> tuple:
    return record_or_outcome.feed_id, record_or_outcome.index, record_or_outcome.item_id


def _outcome(raw: bytes) -> RecordOutcome | None:
    try:
        return RecordOutcome.model_validate_json(raw)
    except ValidationError:  # other tests put junk on the topic on purpose
        return None


def from_item_service(item_id: str):
    """Both consumers of catalog.items dead-letter what they cannot use; this picks the item consumer's letter."""
    return lambda message: (message.key == item_id.encode()
                            and json.loads(message.value).get("consumer") == "item_service")


def stored_version(item_store, item_id: str, version: int):
    async def check() -> dict | None:
        document = (await item_store.current_docs([item_id])).get(item_id)
        return document if document and document["version"] == version else None

    return check


async def test_published_records_are_stored_within_seconds(running_worker, producer, item_store):
    records = [upsert(title=f"Lamp {n}") for n in range(3)]

    await publish(producer, *records)

    for record in records:
        document = await eventually(stored_version(item_store, record.item_id, 1))
        assert document["title"] == record.fields.title


async def test_replaying_the_same_records_changes_nothing(running_worker, producer, item_store, tail):
    outcomes = await tail(OUTCOMES_TOPIC)
    item_id = new_item_id()
    records = [upsert(item_id, version=1), patch(item_id, version=2, attributes={"size": "M"}, index=1)]
    await publish(producer, *records)
    before = await eventually(stored_version(item_store, item_id, 2))
    replayed = [r.model_copy(update={"feed_id": f"replay-{uuid.uuid4().hex}"}) for r in records]

    await publish(producer, *replayed)

    assert all(outcome.stale for outcome in await outcomes_of(outcomes, *replayed))
    assert (await item_store.current_docs([item_id]))[item_id] == before


async def test_an_older_version_after_a_newer_one_is_ignored(running_worker, producer, item_store, tail):
    outcomes = await tail(OUTCOMES_TOPIC)
    item_id = new_item_id()
    newer = upsert(item_id, version=7, title="Newer", index=0)
    older = upsert(item_id, version=6, title="Older", index=1)

    await publish(producer, newer, older)

    [outcome] = await outcomes_of(outcomes, older)
    assert outcome.status == "applied" and outcome.stale
    assert (await item_store.get(item_id))["title"] == "Newer"


async def test_patch_of_an_unknown_item_is_reported_dead_lettered(running_worker, producer, tail):
    outcomes, dlq = await tail(OUTCOMES_TOPIC), await tail(ITEMS_DLQ_TOPIC)
    record = patch(new_item_id(), version=3, title="Ghost", feed_id=f"feed-{uuid.uuid4().hex}")

    await publish(producer, record)

    [outcome] = await outcomes_of(outcomes, record)
    assert outcome.status == "dead_lettered" and outcome.errors == ["patch of an unknown item"]
    letter = json.loads((await next_matching(dlq, from_item_service(record.item_id))).value)
    assert letter["reason"] == "patch of an unknown item"


async def test_poison_message_reaches_the_dlq_and_the_next_record_is_applied(running_worker, producer, item_store,
                                                                             tail):
    dlq = await tail(ITEMS_DLQ_TOPIC)
    record = upsert()

    await producer.send_and_wait(ITEMS_TOPIC, key=record.item_id.encode(), value=b"not json at all")
    await publish(producer, record)

    letter = json.loads((await next_matching(dlq, from_item_service(record.item_id))).value)
    assert letter["reason"].startswith("unreadable record") and letter["value"] == "not json at all"
    assert letter["topic"] == ITEMS_TOPIC and {"partition", "offset"} <= set(letter)
    assert await eventually(stored_version(item_store, record.item_id, 1))


async def test_a_batch_is_retried_while_mongodb_is_unreachable_rather_than_skipped(caplog):
    unreachable = AsyncMongoClient("mongodb://127.0.0.1:1", serverSelectionTimeoutMS=100)
    applying = asyncio.create_task(until_applied(ItemStore(unreachable["shop"]), [upsert()]))

    await asyncio.sleep(3)

    assert not applying.done()
    assert sum("Retrying" in line for line in caplog.messages) >= 3
    applying.cancel()
    await unreachable.close()


NESTED_ARRAYS = {"dims": [[20, 30], [40, 50]]}  # MongoDB keeps them; FerretDB refuses them ("nested arrays")


def message(record, offset: int = 0) -> SimpleNamespace:
    """A consumed message as aiokafka hands it over."""
    return SimpleNamespace(topic=ITEMS_TOPIC, partition=0, offset=offset, key=record.item_id.encode(),
                           value=record.model_dump_json().encode())


async def test_a_record_mongodb_refuses_is_dead_lettered_reported_and_the_next_record_of_its_partition_is_applied(
        consumer_of_its_own, producer, item_store, tail):
    outcomes, dlq = await tail(OUTCOMES_TOPIC), await tail(ITEMS_DLQ_TOPIC)
    feed_id = f"feed-{uuid.uuid4().hex}"
    refused, after = upsert(attributes=NESTED_ARRAYS, feed_id=feed_id), upsert(feed_id=feed_id, index=1)
    await consumer_of_its_own(consume, item_store, 500, 0.2, topic=ITEMS_TOPIC)

    for record in (refused, after):
        await producer.send_and_wait(ITEMS_TOPIC, key=record.item_id.encode(), value=record.model_dump_json().encode(),
                                     partition=0)

    outcome, next_outcome = await outcomes_of(outcomes, refused, after)
    assert outcome.status == "dead_lettered" and "nested arrays are not supported" in outcome.errors[0]
    assert next_outcome.status == "applied" and await eventually(stored_version(item_store, after.item_id, 1))
    letter = json.loads((await next_matching(dlq, from_item_service(refused.item_id))).value)
    assert letter["reason"] == outcome.errors[0] and letter["reason"].startswith("refused by the item store")


async def test_records_mongodb_refuses_are_narrowed_out_of_their_batch_and_the_rest_is_applied(item_store):
    item_id, last = new_item_id(), new_item_id()
    batch = [upsert(item_id, version=1), upsert(attributes=NESTED_ARRAYS),
             patch(item_id, version=2, title="Renamed", index=2), upsert(attributes={"nul\x00name": 1}, index=3),
             upsert(last, index=4)]

    async with asyncio.timeout(60):  # not retried for ever
        outcomes, refused = await apply_messages(item_store, [message(r, offset) for offset, r in enumerate(batch)])

    assert [outcome.status for outcome in outcomes] == ["applied", "dead_lettered", "applied", "dead_lettered",
                                                        "applied"]
    assert [(m.offset, reason.split(":")[0]) for m, reason in refused] == [(1, "refused by the item store"),
                                                                           (3, "refused by the item store")]
    assert (await item_store.get(item_id))["title"] == "Renamed" and await item_store.get(last)
    assert await item_store.get(batch[1].item_id) is None and await item_store.get(batch[3].item_id) is None


async def test_a_batch_waits_while_mongodb_is_away_and_is_applied_once_it_answers(item_store, mongo_db, caplog):
    unreachable = AsyncMongoClient("mongodb://127.0.0.1:1", serverSelectionTimeoutMS=100)
    away, record = ItemStore(unreachable["shop"]), upsert()
    applying = asyncio.create_task(until_applied(away, [record]))
    while sum("Retrying" in line for line in caplog.messages) < 2:
        await asyncio.sleep(0.1)

    away.items = mongo_db["items"]  # MongoDB answers again

    assert [outcome.status for outcome in (await applying).outcomes] == ["applied"]
    assert (await item_store.current_docs([record.item_id]))[record.item_id]["version"] == 1
    await unreachable.close()
