"""Builders for the item tests: feed records as inbound publishes them, the real item store, tails on Kafka topics."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.api import create_app
from inbound.events import ItemFields, ItemRecord, StockLine
from infra import connections
from item_service.store import ItemStore

NOW = "2024-05-01T10:00:00.000Z"
LATER = "2024-05-01T11:00:00.000Z"


def new_item_id() -> str:
    return uuid.uuid4().hex


def upsert(item_id: str | None = None, *, version: int = 1, index: int = 0, feed_id: str = "feed-1",
           **fields: Any) -> ItemRecord:
    """A complete upsert of an item; keyword arguments override fields."""
    fields = {"title": "Cotton shirt", "description": "A plain shirt", "category": "shirts", "brand": "Acme",
              "price": "19.99", "currency": "INR", "attributes": {"colour": "blue", "fit": "slim"},
              "size_class": "small", "stock": [{"warehouse_id": "W1", "quantity": 5}],
              "images": ["https://img.example/1.jpg"], **fields}
    return _record(item_id or new_item_id(), "upsert", version, index, feed_id, fields)


def patch(item_id: str, *, version: int, index: int = 0, feed_id: str = "feed-1", **fields: Any) -> ItemRecord:
    return _record(item_id, "patch", version, index, feed_id, fields)


def delete(item_id: str, *, version: int, index: int = 0, feed_id: str = "feed-1") -> ItemRecord:
    return _record(item_id, "delete", version, index, feed_id, {})


def _record(item_id: str, op: str, version: int, index: int, feed_id: str, fields: dict) -> ItemRecord:
    """A record as the feed publishes it; one the record contract refuses is built as a producer that skipped the
    contract would publish it (`model_copy` validates nothing), so the item service's own check is what a test sees."""
    identity = {"item_id": item_id, "seller_id": "seller-1", "sku": f"sku-{item_id}", "op": op, "version": version,
                "feed_id": feed_id, "index": index, "received_at": NOW}
    try:
        return ItemRecord(**identity, fields=fields)
    except ValidationError:
        unchecked = {**fields, **({"price": Decimal(fields["price"])} if fields.get("price") is not None else {}),
                     **({"stock": [StockLine(**line) for line in fields["stock"]]} if fields.get("stock") else {})}
        valid = ItemRecord(**{**identity, "op": "patch", "version": 1}, fields={"title": "placeholder"})
        return valid.model_copy(update={"op": op, "version": version,
                                        "fields": ItemFields.model_construct(**unchecked)})


async def eventually(check, timeout: float = 40) -> Any:
    """Polls an async check until it returns something other than None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (result := await check()) is not None:
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"not true within {timeout}s")


@pytest.fixture(scope="session")
async def mongo_db(settings) -> AsyncIterator:
    client = connections.mongo(settings)
    yield client[settings.mongo_database]
    await client.close()


@pytest.fixture(scope="session")
def item_store(mongo_db) -> ItemStore:
    return ItemStore(mongo_db)


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings)) as api:
        yield api


