"""One feed, chunk by chunk: judge each record, store the verdicts, then publish; shared by the API and `shop ingest`.

Verdicts are stored before publishing so an item's outcome, which can come back within milliseconds, finds its row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from inbound.events import ITEMS_TOPIC, REJECTED_TOPIC, ItemRecord, RejectedRecord
from inbound.parse import Parsed
from inbound.service import FeedContext, Verdict, judge
from inbound.store import FeedStore


@dataclass(frozen=True)
class FeedLimits:
    chunk_records: int
    max_records: int


class FeedTooLarge(Exception):
    def __init__(self, feed_id: str, max_records: int) -> None:
        super().__init__(f"the feed has more than {max_records} records; only the first {max_records} were taken")
        self.feed_id, self.max_records = feed_id, max_records


class FeedInterrupted(Exception):
    """Publishing or recording failed part-way; the records before `taken` are recorded and published."""

    def __init__(self, feed_id: str, taken: int) -> None:
        super().__init__(f"the feed stopped after {taken} records; send it again (replays are harmless)")
        self.feed_id, self.taken = feed_id, taken


@dataclass
class FeedSummary:
    feed_id: str
    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def add(self, verdicts: list[Verdict]) -> None:
        for verdict in verdicts:
            if verdict.status == "accepted":
                self.accepted += 1
            else:
                self.rejected.append({"index": verdict.index, "sku": verdict.sku, "errors": verdict.errors})

    @property
    def taken(self) -> int:
        return self.accepted + len(self.rejected)

    def as_json(self) -> dict[str, Any]:
        return {"feed_id": self.feed_id, "accepted": self.accepted, "rejected": self.rejected}


class VersionClock:
    """Receive time in microseconds, strictly increasing, so records of one sku without a version keep their order."""

    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        self.last = max(time.time_ns() // 1000, self.last + 1)
        return self.last


CLOCK = VersionClock()
# Records judged (or sent) between two turns of the event loop: a few milliseconds of work, so other requests are
# served while a large feed is taken.
RECORDS_PER_TURN = 50
log = logging.getLogger(__name__)


async def ingest_feed(parsed: AsyncIterator[Parsed], seller_id: str, *, feeds: FeedStore, producer: Any,
                      limits: FeedLimits, on_chunk: Callable[[int], None] | None = None) -> FeedSummary:
    """Judge, store and publish every record; FeedTooLarge past `limits.max_records`, FeedInterrupted on failure."""
    feed_id, received_at = await feeds.open_feed(seller_id)
    feed, summary = FeedContext(feed_id, seller_id, received_at), FeedSummary(feed_id)
    try:
        async for chunk in _chunks(parsed, limits.chunk_records):
            taken = [(index, raw) for index, raw in chunk if index < limits.max_records]
            await _take_chunk(taken, feed, feeds, producer, summary)
            if on_chunk:
                on_chunk(summary.taken)
            if len(taken) < len(chunk):
                await feeds.close_feed(feed_id, "truncated", summary.taken)
                raise FeedTooLarge(feed_id, limits.max_records)
    except FeedTooLarge:
        raise
    except Exception as error:
        log.exception("feed %s stopped after %d records", feed_id, summary.taken)
        await _mark_failed(feeds, summary)
        raise FeedInterrupted(feed_id, summary.taken) from error
    await feeds.close_feed(feed_id, "complete", summary.taken)
    return summary


async def _take_chunk(chunk: list[Parsed], feed: FeedContext, feeds: FeedStore, producer: Any,
                      summary: FeedSummary) -> None:
    judged = await _judge_all(chunk, feed)
    verdicts = [Verdict.of(record) for record in judged]
    await feeds.record_verdicts(feed.feed_id, verdicts)
    await publish(producer, judged)
    summary.add(verdicts)


async def _judge_all(chunk: list[Parsed], feed: FeedContext) -> list[ItemRecord | RejectedRecord]:
    """Every record's verdict; judging costs 40-100 us a record, so the event loop gets a turn every few records."""
    judged = []
    for index, raw in chunk:
        judged.append(judge(index, raw, feed, default_version=CLOCK.next()))
        if len(judged) % RECORDS_PER_TURN == 0:
            await asyncio.sleep(0)
    return judged


async def publish(producer: Any, judged: list[ItemRecord | RejectedRecord]) -> None:
    """Send the whole chunk, then wait for every acknowledgement, so a failed send fails the feed."""
    deliveries = []
    for record in judged:
        deliveries.append(await producer.send(*_message(record)))
        if len(deliveries) % RECORDS_PER_TURN == 0:
            await asyncio.sleep(0)  # serialising and queueing a record is CPU work too
    await asyncio.gather(*deliveries)


def _message(record: ItemRecord | RejectedRecord) -> tuple[str, bytes, bytes]:
    if isinstance(record, ItemRecord):
        return ITEMS_TOPIC, record.model_dump_json(exclude_none=True).encode(), record.item_id.encode()
    return REJECTED_TOPIC, record.model_dump_json().encode(), record.feed_id.encode()


async def _chunks(parsed: AsyncIterator[Parsed], size: int) -> AsyncIterator[list[Parsed]]:
    chunk: list[Parsed] = []
    async for item in parsed:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def _mark_failed(feeds: FeedStore, summary: FeedSummary) -> None:
    # The original failure is what the caller needs to see, not a second one from marking the feed.
    with contextlib.suppress(Exception):
        await feeds.close_feed(summary.feed_id, "failed", summary.taken)
