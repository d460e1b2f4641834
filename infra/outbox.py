"""Publish after commit: `add_event` writes an event in the caller's transaction; `OutboxRelay` sends committed events
to Kafka in id order and deletes them once acknowledged (at least once; every event carries an `event_id` to dedupe)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, cast

from pydantic import BaseModel
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from infra import driver_sql

log = logging.getLogger(__name__)
RELAY_LOCK = "shop.outbox.relay"  # one relay at a time keeps each key's events in commit order
HOLDS_LOCK = text("SELECT IS_USED_LOCK(:n) <=> CONNECTION_ID()")
# Built once, and run on the driver (`infra.driver_sql`): every order placement and change writes one.
INSERT_EVENT = driver_sql.DriverStatement(text("INSERT INTO outbox (topic, event_key, payload) VALUES (:t, :k, :p)"))


class Identified(Protocol):
    """An event record with its own id field (the folders' events carry one, so consumers can drop duplicates)."""

    event_id: str | None


async def add_event(conn: AsyncConnection, topic: str, key: str, event: BaseModel | dict[str, Any]) -> str:
    """Queue `event` for `topic`; it is published only if the surrounding transaction commits. Returns its event_id."""
    event_id, payload = _payload(event)
    await driver_sql.execute(conn, INSERT_EVENT, {"t": topic, "k": key, "p": payload})
    return event_id


async def add_events(conn: AsyncConnection, events: Sequence[tuple[str, str, BaseModel]]) -> None:
    """Queue many `(topic, key, event)` in one multi-row insert, in the caller's transaction."""
    if events:
        await driver_sql.execute_many(conn, INSERT_EVENT, _rows(events))


def adding_events(events: Sequence[tuple[str, str, BaseModel]]) -> driver_sql.Step:
    """`add_events` as a statement of a batch (`driver_sql.execute_batch`); at least one event."""
    return driver_sql.Step(INSERT_EVENT, _rows(events))


def _rows(events: Sequence[tuple[str, str, BaseModel]]) -> list[dict[str, str]]:
    return [{"t": topic, "k": key, "p": _payload(event)[1]} for topic, key, event in events]


def _payload(event: BaseModel | dict[str, Any]) -> tuple[str, str]:
    """The event's id (a new one when it has none) and its JSON."""
    if isinstance(event, BaseModel) and "event_id" in type(event).model_fields:
        # Serialised by pydantic-core in one step: the sweeper writes hundreds of these per transaction.
        event_id = cast(Identified, event).event_id
        if not event_id:
            event_id = uuid.uuid4().hex
            event = event.model_copy(update={"event_id": event_id})
        return event_id, event.model_dump_json()
    payload = event.model_dump(mode="json") if isinstance(event, BaseModel) else dict(event)
    payload["event_id"] = payload.get("event_id") or uuid.uuid4().hex
    return payload["event_id"], json.dumps(payload, default=str)


class OutboxRelay:
    """`open_producer`, when given, makes a new producer after a batch failed or did not finish within `send_seconds`:
    a client that lost its broker (a restart) may stay stuck on a connection that never comes back."""

    def __init__(self, engine: AsyncEngine, producer, batch_size: int = 500, idle_seconds: float = 0.05,
                 lock: str = RELAY_LOCK, open_producer: Callable[[], Awaitable[Any]] | None = None,
                 send_seconds: float = 30) -> None:
        self.engine, self.producer, self.open_producer = engine, producer, open_producer
        self.batch_size, self.idle_seconds, self.lock = batch_size, idle_seconds, lock
        self.send_seconds = send_seconds

    async def run_forever(self) -> None:
        while True:
            await self._relay_while_locked()
            log.warning("outbox relay lost the relay lock (its database session ended); taking it again")

    async def _relay_while_locked(self) -> None:
        """Relays for as long as this session holds the relay lock. A lost session (a database restart, a killed
        connection) frees the lock while the relay runs and lets another relay take it, so every batch checks first;
        a failed check on a dead connection raises, and the caller's backoff starts over."""
        async with self.engine.connect() as lock_conn:
            # Waits here while another process relays; takes over if that one dies (its session ends, the lock frees).
            while not (await lock_conn.execute(text("SELECT GET_LOCK(:n, 5)"), {"n": self.lock})).scalar():
                await asyncio.sleep(self.idle_seconds)
            while (await lock_conn.execute(HOLDS_LOCK, {"n": self.lock})).scalar():
                try:
                    sent = await self.relay_once()
                except Exception:  # a broker or database hiccup: log it and retry; nothing is deleted unsent
                    log.exception("outbox relay failed; retrying")
                    sent = 0
                    await self._drop_producer()
                    await asyncio.sleep(1)
                if not sent:
                    await asyncio.sleep(self.idle_seconds)

    async def relay_once(self) -> int:
        """Send the oldest pending events; delete them only after Kafka acknowledged every one. Returns how many."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, topic, event_key, payload FROM outbox ORDER BY id LIMIT :n"),
                                       {"n": self.batch_size})).all()
            await conn.rollback()
        if not rows:
            return 0
        if self.producer is None and self.open_producer is not None:
            self.producer = await self.open_producer()
        async with asyncio.timeout(self.send_seconds):
            acks = [await self.producer.send(r.topic, key=r.event_key.encode(), value=r.payload.encode()) for r in rows]
            await asyncio.gather(*acks)
        async with self.engine.begin() as conn:
            # Exactly the ids sent: a lower id committed meanwhile (a slower transaction) is still pending, not lost.
            await conn.execute(text("DELETE FROM outbox WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)),
                               {"ids": [r.id for r in rows]})
        return len(rows)

    async def _drop_producer(self) -> None:
        """After a failed batch: stop the producer (the next batch opens a new one), when this relay can open one."""
        if self.open_producer is None or self.producer is None:
            return
        stopping, self.producer = self.producer, None
        try:
            async with asyncio.timeout(10):
                await stopping.stop()
        except Exception:
            log.warning("outbox relay: the failed producer did not stop cleanly", exc_info=True)


async def relay_to_kafka(engine: AsyncEngine, bootstrap: str | list[str]) -> None:
    """Every folder's outbox events to Kafka, through a producer of the relay's own (one relay holds the lock;
    another worker's waits to take over)."""
    from infra import connections

    async def open_producer():
        producer = connections.kafka_producer_at(bootstrap, linger_ms=2)
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        return producer

    relay = OutboxRelay(engine, None, open_producer=open_producer)
    try:
        await relay.run_forever()
    finally:
        if relay.producer is not None:
            await relay.producer.stop()
