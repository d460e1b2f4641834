"""The serviceability and warehouse endpoints, on the real app, Redis and MongoDB."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from infra import connections
from logistics.store import ServiceabilityStore
from tests.logistics.conftest import ALL, load, network

pytestmark = pytest.mark.stack


@pytest.fixture
def api(settings, store) -> Iterator[TestClient]:
    """The app, reading the network the test loaded into its own key prefix."""
    with TestClient(create_app(settings)) as client:
        client.app.state.stores.serviceability = ServiceabilityStore(client.app.state.stores.redis, prefix=store.prefix)
        yield client


@pytest.fixture
async def items(settings) -> AsyncIterator:
    mongo = connections.mongo(settings)
    collection = mongo[settings.mongo_database]["items"]
    added: list[str] = []

    async def add(item_id: str, size_class: str, stock: dict[str, int]) -> None:
        await collection.insert_one({
            "_id": item_id, "item_id": item_id, "seller_id": "s1", "sku": item_id, "title": "Sofa",
            "size_class": size_class,
            "stock": [{"warehouse_id": w, "quantity": q} for w, q in stock.items()], "version": 1, "deleted": False,
        })
        added.append(item_id)

    yield add
    for item_id in added:  # by primary key: a `$in` filter makes FerretDB scan the whole collection
        await collection.delete_one({"_id": item_id})
    await mongo.close()


def two_warehouses():
    return network(("W1", "H1", 2, ALL), ("H1", "110001", 3, ALL), ("H1", "795001", 10, "small medium"),
                   ("W2", "H2", 1, ALL), ("H2", "110001", 20, "small medium large"))


async def test_serviceability_answers_from_the_fastest_warehouse_holding_the_item(store, api, items, unique_name):
    await load(store, two_warehouses())
    await items(unique_name, "large", {"W1": 0, "W2": 5})

    response = api.get("/v1/serviceability", params={"item_id": unique_name, "pincode": "110001"})

    assert response.status_code == 200
    assert response.json() == {"deliverable": True, "eta_hours": 21.0, "warehouse_id": "W2"}


async def test_a_bulky_item_cannot_reach_a_pincode_served_for_small_parcels_only(store, api, items, unique_name):
    await load(store, two_warehouses())
    await items(unique_name, "bulky", {"W1": 2})

    response = api.get("/v1/serviceability", params={"item_id": unique_name, "pincode": "795001"})

    assert response.json() == {"deliverable": False, "eta_hours": None, "warehouse_id": None}


async def test_serviceability_of_an_unknown_item_is_404_and_of_a_malformed_pincode_422(store, api, unique_name):
    await load(store, two_warehouses())

    unknown = api.get("/v1/serviceability", params={"item_id": unique_name, "pincode": "110001"})
    malformed = [api.get("/v1/serviceability", params={"item_id": unique_name, "pincode": pincode})
                 for pincode in ("1100", "01100a")]

    assert unknown.status_code == 404 and unknown.json()["error"] == "item_not_found"
    assert [r.status_code for r in malformed] == [422, 422]
    assert malformed[0].json()["errors"][0]["loc"] == ["query", "pincode"]


async def test_warehouses_are_listed(store, api):
    await load(store, two_warehouses())

    response = api.get("/v1/warehouses")

    assert response.json() == [{"warehouse_id": "W1", "name": "Warehouse W1", "pincode": "110001"},
                               {"warehouse_id": "W2", "name": "Warehouse W2", "pincode": "110001"}]


async def test_a_warehouse_lists_the_pincodes_it_serves_fastest_first(store, api):
    await load(store, two_warehouses())

    response = api.get("/v1/warehouses/W1/pincodes")
    first = api.get("/v1/warehouses/W1/pincodes", params={"limit": 1})

    assert response.json() == [
        {"pincode": "110001", "eta_hours": 5.0, "size_classes": ["small", "medium", "large", "bulky"]},
        {"pincode": "795001", "eta_hours": 12.0, "size_classes": ["small", "medium"]},
    ]
    assert first.json() == response.json()[:1]


async def test_an_unknown_warehouse_is_404(store, api):
    await load(store, two_warehouses())

    response = api.get("/v1/warehouses/W9/pincodes")

    assert response.status_code == 404
    assert response.json() == {"error": "warehouse_not_found", "detail": "no warehouse W9", "warehouse_id": "W9"}
