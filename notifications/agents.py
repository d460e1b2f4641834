"""The notifications consumer: tells the shopper and the sellers about each event on `orders.events`, once.

It runs inside `shop worker` as its own consumer group (`notifications`), like item_service's consumer. Each
(event, recipient, channel) is sent only if the `notifications` table has no row for it, and recorded right after, so a
redelivered event sends nothing again. A server that is away (MySQL, SMTP, Kafka) is waited out with backoff and the
batch's offsets are committed only once every event in it is handled: nothing is skipped. A message that is not an
OrderEvent, or a notification a channel refuses for good, goes to `orders.events.dlq` with its reason."""

from __future__ import annotations

import logging
from functools import partial

import aiosmtplib
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from infra.consumer import add_consumer, consume_batches, dead_letter_records, first_error, send_all, until_done
from notifications.channels import Channel
from notifications.service import NOTIFIED_TYPES, Undeliverable, notifications_for
from notifications.store import NotificationStore
from orders.events import ORDERS_DLQ_TOPIC, ORDERS_TOPIC, OrderEvent

log = logging.getLogger(__name__)
GROUP = "notifications"
TRANSIENT = (DBAPIError, OSError, aiosmtplib.SMTPException, TimeoutError)


def register(worker, store: NotificationStore, channels: dict[str, Channel], *, batch_size: int,
             within: float) -> None:
    add_consumer(worker, "notify_order_events", log, consume, store, channels, batch_size, within)


async def consume(bootstrap: list[str] | str, store: NotificationStore, channels: dict[str, Channel],
                  batch_size: int, within: float, *, group: str = GROUP) -> None:
    await consume_batches(bootstrap, ORDERS_TOPIC, group=group, batch_size=batch_size, within=within,
                          apply_batch=partial(handle_batch, store, channels), log=log,
                          moved_warning="notifications: partitions moved during a batch; it will be delivered "
                                        "again (nothing is sent twice)")


async def handle_batch(store: NotificationStore, channels: dict[str, Channel], producer, messages: list) -> None:
    """Notify about every event of the batch in order; dead letters are in Kafka before this returns."""
    dead_letters = []
    for message in messages:
        event, problem = read_event(message.value)
        if event is None:
            dead_letters.append((message, problem))
            continue
        refusals = await until_notified(store, channels, event)
        dead_letters.extend((message, refusal) for refusal in refusals)
    await send_all(producer, dead_letter_records(ORDERS_DLQ_TOPIC, dead_letters, consumer="notifications"))


def read_event(raw: bytes | None) -> tuple[OrderEvent | None, str]:
    try:
        event = OrderEvent.model_validate_json(raw or b"")
    except ValidationError as error:
        return None, f"not an OrderEvent: {first_error(error)}"
    if not event.event_id:
        return None, "not an OrderEvent: event_id is empty, so its notifications could not be deduplicated"
    return event, ""


async def until_notified(store: NotificationStore, channels: dict[str, Channel], event: OrderEvent) -> list[str]:
    """MySQL or the SMTP server being away is waited out, never skipped; what was sent before is not sent again."""
    return await until_done(log, TRANSIENT, notify, store, channels, event)


async def notify(store: NotificationStore, channels: dict[str, Channel], event: OrderEvent) -> list[str]:
    """Sends and records the event's notifications not sent yet; returns the reasons of final refusals."""
    if event.type not in NOTIFIED_TYPES:
        return []
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
