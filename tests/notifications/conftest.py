"""Builders for the notification tests: order events, a shopper on file, a real SMTP server, the consumer running."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiosmtpd.controller import Controller
from sqlalchemy import text

from app.topics import TOPICS
from infra import connections
from notifications import agents
from notifications.channels import build_channels
from notifications.store import NotificationStore
from orders.events import ORDERS_TOPIC, OrderEvent, OrderLineSnapshot

REFUSED_DOMAIN = "refused.example"  # the test SMTP server answers 550 for every address there
REFUSED_SENDER_DOMAIN = "refused-sender.example"  # ... and 553 to a sender there


def order_event(type: str = "order_placed", *, user_id: str = "u-unknown", **fields: Any) -> OrderEvent:
    """An event about an order with two lines from seller s-a and one from s-b; keyword arguments override fields."""
    lines = [OrderLineSnapshot(item_id="i1", seller_id="s-a", warehouse_id="W1", title="Cotton shirt", quantity=2,
                               unit_price=Decimal("19.99")),
             OrderLineSnapshot(item_id="i2", seller_id="s-b", warehouse_id="W2", title="Desk lamp", quantity=1,
                               unit_price=Decimal("45.00")),
             OrderLineSnapshot(item_id="i3", seller_id="s-a", warehouse_id="W1", title="Linen scarf", quantity=1,
                               unit_price=Decimal("12.50"))]
    status = {"order_created": "CREATED", "order_placed": "PLACED", "order_cancelled": "CANCELLED",
              "order_shipped": "SHIPPED", "order_delivered": "DELIVERED", "payment_refunded": "CANCELLED"}[type]
    fields = {"event_id": uuid.uuid4().hex, "order_id": uuid.uuid4().hex, "status": status, "pincode": "560001",
              "currency": "INR", "total": Decimal("97.48"), "payment_id": uuid.uuid4().hex, "lines": lines,
              "at": datetime(2024, 5, 1, 10, tzinfo=UTC), **fields}
    return OrderEvent(type=type, user_id=user_id, **fields)


async def eventually(check, timeout: float = 60) -> Any:
    """Polls a check (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"not true within {timeout}s")


async def publish(producer, event: OrderEvent, *, key: str | None = None) -> None:
    """Publishes keyed by the order, or by `key` (to put it behind another event on the same partition)."""
    await producer.send_and_wait(ORDERS_TOPIC, key=(key or event.order_id).encode(),
                                 value=event.model_dump_json().encode())


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address.endswith("@" + REFUSED_SENDER_DOMAIN):
            return "553 5.7.1 sender not allowed"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@" + REFUSED_DOMAIN):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted"

    def to(self, address: str) -> list:
        return [message for message in self.messages if address in message["To"]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture(scope="session")
def notification_store(mysql) -> NotificationStore:
    return NotificationStore(mysql)


@pytest.fixture
async def shopper(notification_store, unique_name) -> dict:
    user = {"user_id": uuid.uuid4().hex, "email": f"{unique_name}@shopper.example", "name": f"Asha {unique_name}"}
    await insert_user(notification_store, user)
    return user


async def insert_user(store: NotificationStore, user: dict) -> None:
    async with store.engine.begin() as db:
        await db.execute(text("INSERT INTO users (user_id, email, name, password_hash, default_pincode) "
                              "VALUES (:user_id, :email, :name, 'x', '560001')"), user)


async def group_at_end(settings, group: str) -> None:
    """Commits the topic's current end offsets for a new group, so its consumer sees only what comes next."""
    consumer = connections.kafka_consumer(settings, group_id=group)
    await consumer.start()
    try:
        count = next(spec.partitions for spec in TOPICS if spec.name == ORDERS_TOPIC)
        partitions = [TopicPartition(ORDERS_TOPIC, p) for p in range(count)]
        consumer.assign(partitions)
        await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


@pytest.fixture(scope="module")
async def notifier(settings, smtp_server, notification_store):
    """The notifications consumer (e-mail and log) in this process, on a group of its own, mailing the test server."""
    group = f"notifications-test-{uuid.uuid4().hex[:8]}"
    await group_at_end(settings, group)
    channels = build_channels(["email", "log"], smtp_host="127.0.0.1", smtp_port=smtp_server.port,
                              smtp_sender="orders@shop.localhost")
    task = asyncio.create_task(agents.consume(settings.kafka_bootstrap, notification_store, channels,
                                              batch_size=100, within=0.1, group=group))
    yield smtp_server
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
