"""The notifications consumer: tells the shopper and the sellers about each event on `orders.events`, once.

It runs inside `shop worker` as its own consumer group (`notifications`), like item_service's consumer. Each
(event, recipient, channel) is sent only if the `notifications` table has no row for it, and recorded right after, so a
redelivered event sends nothing again. A server that is away, slow or busy (MySQL, SMTP, Kafka) is waited out with
backoff and the batch's offsets are committed only once every event in it is handled: nothing is skipped. A message that
is not an OrderEvent, or a notification that retrying cannot help (`service.retrying_can_help`: a header the e-mail
library refuses, a mailbox refused with 5xx, ...), goes to `orders.events.dlq` with its reason and the consumer moves on,
so one shopper's stored name cannot stall everyone's notifications."""

from __future__ import annotations

import logging
from functools import partial

from pydantic import ValidationError

from infra.consumer import add_consumer, consume_batches, dead_letter_records, first_error, send_all, until_done
from notifications.channels import Channel
from notifications.service import NOTIFIED_TYPES, notifications_for, refusal_reason, retrying_can_help
from notifications.store import NotificationStore
from orders.events import ORDERS_DLQ_TOPIC, ORDERS_TOPIC, OrderEvent

log = logging.getLogger(__name__)
GROUP = "notifications"


class RetryLater(Exception):
    """A failure retrying can help (a server away, slow or busy); the event is tried again, with backoff."""


# TimeoutError: an attempt that outlives until_done's time limit.
TRANSIENT = (RetryLater, TimeoutError)


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
    """MySQL or the SMTP server being away is waited out, never skipped; what was sent before is not sent again; what
    retrying cannot help is returned as refusals, to be dead-lettered."""
    return await until_done(log, TRANSIENT, notify_or_refuse, store, channels, event)


async def notify_or_refuse(store: NotificationStore, channels: dict[str, Channel], event: OrderEvent) -> list[str]:
    """`notify`, with a failure of the whole event sorted: retried when retrying can help, else its one refusal."""
    try:
        return await notify(store, channels, event)
    except Exception as error:
        if retrying_can_help(error):
            raise RetryLater(f"{type(error).__name__}: {error}") from error
        log.exception("notifications: event %s cannot be notified; dead-lettering it", event.event_id)
        return [f"cannot notify about event {event.event_id}: {refusal_reason(error)}"]


async def notify(store: NotificationStore, channels: dict[str, Channel], event: OrderEvent) -> list[str]:
    """Sends and records the event's notifications not sent yet; returns why each that retrying cannot help was
    refused, and raises a failure that retrying can help."""
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
        except Exception as error:
            if retrying_can_help(error):
                raise
            log.warning("notifications: %s to %s of event %s refused for good: %s", notification.channel,
                        notification.recipient, event.event_id, refusal_reason(error))
            refusals.append(f"{notification.channel} to {notification.recipient}: {refusal_reason(error)}")
            continue
        await store.record_sent(notification)
    return refusals
