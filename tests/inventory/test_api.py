"""The inventory endpoints on the real app, MySQL, MongoDB and Redis, with the shipped sample logistics network loaded
under a key prefix of this module's own (the shared current network is left as it is)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from inbound.store import FeedStore
from infra import connections
from item_service.service import apply_batch
from item_service.store import ItemStore
from logistics.commands import load_file
from logistics.store import ServiceabilityStore
from tests.item_service.conftest import NOW, upsert

pytestmark = pytest.mark.stack

DELHI, MUMBAI = "WH-DEL-01", "WH-BOM-01"  # warehouses of the sample network


@pytest.fixture(scope="module")
async def network_prefix(settings) -> AsyncIterator[str]:
    redis = connections.redis(settings)
    network = ServiceabilityStore(redis, prefix=f"serviceability-inventory-{uuid.uuid4().hex[:8]}")
    await load_file(None, network)  # what `shop logistics load` does with no file: the sample network
    yield network.prefix
    await network.clear()
    await redis.aclose()


@pytest.fixture(scope="module")
def api(settings, network_prefix) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        client.app.state.stores.serviceability = ServiceabilityStore(client.app.state.stores.redis, prefix=network_prefix)
        yield client


@pytest.fixture(scope="module")
async def sellers(settings) -> AsyncIterator:
    """Creates a seller: (seller_id, headers with its API key)."""
    engine = connections.mysql(settings)
    feeds = FeedStore(engine)

    async def create() -> tuple[str, dict[str, str]]:
        seller_id, api_key = await feeds.create_seller(f"inventory-{uuid.uuid4().hex[:8]}")
        return seller_id, {"X-Api-Key": api_key}

    yield create
    await engine.dispose()


@pytest.fixture
async def items(settings, new_item) -> AsyncIterator:
    """Puts an item of a seller into the item store; the items are deleted afterwards."""
    mongo = connections.mongo(settings)
    db, added = mongo[settings.mongo_database], []

    async def add(seller_id: str) -> str:
        record = upsert(new_item()).model_copy(update={"seller_id": seller_id})
        await ItemStore(db).write_newer(apply_batch({}, [record], now=NOW).documents)
        added.append(record.item_id)
        return record.item_id

    yield add
    for item_id in added:  # by primary key: a `$in` filter makes FerretDB scan the whole collection
        await db["items"].delete_one({"_id": item_id})
    await mongo.close()


async def test_seller_sets_stock_per_warehouse_and_anyone_reads_it(api, sellers, items):
    seller_id, key = await sellers()
    item_id = await items(seller_id)

    api.put(f"/v1/inventory/{item_id}/warehouses/{DELHI}", json={"quantity": 4}, headers=key)
    put = api.put(f"/v1/inventory/{item_id}/warehouses/{MUMBAI}", json={"quantity": 3}, headers=key)
    got = api.get(f"/v1/inventory/{item_id}")

    expected = {"item_id": item_id, "total_available": 7, "warehouses": [
        {"warehouse_id": MUMBAI, "on_hand": 3, "reserved": 0, "available": 3},
        {"warehouse_id": DELHI, "on_hand": 4, "reserved": 0, "available": 4}]}
    assert put.status_code == 200 and put.json() == expected
    assert got.status_code == 200 and got.json() == expected


async def test_an_item_without_stock_has_no_warehouses(api, sellers, items):
    item_id = await items((await sellers())[0])

    response = api.get(f"/v1/inventory/{item_id}")

    assert response.json() == {"item_id": item_id, "warehouses": [], "total_available": 0}


async def test_stock_of_an_unknown_item_is_404(api, sellers):
    _, key = await sellers()

    got = api.get("/v1/inventory/no-such-item")
    put = api.put(f"/v1/inventory/no-such-item/warehouses/{DELHI}", json={"quantity": 1}, headers=key)

    assert got.status_code == 404 and got.json()["error"] == "item_not_found"
    assert put.status_code == 404 and put.json()["error"] == "item_not_found"


async def test_setting_stock_needs_a_known_api_key(api, sellers, items):
    item_id = await items((await sellers())[0])
    url = f"/v1/inventory/{item_id}/warehouses/{DELHI}"

    missing = api.put(url, json={"quantity": 1})
    unknown = api.put(url, json={"quantity": 1}, headers={"X-Api-Key": "not-a-key"})

    assert (missing.status_code, missing.json()["error"]) == (401, "missing_api_key")
    assert (unknown.status_code, unknown.json()["error"]) == (401, "unknown_api_key")


async def test_a_seller_cannot_set_stock_of_another_sellers_item(api, sellers, items):
    item_id = await items((await sellers())[0])
    _, other_key = await sellers()

    response = api.put(f"/v1/inventory/{item_id}/warehouses/{DELHI}", json={"quantity": 9}, headers=other_key)

    assert (response.status_code, response.json()["error"]) == (403, "not_your_item")
    assert api.get(f"/v1/inventory/{item_id}").json()["total_available"] == 0


async def test_a_warehouse_outside_the_logistics_network_is_422(api, sellers, items):
    seller_id, key = await sellers()
    item_id = await items(seller_id)

    response = api.put(f"/v1/inventory/{item_id}/warehouses/WH-NOWHERE", json={"quantity": 1}, headers=key)

    assert response.status_code == 422
    assert response.json()["error"] == "unknown_warehouse" and response.json()["warehouse_id"] == "WH-NOWHERE"


async def test_with_no_network_loaded_every_warehouse_is_unknown(api, sellers, items, network_prefix):
    seller_id, key = await sellers()
    item_id = await items(seller_id)
    redis = api.app.state.stores.redis
    api.app.state.stores.serviceability = ServiceabilityStore(redis, prefix=f"serviceability-none-{uuid.uuid4().hex[:8]}")

    try:
        response = api.put(f"/v1/inventory/{item_id}/warehouses/{DELHI}", json={"quantity": 1}, headers=key)
    finally:
        api.app.state.stores.serviceability = ServiceabilityStore(redis, prefix=network_prefix)

    assert response.status_code == 422 and response.json()["error"] == "unknown_warehouse"
    assert "no logistics network is loaded" in response.json()["detail"]


@pytest.mark.parametrize("body", [{"quantity": -1}, {"quantity": 1.5}, {"quantity": "3"}, {}])
async def test_quantity_must_be_a_whole_number_not_below_zero(api, sellers, items, body):
    seller_id, key = await sellers()
    item_id = await items(seller_id)

    response = api.put(f"/v1/inventory/{item_id}/warehouses/{DELHI}", json=body, headers=key)

    assert response.status_code == 422 and response.json()["error"] == "invalid_request"
