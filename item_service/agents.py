"""The item consumer: applies `catalog.items` to MongoDB a batch at a time, reports every record's fate on
`catalog.items.outcomes`, and sends unreadable or refused records to `catalog.items.dlq` with their reason.

It runs inside `shop worker` as a consumer group of its own (`item-service`), not as a faust agent: two faust agents on
one topic share the app's group, so one stalling stalls the other once faust's buffer fills, and a rebalance can leave
faust waiting forever for records one of them never got. Offsets are committed only after a batch is applied and its
outcomes are in Kafka, so nothing is skipped; a redelivered batch changes nothing."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import CommitFailedError
from faust.transport.drivers.aiokafka import server_list
from pydantic import ValidationError
from pymongo.errors import PyMongoError
from tenacity import AsyncRetrying, before_sleep_log, retry_if_exception_type, wait_exponential

from inbound.events import ITEMS_DLQ_TOPIC, ITEMS_TOPIC, DeadLetter, ItemRecord
from item_service import service
from item_service.events import OUTCOMES_TOPIC, RecordOutcome
from item_service.store import ItemStore

log = logging.getLogger(__name__)
GROUP = "item-service"
ATTEMPT_SECONDS = 120


def register(worker, items: ItemStore, *, batch_size: int, within: float) -> None:
    bootstrap = server_list(worker.conf.broker_consumer, 9092)

    @worker.task
    async def apply_catalog_items() -> None:
        # Kafka being away (at start or later) is waited out like MongoDB: the consumer is rebuilt and resumes from
        # the last committed offset.
        retrying = AsyncRetrying(retry=retry_if_exception_type(Exception), wait=wait_exponential(0.5, max=30),
                                 before_sleep=before_sleep_log(log, logging.WARNING))
        await retrying(consume, bootstrap, items, batch_size, within)


async def consume(bootstrap: list[str], items: ItemStore, batch_size: int, within: float) -> None:
    consumer = AIOKafkaConsumer(ITEMS_TOPIC, bootstrap_servers=bootstrap, group_id=GROUP, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_poll_records=batch_size)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    try:
        await consumer.start()
        await producer.start()
        while True:
            batch = await consumer.getmany(timeout_ms=int(within * 1000), max_records=batch_size)
            messages = [message for messages in batch.values() for message in messages]
            if messages:
                await apply_and_commit(consumer, producer, items, messages)
    finally:
        await asyncio.gather(consumer.stop(), producer.stop(), return_exceptions=True)


async def apply_and_commit(consumer, producer, items: ItemStore, messages: list) -> None:
    began = time.perf_counter()
    outcomes, dead_letters = await apply_messages(items, messages)
    await publish(producer, outcomes, dead_letters)
    try:
        await consumer.commit()
    except CommitFailedError:
        log.warning("items: partitions moved during a batch; its records will be delivered again (no change)")
    seconds = time.perf_counter() - began
    log.info("items: %d records in %.3fs (%.0f/s)", len(messages), seconds, len(messages) / max(seconds, 1e-6))


async def apply_messages(items: ItemStore, messages: list) -> tuple[list[RecordOutcome], list[dict]]:
    """Apply one batch; returns the outcome of every record that names its feed, and the dead letters."""
    records, readable, outcomes, dead_letters = [], [], [], []
    for message in messages:
        try:
            records.append(ItemRecord.model_validate_json(message.value or b""))
            readable.append(message)
        except ValidationError as error:
            reason = f"unreadable record: {_first_error(error)}"
            dead_letters.append(dead_letter(message, reason))
            outcome = service.outcome_of_unreadable(message.value, _text(message.key), reason)
            outcomes.extend([outcome] if outcome else [])
    if records:
        result = await until_applied(items, records)
        outcomes.extend(result.outcomes)
        dead_letters.extend(dead_letter(message, outcome.errors[0]) for message, outcome in
                            zip(readable, result.outcomes) if outcome.status == "dead_lettered")
    return outcomes, dead_letters


async def until_applied(items: ItemStore, records: list[ItemRecord]) -> service.BatchResult:
    """MongoDB being away is waited out, never skipped: the batch is retried until it is applied."""
    retrying = AsyncRetrying(retry=retry_if_exception_type((PyMongoError, TimeoutError)),
                             wait=wait_exponential(0.2, max=30), before_sleep=before_sleep_log(log, logging.WARNING))
    return await retrying(_apply_records, items, records)


async def _apply_records(items: ItemStore, records: list[ItemRecord]) -> service.BatchResult:
    # A server that accepts connections but stops answering must fail the attempt too, or nothing would retry.
    async with asyncio.timeout(ATTEMPT_SECONDS):
        stored = await items.current_docs({record.item_id for record in records})
        result = service.apply_batch(stored, records, now=utc_now())
        versions = {item_id: document["version"] for item_id, document in stored.items()}
        await items.write_newer(result.documents, stored_versions=versions)
    return result


async def publish(producer, outcomes: list[RecordOutcome], dead_letters: list[dict]) -> None:
    """Send everything and wait until Kafka has it, before the batch's offsets are committed."""
    sent = [await producer.send(OUTCOMES_TOPIC, key=outcome.feed_id.encode(), value=outcome.model_dump_json().encode())
            for outcome in outcomes]
    sent += [await producer.send(ITEMS_DLQ_TOPIC, key=_raw(letter["key"]), value=json.dumps(letter).encode())
             for letter in dead_letters]
    await asyncio.gather(*sent)


def dead_letter(message, reason: str) -> dict:
    """The shared dead-letter shape, plus which consumer refused the message (search may refuse the same one)."""
    letter = DeadLetter(reason=reason, topic=message.topic, partition=message.partition, offset=message.offset,
                        key=_text(message.key), value=_text(message.value))
    return {**letter.model_dump(), "consumer": "item_service"}


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def _text(raw: bytes | None) -> str | None:
    return raw.decode("utf-8", errors="replace") if raw is not None else None


def _raw(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None
