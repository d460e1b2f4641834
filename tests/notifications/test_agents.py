"""The notifications consumer on the real stack: events on Kafka become one e-mail to the shopper (a real SMTP server)
and log lines for the sellers, recorded in MySQL; redeliveries send nothing more; poison goes to the DLQ."""

from __future__ import annotations

import asyncio
import json
import logging

import aiosmtplib
import pytest
from sqlalchemy import exc as sql

from notifications.agents import until_notified
from notifications.channels import build_channels, log_channel
from notifications.store import NotificationStore
from orders.events import ORDERS_DLQ_TOPIC, ORDERS_TOPIC
from tests.conftest import next_matching
from tests.notifications.conftest import eventually, free_port, insert_user, order_event, publish

pytestmark = pytest.mark.stack


def rows_of(store, event, count: int):
    async def check():
        rows = [row for row in await store.sent_for_order(event.order_id) if row["event_id"] == event.event_id]
        return rows if len(rows) >= count else None

    return check


def sent_to(rows) -> set[tuple[str, str]]:
    return {(row["recipient"], row["channel"]) for row in rows}


def from_notifications(key: str):
    return lambda message: message.key == key.encode() and json.loads(message.value).get("consumer") == "notifications"


async def test_a_placed_order_mails_the_shopper_once_and_logs_for_each_seller(notifier, producer, shopper,
                                                                                notification_store):
    event = order_event("order_placed", user_id=shopper["user_id"], order_id="1a2b3c4d" + "0" * 24)

    await publish(producer, event)

    [mail] = await eventually(lambda: notifier.to(shopper["email"]))
    assert mail["Subject"] == "Your order 1a2b3c4d… is placed"
    assert f"Hello {shopper['name']}," in mail.get_content() and "Total: INR 97.48" in mail.get_content()
    rows = await eventually(rows_of(notification_store, event, 4))
    user = f"user:{shopper['user_id']}"
    assert sent_to(rows) == {(user, "email"), (user, "log"), ("seller:s-a", "log"), ("seller:s-b", "log")}


async def test_a_redelivered_event_sends_nothing_more(notifier, producer, shopper, notification_store):
    placed = order_event("order_placed", user_id=shopper["user_id"])
    shipped = order_event("order_shipped", user_id=shopper["user_id"], order_id=placed.order_id)
    await publish(producer, placed)
    await eventually(rows_of(notification_store, placed, 4))

    await publish(producer, placed)
    await publish(producer, shipped)  # same order, same partition: handled after the redelivery

    await eventually(rows_of(notification_store, shipped, 4))
    subjects = [mail["Subject"] for mail in notifier.to(shopper["email"])]
    assert sorted(subjects) == sorted([f"Your order {placed.order_id[:8]}… is placed",
                                       f"Your order {placed.order_id[:8]}… has shipped"])
    assert len(await rows_of(notification_store, placed, 4)()) == 4


async def test_an_order_being_created_notifies_nobody(notifier, producer, shopper, notification_store):
    created = order_event("order_created", user_id=shopper["user_id"])
    placed = order_event("order_placed", user_id=shopper["user_id"], order_id=created.order_id)

    await publish(producer, created)
    await publish(producer, placed)

    await eventually(rows_of(notification_store, placed, 4))
    types = [row["event_type"] for row in await notification_store.sent_for_order(created.order_id)]
    assert types == ["order_placed"] * 4
    assert len(notifier.to(shopper["email"])) == 1


async def test_a_shopper_not_on_file_is_told_on_the_log_channel_only(notifier, producer, notification_store):
    event = order_event("order_delivered", user_id="nobody-on-file")

    await publish(producer, event)

    rows = await eventually(rows_of(notification_store, event, 3))
    assert sent_to(rows) == {("user:nobody-on-file", "log"), ("seller:s-a", "log"), ("seller:s-b", "log")}


async def test_a_malformed_message_goes_to_the_dlq_and_the_next_event_is_handled(notifier, producer, shopper, tail,
                                                                                notification_store):
    dlq = await tail(ORDERS_DLQ_TOPIC)
    event = order_event("order_cancelled", user_id=shopper["user_id"], cancel_reason="payment_failed")

    await producer.send_and_wait(ORDERS_TOPIC, key=event.order_id.encode(), value=b"{not an order event")
    await publish(producer, event)

    letter = json.loads((await next_matching(dlq, from_notifications(event.order_id))).value)
    assert letter["reason"].startswith("not an OrderEvent") and letter["value"] == "{not an order event"
    assert letter["topic"] == ORDERS_TOPIC and {"partition", "offset"} <= set(letter)
    [mail] = await eventually(lambda: notifier.to(shopper["email"]))
    assert "the payment did not go through" in mail.get_content()


async def test_a_mailbox_refused_for_good_is_dead_lettered_and_the_log_still_goes_out(notifier, producer, tail,
                                                                                   notification_store, unique_name):
    dlq = await tail(ORDERS_DLQ_TOPIC)
    user = {"user_id": unique_name, "email": f"{unique_name}@refused.example", "name": "Ghost"}
    await insert_user(notification_store, user)
    event = order_event("order_shipped", user_id=user["user_id"])

    await publish(producer, event)

    letter = json.loads((await next_matching(dlq, from_notifications(event.order_id))).value)
    assert letter["reason"].startswith(f"email to user:{unique_name}: e-mail refused: 550")
    rows = await eventually(rows_of(notification_store, event, 3))
    assert ("user:" + unique_name, "email") not in sent_to(rows) and ("user:" + unique_name, "log") in sent_to(rows)


async def test_while_the_smtp_server_is_away_the_log_goes_out_and_the_email_is_retried_not_skipped(
        shopper, notification_store, caplog):
    channels = build_channels(["email", "log"], smtp_host="127.0.0.1", smtp_port=free_port(),
                              smtp_sender="orders@shop.localhost")
    event = order_event("order_placed", user_id=shopper["user_id"])
    caplog.set_level(logging.WARNING, logger="notifications.agents")

    notifying = asyncio.create_task(until_notified(notification_store, channels, event))
    await asyncio.sleep(3)

    assert not notifying.done()
    assert sum("Retrying" in line for line in caplog.messages) >= 3
    assert ("user:" + shopper["user_id"], "email") not in await notification_store.already_sent(event.event_id)
    assert len(await notification_store.already_sent(event.event_id)) == 3  # the shopper's and the sellers' log lines
    notifying.cancel()
    await asyncio.gather(notifying, return_exceptions=True)


async def test_a_stored_name_with_a_newline_is_dead_lettered_and_the_next_shopper_still_gets_mail(
        notifier, producer, tail, shopper, notification_store, unique_name):
    dlq = await tail(ORDERS_DLQ_TOPIC)
    # Stored before names were checked at sign-up: straight into MySQL, past the API.
    broken = {"user_id": unique_name, "email": f"stored-{unique_name}@shopper.example", "name": "Asha\nRao"}
    await insert_user(notification_store, broken)
    stuck = order_event("order_placed", user_id=broken["user_id"])
    after = order_event("order_placed", user_id=shopper["user_id"])

    await publish(producer, stuck)
    await publish(producer, after, key=stuck.order_id)  # on the same partition, right behind it

    letter = json.loads((await next_matching(dlq, from_notifications(stuck.order_id))).value)
    assert letter["reason"].startswith(f"email to user:{unique_name}: the e-mail cannot be written: ")
    assert json.loads(letter["value"])["event_id"] == stuck.event_id and letter["topic"] == ORDERS_TOPIC
    [mail] = await eventually(lambda: notifier.to(shopper["email"]))
    assert mail["Subject"] == f"Your order {after.order_id[:8]}… is placed"
    rows = await eventually(rows_of(notification_store, stuck, 3))
    assert (f"user:{unique_name}", "email") not in sent_to(rows) and (f"user:{unique_name}", "log") in sent_to(rows)


UNBUILDABLE = "Header values may not contain linefeed or carriage return characters"


async def test_a_notification_a_channel_cannot_build_is_refused_at_once_and_the_others_go_out(shopper,
                                                                                              notification_store):
    async def unbuildable(notification):
        raise ValueError(UNBUILDABLE)

    event = order_event("order_placed", user_id=shopper["user_id"])

    refusals = await asyncio.wait_for(until_notified(notification_store, {"email": unbuildable, "log": log_channel()},
                                                     event), timeout=10)

    [refusal] = refusals
    assert refusal == f"email to user:{shopper['user_id']}: ValueError: {UNBUILDABLE}"
    assert len(await notification_store.already_sent(event.event_id)) == 3  # the shopper's and the sellers' log lines


async def test_a_4xx_from_the_smtp_server_is_retried_until_the_email_goes_out(shopper, notification_store):
    answers = [aiosmtplib.SMTPRecipientRefused(451, "4.3.0 try again later", shopper["email"])] * 2
    sent = []

    async def busy_then_fine(notification):
        if answers:
            raise answers.pop()
        sent.append(notification)

    event = order_event("order_placed", user_id=shopper["user_id"])

    refusals = await asyncio.wait_for(until_notified(notification_store, {"email": busy_then_fine}, event), timeout=30)

    assert refusals == [] and len(sent) == 1 and answers == []
    assert await notification_store.already_sent(event.event_id) == {(f"user:{shopper['user_id']}", "email")}


async def test_an_event_whose_notifications_mysql_refuses_to_store_is_refused_not_retried(shopper, mysql):
    class RefusingStore(NotificationStore):
        async def record_sent(self, notification):
            raise sql.DataError("INSERT INTO notifications ...", None, Exception(1406, "Data too long for column"))

    event = order_event("order_delivered", user_id=shopper["user_id"])

    refusals = await asyncio.wait_for(until_notified(RefusingStore(mysql), {"log": log_channel()}, event), timeout=10)

    [refusal] = refusals
    assert refusal.startswith(f"cannot notify about event {event.event_id}: DataError: ")
