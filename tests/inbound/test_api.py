"""The seller feed over HTTP on the real stack: verdicts, Kafka topics, keys, feed status, a large streamed feed."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from inbound.events import ITEMS_TOPIC, REJECTED_TOPIC
from inbound.service import item_id_for
from tests.inbound.conftest import item, key_header, ndjson, read_matching

pytestmark = pytest.mark.stack

NDJSON = {"content-type": "application/x-ndjson"}


def post_feed(client, seller, body: bytes, media_type: str = "application/x-ndjson"):
    seller_id, api_key = seller
    return client.post(f"/v1/sellers/{seller_id}/items", content=body,
                       headers={**key_header(api_key), "content-type": media_type})


def feed_status(client, seller, feed_id: str, **params):
    seller_id, api_key = seller
    return client.get(f"/v1/sellers/{seller_id}/feeds/{feed_id}", params=params, headers=key_header(api_key))


def test_feed_with_good_and_bad_records_gets_a_verdict_per_record(client, seller):
    body = ndjson([item("a"), item("b", price="0"), {"sku": "c"}]) + b"{broken\n" + ndjson([item("d")])

    response = post_feed(client, seller, body)

    assert response.status_code == 202
    assert response.json()["accepted"] == 2
    assert [(r["index"], r["sku"]) for r in response.json()["rejected"]] == [(1, "b"), (2, "c"), (3, None)]
    assert "price: Input should be greater than 0" in response.json()["rejected"][0]["errors"]


async def test_accepted_records_are_on_catalog_items_keyed_by_item_id(client, seller, tail):
    items = await tail(ITEMS_TOPIC)

    feed_id = post_feed(client, seller, ndjson([item("a"), item("bad", price="-1"), item("b")])).json()["feed_id"]

    messages = await read_matching(items, lambda m: json.loads(m.value)["feed_id"] == feed_id, count=2)
    assert sorted((m.key.decode(), json.loads(m.value)["sku"]) for m in messages) == sorted(
        [(item_id_for(seller[0], "a"), "a"), (item_id_for(seller[0], "b"), "b")])
    assert json.loads(messages[0].value)["fields"]["price"] == "19.99"


async def test_rejected_records_are_on_catalog_items_rejected(client, seller, tail):
    rejected = await tail(REJECTED_TOPIC)

    feed_id = post_feed(client, seller, ndjson([item("a"), item("bad", currency="EURO")])).json()["feed_id"]

    messages = await read_matching(rejected, lambda m: m.key == feed_id.encode(), count=1)
    assert [json.loads(m.value)["sku"] for m in messages] == ["bad"]
    assert json.loads(messages[0].value)["raw"]["currency"] == "EURO"


def test_json_array_and_csv_bodies_are_accepted(client, seller):
    array = json.dumps([item("a"), item("b", title="")]).encode()
    csv = b"sku,title,category,price,currency,size_class,attr.color,stock.w1\nc,Shirt,shirts,9.50,INR,small,red,4\n"

    from_array = post_feed(client, seller, array, "application/json").json()
    from_csv = post_feed(client, seller, csv, "text/csv; charset=utf-8").json()

    assert from_array["accepted"] == 1 and from_array["rejected"][0]["sku"] == "b"
    assert from_csv == {"feed_id": from_csv["feed_id"], "accepted": 1, "rejected": []}


def test_missing_or_unknown_api_key_is_401(client, seller):
    missing = client.post(f"/v1/sellers/{seller[0]}/items", content=ndjson([item("a")]), headers=NDJSON)
    unknown = client.post(f"/v1/sellers/{seller[0]}/items", content=ndjson([item("a")]),
                          headers={**NDJSON, **key_header("nope")})

    assert (missing.status_code, missing.json()["error"]) == (401, "missing_api_key")
    assert (unknown.status_code, unknown.json()["error"]) == (401, "unknown_api_key")


async def test_key_of_another_seller_is_403(client, seller, feed_store, unique_name):
    other_id, _ = await feed_store.create_seller(unique_name + "-other")

    response = client.post(f"/v1/sellers/{other_id}/items", content=ndjson([item("a")]),
                           headers={**NDJSON, **key_header(seller[1])})

    assert response.status_code == 403 and response.json()["error"] == "not_your_seller"


async def test_seller_cannot_read_another_sellers_feed(client, seller, feed_store, unique_name):
    other = await feed_store.create_seller(unique_name + "-other")
    feed_id = post_feed(client, seller, ndjson([item("a")])).json()["feed_id"]

    through_own_path = feed_status(client, other, feed_id)
    through_their_path = client.get(f"/v1/sellers/{seller[0]}/feeds/{feed_id}", headers=key_header(other[1]))

    assert through_own_path.status_code == 404 and through_own_path.json()["error"] == "feed_not_found"
    assert through_their_path.status_code == 403


def test_unknown_feed_is_404(client, seller):
    assert feed_status(client, seller, "f" * 32).status_code == 404


def test_unsupported_content_type_is_415_with_the_accepted_types(client, seller):
    response = post_feed(client, seller, b"sku: a", "text/yaml")

    assert response.status_code == 415
    assert "application/x-ndjson" in response.json()["detail"] and response.json()["content_type"] == "text/yaml"


def as_received(counts: dict[str, int]) -> dict[str, int]:
    """The feed's counts as the feed's verdicts left them: a worker running meanwhile (other tests start one) may
    already have applied some accepted records."""
    received = {status: n for status, n in counts.items() if status != "applied"}
    if "applied" in counts:
        received["accepted"] = received.get("accepted", 0) + counts["applied"]
    return received


def test_feed_status_counts_pages_and_filters_verdicts(client, seller):
    feed_id = post_feed(client, seller, ndjson([item(f"s{i}") for i in range(5)] + [{"sku": "bad"}])).json()["feed_id"]

    page = feed_status(client, seller, feed_id, page=2, size=2).json()
    rejected = feed_status(client, seller, feed_id, status="rejected").json()

    assert as_received(page["counts"]) == {"accepted": 5, "rejected": 1} and page["state"] == "complete"
    assert [(r["index"], r["item_id"]) for r in page["records"]] == [(2, item_id_for(seller[0], "s2")),
                                                                     (3, item_id_for(seller[0], "s3"))]
    assert {r["status"] for r in page["records"]} <= {"accepted", "applied"}
    assert [(r["index"], r["sku"], r["item_id"]) for r in rejected["records"]] == [(5, "bad", None)]
    assert page["created_at"].endswith("Z") and page["seller_id"] == seller[0]


def test_feed_over_the_record_limit_is_413(settings, seller):
    small = settings.model_copy(update={"feed_max_records": 10, "feed_chunk_records": 4})

    with TestClient(create_app(small)) as client:
        response = post_feed(client, seller, ndjson([item(f"s{i}") for i in range(25)]))
        status = feed_status(client, seller, response.json()["feed_id"]).json()

    assert response.status_code == 413 and response.json()["error"] == "feed_too_large"
    assert status["state"] == "truncated" and as_received(status["counts"]) == {"accepted": 10}


@pytest.mark.timeout(300)
def test_a_large_streamed_ndjson_feed_is_accepted_and_applied(client, seller, running_worker):
    # 5,000 keeps the shared test run's pipeline backlog short; bench/catalog_ingest.py streams 100,000 in one request.
    count = 5_000

    def body():
        for start in range(0, count, 1000):
            yield ndjson([item(f"bulk-{i}", attributes={"color": "red", "n": i}) for i in range(start, start + 1000)])

    began = time.monotonic()
    response = post_feed(client, seller, body())
    seconds = time.monotonic() - began

    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == count and response.json()["rejected"] == []
    # The worker applies them meanwhile; waiting for all to be applied also keeps this volume from delaying later tests.
    assert applied_within(client, seller, response.json()["feed_id"], count, timeout=180) == {"applied": count}
    print(f"{count} records in {seconds:.1f}s")


def applied_within(client, seller, feed_id: str, count: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while (counts := feed_status(client, seller, feed_id, size=1).json()["counts"]).get("applied", 0) < count:
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    return counts


async def healthz_seconds(http: httpx.AsyncClient, asked_at: float) -> float:
    """Seconds from `asked_at` until /healthz answered."""
    response = await http.get("/healthz")
    assert response.status_code == 200
    return time.perf_counter() - asked_at


async def test_healthz_answers_promptly_while_a_crafted_csv_is_parsed(settings, seller):
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://shop") as http:
        asked: list[asyncio.Task[float]] = []
        answered_before_the_cell_was_read: list[bool] = []

        async def crafted_csv():
            yield b'sku,title\na,"'
            # Asked for now, on the same event loop, while the parser works through the rest of the quoted cell.
            asked.append(asyncio.create_task(healthz_seconds(http, time.perf_counter())))
            yield b"\n" * 100_000 + b'"\n'
            answered_before_the_cell_was_read.append(asked[0].done())  # the parser has read the whole chunk now

        response = await http.post(f"/v1/sellers/{seller[0]}/items", content=crafted_csv(),
                                   headers={**key_header(seller[1]), "content-type": "text/csv"})
        await asked[0]

    assert response.status_code == 202 and len(response.json()["rejected"]) == 1
    assert answered_before_the_cell_was_read == [True]  # the loop served /healthz while the cell was being parsed
