"""Builders for the cart tests: items written straight into the item store, the app under test, the outbox relay
run by hand until the expected events reach Kafka."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from infra import connections
from item_service.service import apply_batch
from item_service.store import ItemStore
from tests.conftest import relay_pending
from tests.item_service.conftest import LATER, NOW, delete, upsert


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings)) as api:
        yield api


@pytest.fixture(scope="session")
async def item_store(settings) -> AsyncIterator[ItemStore]:
    client = connections.mongo(settings)
    yield ItemStore(client[settings.mongo_database])
    await client.close()


@pytest.fixture
def new_item(item_store) -> Callable:
    """`await new_item(price="19.99", title=...)` stores a live item and returns it as the API shows it."""

    async def store(**fields: Any) -> dict:
        record = upsert(**fields)
        await item_store.write_newer(apply_batch({}, [record], now=NOW).documents)
        return await item_store.get(record.item_id)

    return store


@pytest.fixture
def change_item(item_store) -> Callable:
    """`await change_item(item_id, version=2, price=...)` rewrites an item; `deleted=True` leaves a tombstone."""

    async def store(item_id: str, *, version: int, deleted: bool = False, **fields: Any) -> None:
        stored = (await item_store.current_docs([item_id]))[item_id]
        record = delete(item_id, version=version) if deleted else upsert(item_id, version=version, **fields)
        await item_store.write_newer(apply_batch({item_id: stored}, [record], now=LATER).documents)

    return store


async def relayed(mysql, producer, consumer, match: Callable, count: int, timeout: float = 60) -> list:
    """Relays the outbox until `count` messages matching `match` arrived on the tail (or the timeout passed)."""
    found, deadline = [], time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        await relay_pending(mysql, producer)  # two relays at once would publish the same rows twice
        batches = await consumer.getmany(timeout_ms=300)
        found += [message for messages in batches.values() for message in messages if match(message)]
    return found
