"""Builders for the seller feed tests: records, bodies cut in chunks, a seller with its key, a tail on a Kafka topic."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from inbound.store import FeedStore
from infra import connections
from infra.app import create_app
from infra.schema.topics import TOPICS


def item(sku: str, **fields: Any) -> dict[str, Any]:
    """A valid upsert record; keyword arguments override or add fields."""
    return {"sku": sku, "title": f"Item {sku}", "category": "shirts", "price": "19.99", "currency": "INR",
            "size_class": "small", **fields}


def ndjson(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(record).encode() + b"\n" for record in records)


async def chunks_of(body: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


async def parse_all(parser: Callable, body: bytes, size: int = 7) -> list[tuple[int, Any]]:
    return [parsed async for parsed in parser(chunks_of(body, size))]


def key_header(api_key: str) -> dict[str, str]:
    return {"X-Api-Key": api_key}


@pytest.fixture(scope="session")
async def feed_store(settings) -> AsyncIterator[FeedStore]:
    engine = connections.mysql(settings)
    yield FeedStore(engine)
    await engine.dispose()


@pytest.fixture
async def seller(feed_store, unique_name) -> tuple[str, str]:
    """(seller_id, api_key) of a new seller."""
    return await feed_store.create_seller(unique_name)


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings)) as api:
        yield api


@pytest.fixture
async def tail(settings):
    """Opens a consumer on a topic (fresh group) positioned at the current end, so it sees only what comes next."""
    from aiokafka import TopicPartition

    consumers = []

    async def open_tail(topic: str):
        consumer = connections.kafka_consumer(settings, group_id=f"test-{uuid.uuid4().hex}")
        await consumer.start()
        consumers.append(consumer)
        count = next(spec.partitions for spec in TOPICS if spec.name == topic)
        partitions = [TopicPartition(topic, p) for p in range(count)]
        consumer.assign(partitions)
        for partition, offset in (await consumer.end_offsets(partitions)).items():
            consumer.seek(partition, offset)
        return consumer

    yield open_tail
    await asyncio.gather(*(consumer.stop() for consumer in consumers))


async def read_matching(consumer, match: Callable[[Any], bool], count: int, timeout: float = 30) -> list[Any]:
    """Messages for which `match` holds, until `count` of them arrived or the timeout passed."""
    found, deadline = [], time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=500)
        found += [message for messages in batches.values() for message in messages if match(message)]
    return found
