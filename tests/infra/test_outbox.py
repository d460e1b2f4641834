"""Publish after commit: committed events reach Kafka in order, rolled-back ones never do."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from infra import connections
from infra.outbox import OutboxRelay, add_event

pytestmark = pytest.mark.stack


async def _create_topic(settings, name: str) -> None:
    from aiokafka.admin import NewTopic

    admin = connections.kafka_admin(settings)
    await admin.start()
    await admin.create_topics([NewTopic(name, 1, 1)])
    await admin.close()


async def _read_all(settings, topic: str, expected: int) -> list[dict]:
    consumer = connections.kafka_consumer(settings, topic, group_id=f"{topic}-reader")
    await consumer.start()
    found: list[dict] = []
    async with asyncio.timeout(20):
        while len(found) < expected:
            batch = await consumer.getmany(timeout_ms=500)
            found += [json.loads(m.value) for records in batch.values() for m in records]
    await consumer.stop()
    return found


async def test_committed_events_are_relayed_in_order_and_rolled_back_ones_never(settings, unique_name):
    await _create_topic(settings, unique_name)
    engine, producer = connections.mysql(settings), connections.kafka_producer(settings)
    await producer.start()
    async with engine.begin() as conn:
        for n in range(3):
            await add_event(conn, unique_name, "order-1", {"n": n})
    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            await add_event(conn, unique_name, "order-1", {"n": "rolled back"})
            raise RuntimeError("the change failed")

    # A running `shop worker` may hold the relay lock; then it relays and this one waits, as in production.
    relay = asyncio.create_task(OutboxRelay(engine, producer).run_forever())
    events = await _read_all(settings, unique_name, 3)
    await asyncio.sleep(0.5)  # the relay deletes the rows it sent right after Kafka's acknowledgement
    relay.cancel()
    async with engine.connect() as conn:
        left = (await conn.execute(text("SELECT COUNT(*) FROM outbox WHERE topic = :t"), {"t": unique_name})).scalar()
    await producer.stop()
    await engine.dispose()
    assert [e["n"] for e in events] == [0, 1, 2]
    assert len({e["event_id"] for e in events}) == 3
    assert left == 0


async def test_a_relay_whose_lock_session_dies_stops_relaying_instead_of_going_on_unlocked(settings, unique_name):
    engine = connections.mysql(settings)
    # Its own lock and nothing to send (batches of 0, no producer): only how it keeps its lock is watched, beside any
    # running worker's relay.
    lock = f"test.outbox.{unique_name}"
    relay = asyncio.create_task(OutboxRelay(engine, None, batch_size=0, lock=lock).run_forever())
    async with engine.connect() as conn:
        async with asyncio.timeout(10):
            while (holder := (await conn.execute(text("SELECT IS_USED_LOCK(:n)"), {"n": lock})).scalar()) is None:
                await asyncio.sleep(0.05)

        await conn.execute(text(f"KILL CONNECTION {int(holder)}"))  # what a database restart does to its session

        await asyncio.wait({relay}, timeout=5)

    relay.cancel()
    await engine.dispose()
    assert relay.done() and not relay.cancelled()
    assert isinstance(relay.exception(), DBAPIError)  # the dead session failed its next check; its caller backs off


async def test_a_relay_whose_producer_broke_opens_a_new_one_and_sends_what_was_pending(settings, unique_name):
    """A producer that lost its broker for good (here: one already stopped) fails the batch; the relay drops it, opens
    a new one and sends the batch, deleting nothing before that. In an outbox of its own (a database of the test's), so
    a running worker's relay cannot send these rows first."""
    await _create_topic(settings, unique_name)
    database = f"{settings.mysql_database}_relay_{unique_name}"[:64]
    admin = connections.mysql(settings)
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE DATABASE `{database}`"))
        await conn.execute(text(f"CREATE TABLE `{database}`.outbox LIKE outbox"))
    engine = connections.mysql(settings.model_copy(update={"mysql_database": database}))
    broken = connections.kafka_producer(settings)
    await broken.start()
    await broken.stop()
    opened = []

    async def open_producer():
        producer = connections.kafka_producer(settings)
        await producer.start()
        opened.append(producer)
        return producer

    try:
        async with engine.begin() as conn:
            for n in range(3):
                await add_event(conn, unique_name, "order-1", {"n": n})
        relay = OutboxRelay(engine, broken, open_producer=open_producer, lock=f"test.outbox.{unique_name}",
                            send_seconds=3)
        running = asyncio.create_task(relay.run_forever())
        events = await _read_all(settings, unique_name, 3)
        await asyncio.sleep(0.5)  # the delete follows Kafka's acknowledgement
        async with engine.connect() as conn:
            left = (await conn.execute(text("SELECT COUNT(*) FROM outbox"))).scalar()
        running.cancel()
    finally:
        for producer in opened:
            await producer.stop()
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS `{database}`"))
        await admin.dispose()
    assert [e["n"] for e in events] == [0, 1, 2]
    assert len(opened) == 1, "the relay should replace its broken producer once"
    assert left == 0
