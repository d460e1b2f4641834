"""Builders for the seller feed tests: records, bodies cut in chunks, a seller with its key, a tail on a Kafka topic."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from inbound.store import FeedStore


def item(sku: str, **fields: Any) -> dict[str, Any]:
    """A valid upsert record; keyword arguments override or add fields."""
    return {"sku": sku, "title": f"Item {sku}", "category": "shirts", "price": "19.99", "currency": "INR",
            "size_class": "small", **fields}


def published(op: str = "upsert", *, version: int = 1, **fields: Any) -> dict[str, Any]:
    """An item record as a producer puts it on `catalog.items` (JSON-ready); upserts get every required field unless
    keyword arguments say otherwise (None leaves a field out)."""
    if op == "upsert":
        fields = {"title": "Cotton shirt", "category": "shirts", "price": "19.99", "currency": "INR",
                  "size_class": "small", **fields}
    return {"item_id": "i1", "seller_id": "seller1", "sku": "sku-1", "op": op, "version": version, "feed_id": "f1",
            "index": 0, "received_at": "2026-01-02T03:04:05.000006Z",
            "fields": {name: value for name, value in fields.items() if value is not None}}


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
def feed_store(mysql) -> FeedStore:
    return FeedStore(mysql)


@pytest.fixture
async def seller(feed_store, unique_name) -> tuple[str, str]:
    """(seller_id, api_key) of a new seller."""
    return await feed_store.create_seller(unique_name)


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings)) as api:
        yield api


async def read_matching(consumer, match: Callable[[Any], bool], count: int, timeout: float = 30) -> list[Any]:
    """Messages for which `match` holds, until `count` of them arrived or the timeout passed."""
    found, deadline = [], time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=500)
        found += [message for messages in batches.values() for message in messages if match(message)]
    return found
