"""Limits of the whole API on the real stack: request body sizes (the seller feed has its own) and a readiness probe
that is cheap and says no more than ok or failing."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.app.conftest import chunks, served

pytestmark = pytest.mark.stack


async def test_a_body_declared_over_the_limit_is_413_in_the_api_error_shape(settings):
    async with served(settings, api_max_body_bytes=1024) as (http, _):

        response = await http.post("/v1/items/batch-get", json={"ids": [uuid.uuid4().hex for _ in range(100)]})

    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large" and "1024 bytes" in response.json()["detail"]


async def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(settings):
    async with served(settings, api_max_body_bytes=4096) as (http, _):

        response = await http.post("/v1/items/batch-get", content=chunks(50_000),
                                   headers={"content-type": "application/json"})

    assert response.status_code == 413 and response.json()["error"] == "body_too_large"
    assert "content-length" not in response.request.headers


async def test_a_body_within_the_limit_goes_through(settings):
    async with served(settings, api_max_body_bytes=4096) as (http, _):

        response = await http.post("/v1/items/batch-get", json={"ids": [uuid.uuid4().hex]})

    assert response.status_code == 200 and len(response.json()["missing"]) == 1


async def test_the_seller_feed_has_its_own_larger_body_limit(settings, unique_name):
    records = b"".join(json.dumps({"sku": f"sku-{n}", "title": "x" * 200, "category": "shirts", "price": "1.00",
                                   "currency": "INR", "size_class": "small"}).encode() + b"\n" for n in range(20))
    async with served(settings, api_max_body_bytes=1024, feed_max_body_bytes=len(records) - 1) as (http, app):
        seller_id, key = await app.state.stores.feed_store.create_seller(unique_name)
        headers = {"X-Api-Key": key, "content-type": "application/x-ndjson"}

        over_feed_limit = await http.post(f"/v1/sellers/{seller_id}/items", content=records, headers=headers)
        within_feed_limit = await http.post(f"/v1/sellers/{seller_id}/items", content=records[:2048], headers=headers)

    assert over_feed_limit.status_code == 413 and over_feed_limit.json()["error"] == "body_too_large"
    assert within_feed_limit.status_code == 202, within_feed_limit.text


async def test_readiness_says_only_ok_or_failing_and_keeps_the_exception_to_the_log(settings, caplog):
    async with served(settings, redis_url="redis://127.0.0.1:1/0") as (http, _):

        response = await http.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "failing"
    assert set(response.json()["checks"].values()) <= {"ok", "failing"}
    assert "Error" in caplog.text and "redis" in caplog.text


async def test_readiness_reuses_one_cassandra_session(settings):
    async with served(settings) as (http, app):

        answers = [await http.get("/readyz") for _ in range(3)]

        assert [a.json()["checks"]["cassandra"] for a in answers] == ["ok"] * 3
        assert len(app.state.stores.cassandra.sessions) == 1
