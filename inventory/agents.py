"""The feed-stock consumer: sets stock from the `stock` lists of `catalog.items` records, newest feed version wins.

It runs inside `shop worker` as its own consumer group (`inventory`), like the item service's, so neither stalls the
other. Offsets are committed only after a batch is applied and its dead letters are in Kafka; a redelivered batch
changes nothing (the store ignores feed versions it has already applied)."""

from __future__ import annotations

import asyncio
import json
import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import CommitFailedError
from faust.transport.drivers.aiokafka import server_list
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from tenacity import AsyncRetrying, before_sleep_log, retry_if_exception_type, wait_exponential

from inbound.events import ITEMS_DLQ_TOPIC, ITEMS_TOPIC, DeadLetter, ItemRecord
from inventory import service
from inventory.service import FeedStock, InvalidStock
from inventory.store import StockStore

log = logging.getLogger(__name__)
GROUP = "inventory"
ATTEMPT_SECONDS = 120
ITEMS_AT_ONCE = 8  # items of a batch set concurrently, each in its own transaction


def register(worker, stock: StockStore, *, batch_size: int, within: float) -> None:
    bootstrap = server_list(worker.conf.broker_consumer, 9092)

    @worker.task
    async def apply_feed_stock() -> None:
        # Kafka or MySQL being away is waited out: the consumer is rebuilt and resumes from the last committed offset.
        retrying = AsyncRetrying(retry=retry_if_exception_type(Exception), wait=wait_exponential(0.5, max=30),
                                 before_sleep=before_sleep_log(log, logging.WARNING))
        await retrying(consume, bootstrap, stock, batch_size, within)


async def consume(bootstrap: list[str] | str, stock: StockStore, batch_size: int, within: float, *,
                  group: str = GROUP) -> None:
    consumer = AIOKafkaConsumer(ITEMS_TOPIC, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_poll_records=batch_size)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    try:
        await consumer.start()
        await producer.start()
        while True:
            batch = await consumer.getmany(timeout_ms=int(within * 1000), max_records=batch_size)
            messages = [message for messages in batch.values() for message in messages]
            if messages:
                await apply_and_commit(consumer, producer, stock, messages)
    finally:
        await asyncio.gather(consumer.stop(), producer.stop(), return_exceptions=True)


async def apply_and_commit(consumer, producer, stock: StockStore, messages: list) -> None:
    dead_letters = await apply_messages(stock, messages)
    sent = [await producer.send(ITEMS_DLQ_TOPIC, key=(letter["key"] or "").encode() or None,
                                value=json.dumps(letter).encode()) for letter in dead_letters]
    await asyncio.gather(*sent)
    try:
        await consumer.commit()
    except CommitFailedError:
        log.warning("inventory: partitions moved during a batch; its records will be delivered again (no change)")


async def apply_messages(stock: StockStore, messages: list) -> list[dict]:
    """Set the stock the batch's records state; returns the dead letters of those that cannot be used."""
    stated, dead_letters = [], []
    for message in messages:
        try:
            record = ItemRecord.model_validate_json(message.value or b"")
            if record.op == "delete" or record.fields.stock is None:
                continue
            lines = [(line.warehouse_id, line.quantity) for line in record.fields.stock]
            service.check_feed_stock(record.item_id, lines)
        except ValidationError as error:
            dead_letters.append(dead_letter(message, f"unreadable record: {_first_error(error)}"))
        except InvalidStock as error:
            dead_letters.append(dead_letter(message, f"unusable stock: {error}"))
        else:
            stated.append(FeedStock(record.item_id, record.version, dict(lines)))
    newest = service.newest_feed_stock(stated)
    for start in range(0, len(newest), ITEMS_AT_ONCE):
        await asyncio.gather(*(until_applied(stock, item) for item in newest[start:start + ITEMS_AT_ONCE]))
    return dead_letters


async def until_applied(stock: StockStore, stated: FeedStock) -> None:
    """MySQL being away (or a deadlock) is waited out, never skipped: the item is retried until its stock is set."""
    retrying = AsyncRetrying(retry=retry_if_exception_type((OperationalError, InterfaceError, TimeoutError)),
                             wait=wait_exponential(0.2, max=30), before_sleep=before_sleep_log(log, logging.WARNING))
    await retrying(_set_stock, stock, stated)


async def _set_stock(stock: StockStore, stated: FeedStock) -> None:
    async with asyncio.timeout(ATTEMPT_SECONDS):
        levels = service.feed_levels(stated.quantities, await stock.levels(stated.item_id))
        await stock.set_levels(stated.item_id, levels, feed_version=stated.version)


def dead_letter(message, reason: str) -> dict:
    """The shared dead-letter shape, plus which consumer refused the message (others may refuse the same one)."""
    letter = DeadLetter(reason=reason, topic=message.topic, partition=message.partition, offset=message.offset,
                        key=_text(message.key), value=_text(message.value))
    return {**letter.model_dump(), "consumer": "inventory"}


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def _text(raw: bytes | None) -> str | None:
    return raw.decode("utf-8", errors="replace") if raw is not None else None
