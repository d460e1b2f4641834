"""The notifications consumer: tells the shopper and the sellers about each event on `orders.events`, once.

It runs inside `shop worker` as its own consumer group (`notifications`), like item_service's consumer. Each
(event, recipient, channel) is sent only if the `notifications` table has no row for it, and recorded right after, so a
redelivered event sends nothing again. A server that is away (MySQL, SMTP, Kafka) is waited out with backoff and the
batch's offsets are committed only once every event in it is handled: nothing is skipped. A message that is not an
OrderEvent, or a notification a channel refuses for good, goes to `orders.events.dlq` with its reason."""

from __future__ import annotations

import asyncio
import json
import logging

import aiosmtplib
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import CommitFailedError
from faust.transport.drivers.aiokafka import server_list
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from tenacity import AsyncRetrying, before_sleep_log, retry_if_exception_type, wait_exponential

from inbound.events import DeadLetter
from notifications.channels import Channel
from notifications.service import NOTIFIED_TYPES, Undeliverable, notifications_for
from notifications.store import NotificationStore
from orders.events import ORDERS_DLQ_TOPIC, ORDERS_TOPIC, OrderEvent

log = logging.getLogger(__name__)
GROUP = "notifications"
ATTEMPT_SECONDS = 120
TRANSIENT = (DBAPIError, OSError, aiosmtplib.SMTPException, TimeoutError)


def register(worker, store: NotificationStore, channels: dict[str, Channel], *, batch_size: int,
             within: float) -> None:
    bootstrap = server_list(worker.conf.broker_consumer, 9092)

    @worker.task
    async def notify_order_events() -> None:
        # Kafka being away is waited out: the consumer is rebuilt and resumes from the last committed offset.
        retrying = AsyncRetrying(retry=retry_if_exception_type(Exception), wait=wait_exponential(0.5, max=30),
                                 before_sleep=before_sleep_log(log, logging.WARNING))
        await retrying(consume, bootstrap, store, channels, batch_size, within)


async def consume(bootstrap: list[str] | str, store: NotificationStore, channels: dict[str, Channel],
                  batch_size: int, within: float, *, group: str = GROUP) -> None:
    consumer = AIOKafkaConsumer(ORDERS_TOPIC, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_poll_records=batch_size)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    try:
        await consumer.start()
        await producer.start()
        while True:
            batch = await consumer.getmany(timeout_ms=int(within * 1000), max_records=batch_size)
            messages = [message for messages in batch.values() for message in messages]
            if messages:
                await handle_batch(producer, store, channels, messages)
                try:
                    await consumer.commit()
                except CommitFailedError:
                    log.warning("notifications: partitions moved during a batch; it will be delivered again "
                                "(nothing is sent twice)")
    finally:
        await asyncio.gather(consumer.stop(), producer.stop(), return_exceptions=True)


async def handle_batch(producer, store: NotificationStore, channels: dict[str, Channel], messages: list) -> None:
    """Notify about every event of the batch in order; dead letters are in Kafka before this returns."""
    dead_letters = []
    for message in messages:
        event, problem = read_event(message.value)
        if event is None:
            dead_letters.append(dead_letter(message, problem))
            continue
        refusals = await until_notified(store, channels, event)
        dead_letters.extend(dead_letter(message, refusal) for refusal in refusals)
    sent = [await producer.send(ORDERS_DLQ_TOPIC, key=message_key, value=json.dumps(letter).encode())
            for message_key, letter in dead_letters]
    await asyncio.gather(*sent)


def read_event(raw: bytes | None) -> tuple[OrderEvent | None, str]:
    try:
        event = OrderEvent.model_validate_json(raw or b"")
    except ValidationError as error:
        return None, f"not an OrderEvent: {_first_error(error)}"
    if not event.event_id:
        return None, "not an OrderEvent: event_id is empty, so its notifications could not be deduplicated"
    return event, ""


async def until_notified(store: NotificationStore, channels: dict[str, Channel], event: OrderEvent) -> list[str]:
    """MySQL or the SMTP server being away is waited out, never skipped; what was sent before is not sent again."""
    retrying = AsyncRetrying(retry=retry_if_exception_type(TRANSIENT), wait=wait_exponential(0.2, max=30),
                             before_sleep=before_sleep_log(log, logging.WARNING))
    return await retrying(notify, store, channels, event)


async def notify(store: NotificationStore, channels: dict[str, Channel], event: OrderEvent) -> list[str]:
    """Sends and records the event's notifications not sent yet; returns the reasons of final refusals."""
    if event.type not in NOTIFIED_TYPES:
        return []
    # A server that accepts connections but stops answering must fail the attempt too, or nothing would retry.
    async with asyncio.timeout(ATTEMPT_SECONDS):
        shopper = await store.contact(event.user_id)
        done = await store.already_sent(event.event_id)
        wanted = notifications_for(event, shopper, channels)
        refusals = []
        # The log goes first, so an SMTP server that is away delays only the e-mail.
        for notification in sorted(wanted, key=lambda n: n.channel == "email"):
            if (notification.recipient, notification.channel) in done:
                continue
            try:
                await channels[notification.channel](notification)
            except Undeliverable as refusal:
                refusals.append(f"{notification.channel} to {notification.recipient}: {refusal.reason}")
                continue
            await store.record_sent(notification)
    return refusals


def dead_letter(message, reason: str) -> tuple[bytes | None, dict]:
    letter = DeadLetter(reason=reason, topic=message.topic, partition=message.partition, offset=message.offset,
                        key=_text(message.key), value=_text(message.value))
    return message.key, {**letter.model_dump(), "consumer": "notifications"}


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def _text(raw: bytes | None) -> str | None:
    return raw.decode("utf-8", errors="replace") if raw is not None else None
