"""Builders for the search tests: feed records, a catalog seeded through the real write path, a network in Redis,
and a tail on a Kafka topic. Every test uses its own category/brand values, so tests never see each other's items."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from inbound.events import ItemRecord
from infra import connections
from infra.schema.search_index import ITEMS_TEMPLATE, items_alias
from logistics.cache import DeliverabilityCache
from logistics.service import fastest_routes, parse_network
from logistics.store import ServiceabilityStore
from search.store import SearchIndex

PINCODE = "560001"
ITEMS_BODY = ITEMS_TEMPLATE["template"]


def record(item_id: str | None = None, *, version: int = 1, op: str = "upsert", **fields: Any) -> ItemRecord:
    """A feed record as inbound publishes it; upserts get a complete in-stock item unless fields say otherwise."""
    item_id = item_id or uuid.uuid4().hex
    if op == "upsert":
        fields = {"title": "Plain cotton shirt", "description": "A shirt", "category": "shirts", "price": "499.00",
                  "currency": "INR", "size_class": "small", "attributes": {},
                  "stock": [{"warehouse_id": "W1", "quantity": 5}], **fields}
    received_at = f"2024-01-01T00:00:{version % 60:02d}+00:00"  # a later version was received later
    return ItemRecord(item_id=item_id, seller_id="seller-1", sku=f"sku-{item_id[:8]}", op=op, version=version,
                      feed_id="feed-1", index=0, received_at=received_at, fields=fields)


def item_id(letter: str) -> str:
    return letter * 32


def stored(letter: str, version: int, *, deleted: bool = False, **fields: Any) -> dict[str, Any]:
    """An item as MongoDB stores it."""
    return {"_id": item_id(letter), "item_id": item_id(letter), "seller_id": "seller-1", "sku": f"sku-{letter}",
            "title": "Stored item", "description": "", "category": "mugs", "brand": None,
            "price": {"amount": "250.00", "currency": "INR"}, "price_minor": 25000, "attributes": {},
            "size_class": "small", "stock": [{"warehouse_id": "W1", "quantity": 3}], "images": [], "version": version,
            "deleted": deleted, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-02T00:00:00Z", **fields}


def network(*routes: tuple[str, str, float, str]) -> dict:
    """A network file from ("W1", "560001", 12, "small medium") routes: W* are warehouses, digits pincodes."""
    nodes = list(dict.fromkeys(end for route in routes for end in route[:2]))
    return {"warehouses": [{"warehouse_id": n, "name": n, "pincode": "110001"} for n in nodes if n.startswith("W")],
            "pincodes": [{"pincode": n, "city": "Bengaluru", "state": "Karnataka"} for n in nodes if n.isdigit()],
            "routes": [{"from": a, "to": b, "hours": h, "size_classes": s.split()} for a, b, h, s in routes]}


@pytest.fixture(scope="session")
async def es(settings) -> AsyncIterator:
    client = connections.elasticsearch(settings)
    yield client
    await client.close()


@pytest.fixture(scope="session")
def search_index(es, settings) -> SearchIndex:
    return SearchIndex(es, items_alias(settings.elasticsearch_index_prefix))


@pytest.fixture
async def own_index(es, unique_name) -> AsyncIterator[SearchIndex]:
    """An alias of its own with a live `-v1` index, so a rebuild never touches the shared alias."""
    index = SearchIndex(es, f"{unique_name}-items")
    await es.indices.create(index=f"{index.alias}-v1", aliases={index.alias: {}}, **ITEMS_BODY)
    yield index
    await es.indices.delete(index=f"{index.alias}-v*", ignore_unavailable=True)


@pytest.fixture
async def stored_items(settings, unique_name):
    """Writes items into a MongoDB database of this test's own; `.db` is that database."""
    mongo = connections.mongo(settings)

    async def store(*items: dict) -> None:
        await store.db["items"].insert_many(list(items))

    store.db = mongo[unique_name]
    yield store
    await mongo.drop_database(unique_name)
    await mongo.close()


@pytest.fixture
async def catalog(search_index):
    """Indexes records through the agents' write path and makes them searchable at once."""

    async def index(*records: ItemRecord) -> list[ItemRecord]:
        refused = await search_index.apply_records(list(records))
        assert not refused, refused
        await search_index.refresh()
        return list(records)

    return index


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings)) as api:
        yield api


@pytest.fixture
async def delivery_network(client, settings, unique_name):
    """Loads a network under its own Redis prefix and points the API at it for this test."""
    redis = connections.redis(settings)
    prefix = f"serviceability-{unique_name}"
    state = client.app.state.stores
    previous = state.serviceability, state.search_deliverability

    async def load(*routes: tuple[str, str, float, str]) -> None:
        parsed = parse_network(network(*routes))
        await ServiceabilityStore(redis, prefix=prefix).load_network(parsed, fastest_routes(parsed))
        state.serviceability = ServiceabilityStore(state.redis, prefix=prefix)
        # What a server sees once its cache has expired after the load.
        state.search_deliverability = DeliverabilityCache(state.serviceability,
                                                          settings.search_deliverability_cache_seconds)

    yield load
    state.serviceability, state.search_deliverability = previous
    await ServiceabilityStore(redis, prefix=prefix).clear()
    await redis.aclose()


async def eventually(check, timeout: float = 40):
    """Polls an async check until it returns something other than None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (outcome := await check()) is not None:
            return outcome
        await asyncio.sleep(0.25)
    raise AssertionError(f"not true within {timeout}s")
