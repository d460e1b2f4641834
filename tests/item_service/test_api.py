"""The items API against the real app and store: one item, many items in order, and the errors a caller can act on."""

from __future__ import annotations

import pytest

from item_service.service import apply_batch
from tests.item_service.conftest import NOW, delete, new_item_id, upsert

pytestmark = pytest.mark.stack


async def stored(item_store, *records) -> list[dict]:
    """Writes the records through the rules, as the consumer would; returns the documents."""
    current = await item_store.current_docs(r.item_id for r in records)
    documents = apply_batch(current, list(records), now=NOW).documents
    await item_store.write_newer(documents)
    return documents


async def test_get_item_returns_the_item_as_stored(client, item_store):
    [item] = await stored(item_store, upsert(title="Teapot", attributes={"volume_ml": 750}))

    response = client.get(f"/v1/items/{item['item_id']}")

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Teapot" and body["attributes"] == {"volume_ml": 750}
    assert body["price"] == {"amount": "19.99", "currency": "INR"} and body["price_minor"] == 1999
    assert "_id" not in body and "deleted" not in body


def test_unknown_item_is_404_item_not_found(client):
    response = client.get(f"/v1/items/{new_item_id()}")

    assert response.status_code == 404 and response.json()["error"] == "item_not_found"


async def test_deleted_item_is_404(client, item_store):
    item_id = new_item_id()
    await stored(item_store, upsert(item_id, version=1), delete(item_id, version=2))

    response = client.get(f"/v1/items/{item_id}")

    assert response.status_code == 404 and response.json()["error"] == "item_not_found"


async def test_batch_get_keeps_the_order_of_ids_and_lists_the_missing(client, item_store):
    first, second = await stored(item_store, upsert(), upsert())
    unknown = new_item_id()

    response = client.post("/v1/items/batch-get", json={"ids": [second["item_id"], unknown, first["item_id"]]})

    assert response.status_code == 200
    assert [item["item_id"] for item in response.json()["items"]] == [second["item_id"], first["item_id"]]
    assert response.json()["missing"] == [unknown]


def test_batch_get_of_more_than_500_ids_is_refused_with_a_reason(client):
    response = client.post("/v1/items/batch-get", json={"ids": [new_item_id() for _ in range(501)]})

    assert response.status_code == 422
    assert response.json()["error"] == "too_many_ids" and "500" in response.json()["detail"]


def test_batch_get_of_no_ids_is_refused(client):
    response = client.post("/v1/items/batch-get", json={"ids": []})

    assert response.status_code == 422


def test_too_many_ids_are_refused_before_any_id_is_looked_at(client):
    ids = [new_item_id() for _ in range(501)] + [{"not": "an id"}] * 1000

    response = client.post("/v1/items/batch-get", json={"ids": ids})

    assert response.status_code == 422
    assert response.json()["error"] == "too_many_ids" and response.json()["limit"] == 500


def test_an_id_longer_than_any_item_id_is_refused(client):
    response = client.post("/v1/items/batch-get", json={"ids": ["x" * 10_000]})

    assert response.status_code == 422 and response.json()["error"] == "invalid_request"
