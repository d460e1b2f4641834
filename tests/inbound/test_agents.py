"""The outcomes agent in the real worker: item fates reach the feed status, malformed outcomes go to the DLQ, and so
does an outcome the feed status table refuses, while the next one is recorded."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlalchemy import text

from inbound.agents import consume
from inbound.events import ITEMS_DLQ_TOPIC
from inbound.service import Verdict
from inbound.store import FeedStore
from infra import connections
from item_service.events import OUTCOMES_TOPIC, RecordOutcome
from tests.inbound.conftest import read_matching

pytestmark = pytest.mark.stack


@pytest.fixture
async def producer(settings):
    producer = connections.kafka_producer(settings)
    await producer.start()
    yield producer
    await producer.stop()


async def statuses_once_settled(feed_store, feed_id: str, expected: list, timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    while True:
        records = await feed_store.feed_records(feed_id, page=1, size=100)
        seen = [(r.index, r.status, r.errors) for r in records]
        if seen == expected or time.monotonic() > deadline:
            return seen
        await asyncio.sleep(0.3)


async def test_outcomes_mark_records_applied_or_dead_lettered(running_worker, feed_store, seller, producer):
    feed_id, _ = await feed_store.open_feed(seller[0])
    await feed_store.record_verdicts(feed_id, [Verdict(i, f"s{i}", f"item{i}", "accepted") for i in range(3)])
    outcomes = [RecordOutcome(feed_id=feed_id, index=0, item_id="item0", status="applied"),
                RecordOutcome(feed_id=feed_id, index=1, item_id="item1", status="applied", stale=True),
                RecordOutcome(feed_id=feed_id, index=2, item_id="item2", status="dead_lettered",
                              errors=["no such item"])]

    for outcome in outcomes:
        await producer.send_and_wait(OUTCOMES_TOPIC, outcome.model_dump_json().encode(), key=feed_id.encode())

    expected = [(0, "applied", []), (1, "applied", []), (2, "dead_lettered", ["no such item"])]
    assert await statuses_once_settled(feed_store, feed_id, expected) == expected


async def test_malformed_outcome_goes_to_the_dlq_with_its_reason(running_worker, producer, tail, unique_name):
    dlq = await tail(ITEMS_DLQ_TOPIC)
    malformed = json.dumps({"feed_id": unique_name, "status": "exploded"}).encode()

    sent = await producer.send_and_wait(OUTCOMES_TOPIC, malformed, key=unique_name.encode())

    letters = await read_matching(dlq, lambda m: unique_name.encode() in (m.value or b""), count=1)
    letter = json.loads(letters[0].value)
    assert (letter["topic"], letter["partition"], letter["offset"]) == (OUTCOMES_TOPIC, sent.partition, sent.offset)
    assert letter["value"] == malformed.decode() and letter["key"] == unique_name
    assert letter["reason"].startswith("not a RecordOutcome")


class FeedStatusRefusing(FeedStore):
    """The real feed status table, with MySQL refusing the outcomes of some records. No outcome the record contract
    accepts is refused by the real UPDATE today (indexes past 2**63, megabytes of errors, NUL and control characters
    all pass), so the refusal is made real as a narrower column would make it: the write of such an outcome also sets a
    status longer than the column, which MySQL refuses (a DataError) in the same way every time."""

    def __init__(self, engine, refused: set[tuple[str, int]]) -> None:
        super().__init__(engine)
        self.refused = refused

    async def record_outcomes(self, outcomes: list[RecordOutcome]) -> None:
        for outcome in (o for o in outcomes if (o.feed_id, o.index) in self.refused):
            async with self.engine.begin() as db:
                await db.execute(text("UPDATE feed_records SET status = :status WHERE feed_id = :feed AND "
                                      "record_index = :index"),
                                 {"status": "x" * 17, "feed": outcome.feed_id, "index": outcome.index})
        await super().record_outcomes(outcomes)


async def test_an_outcome_the_feed_status_table_refuses_is_dead_lettered_and_the_next_one_is_recorded(
        consumer_of_its_own, mysql, feed_store, seller, producer, tail):
    dlq = await tail(ITEMS_DLQ_TOPIC)
    feed_id, _ = await feed_store.open_feed(seller[0])
    await feed_store.record_verdicts(feed_id, [Verdict(i, f"s{i}", f"item{i}", "accepted") for i in range(2)])
    await consumer_of_its_own(consume, FeedStatusRefusing(mysql, {(feed_id, 0)}), 500, 0.2, topic=OUTCOMES_TOPIC)
    refused, after = (RecordOutcome(feed_id=feed_id, index=i, item_id=f"item{i}", status="applied") for i in range(2))

    for outcome in (refused, after):  # keyed by feed: one partition
        await producer.send_and_wait(OUTCOMES_TOPIC, outcome.model_dump_json().encode(), key=feed_id.encode())

    assert (await statuses_once_settled(feed_store, feed_id, [(0, "accepted", []), (1, "applied", [])]))[1] == (
        1, "applied", [])
    letters = await read_matching(dlq, lambda m: m.key == feed_id.encode() and b"feed_status" in m.value, count=1)
    letter = json.loads(letters[0].value)
    assert letter["reason"].startswith("refused by the feed status table: DataError: (1406")
    assert json.loads(letter["value"])["index"] == 0
