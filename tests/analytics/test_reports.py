"""The streaming reports on the real stack: a closed bucket's figures in Redis equal a batch recomputation over the
lake (and what was sent); a restart of the job mid-window counts nothing twice; the API adds up a window's buckets."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import redis as redis_sync

from analytics import dimensions, job, report_store, reports
from analytics.commands import daily_sales, run_streams
from app.api import create_app
from tests.analytics.conftest import LakeProcess, order_event, search_event, send, until, wishlist_event

pytestmark = [pytest.mark.stack, pytest.mark.timeout(900)]
CATEGORIES = {"ka": "kitchen", "kb": "kitchen", "ga": "garden"}


def snapshot_items(spark, lake) -> None:
    job.ensure_tables(spark, lake.config)
    at = datetime.now(UTC)
    rows = [(item, f"s-{item}", f"Title {item}", category, None, Decimal(10), "INR", "small", False, at)
            for item, category in CATEGORIES.items()]
    dimensions.snapshot(spark, lake.config.table, {"dim_items": rows, "dim_warehouses": []})


def journey(start: datetime) -> list:
    """Orders (one of them not paid), wishes and searches at seconds after `start`."""
    return [
        order_event(start + timedelta(seconds=10), [("ka", 2, "100.00"), ("ga", 1, "40.00")]),
        order_event(start + timedelta(seconds=20), [("ka", 1, "100.00")]),
        order_event(start + timedelta(seconds=30), [("kb", 5, "7.50")]),
        order_event(start + timedelta(seconds=40), [("kb", 9, "7.50")], kind="order_created"),  # not paid: not bought
        wishlist_event(start + timedelta(seconds=50), "ga"), wishlist_event(start + timedelta(seconds=55), "ga"),
        wishlist_event(start + timedelta(seconds=56), "kb"),
        search_event(start + timedelta(seconds=60), "Kettle ", 12), search_event(start + timedelta(seconds=61), "kettle", 3),
        search_event(start + timedelta(seconds=62), "spork", 0),
    ]


EXPECTED_BOUGHT = {"ka": 3, "kb": 5, "ga": 1}
EXPECTED_WISHED = {"ga": 2, "kb": 1}
EXPECTED_SEARCHED = {"kettle": (2, 0), "spork": (1, 1)}
EXPECTED_REVENUE = {("kitchen", "INR"): (Decimal("337.50"), 3), ("garden", "INR"): (Decimal("40.00"), 1)}


def bucket(redis, prefix: str, kind: str, start: datetime) -> dict:
    import json

    raw = redis.hgetall(report_store.bucket_key(prefix, kind, start))
    return {key.decode(): json.loads(value) for key, value in raw.items()}


def recomputed(spark, lake, start: datetime) -> tuple[dict, dict]:
    """The same reports as a batch over the whole lake, for the bucket that starts at `start`."""
    orders, wishlist, searches = (lake.read(spark, name) for name in ("orders", "wishlist", "searches"))
    items = lake.read(spark, "dim_items")
    at = start.replace(tzinfo=None)
    counted = reports.counts(reports.countable(orders, wishlist, searches, items)).where(f"bucket_start = '{at}'")
    revenue = reports.revenue(reports.paid_lines(orders, items)).where(f"bucket_start = '{at}'")
    return ({(r.kind, r.key): [r.units, r.title, r.category, r.zero_results] for r in counted.collect()},
            {(r.category, r.currency): [f"{r.revenue:.6f}", r.orders] for r in revenue.collect()})


async def test_a_closed_buckets_streaming_figures_equal_a_batch_recomputation_over_the_lake(settings, lake, spark):
    start = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    closing = order_event(start + timedelta(minutes=40), [("ka", 1, "100.00")])  # moves the watermark past the bucket
    await send(settings, journey(start))
    await send(settings, [closing])
    snapshot_items(spark, lake)

    run_streams(spark, lake.config, settings.redis_url, lake.prefix, once=True, say=lambda _: None)

    store = redis_sync.Redis.from_url(settings.redis_url)
    streamed = {(kind, key): value for kind in ("bought", "wishlisted", "searched")
                for key, value in bucket(store, lake.prefix, kind, start).items()}
    streamed_revenue = {tuple(field.split("\t")): value
                        for field, value in bucket(store, lake.prefix, "revenue", start).items()}
    batch_counts, batch_revenue = recomputed(spark, lake, start)
    assert streamed == batch_counts
    assert streamed_revenue == batch_revenue
    assert {key: value[0] for (kind, key), value in streamed.items() if kind == "bought"} == EXPECTED_BOUGHT
    assert {key: value[0] for (kind, key), value in streamed.items() if kind == "wishlisted"} == EXPECTED_WISHED
    assert {key: (value[0], value[3]) for (kind, key), value in streamed.items() if kind == "searched"} == \
        EXPECTED_SEARCHED
    assert {key: (Decimal(value[0]), value[1]) for key, value in streamed_revenue.items()} == EXPECTED_REVENUE

    # The batch stage over the same lake: daily sales (the closing order too).
    daily_sales(spark, lake.config)
    ours = lake.read(spark, "daily_sales").where("sales_date = '2026-03-03' AND seller_id IN ('s-ka', 's-kb', 's-ga')")
    by_seller = {r.seller_id: (r.category, r.units, str(r.revenue), r.orders) for r in ours.collect()}
    assert by_seller == {"s-ka": ("kitchen", 4, "400.000000", 3), "s-kb": ("kitchen", 5, "37.500000", 1),
                         "s-ga": ("garden", 1, "40.000000", 1)}


async def test_a_restart_mid_window_counts_nothing_twice_and_the_api_adds_up_the_window(settings, lake, spark):
    now = datetime.now(UTC)
    start = now - timedelta(seconds=now.timestamp() % reports.BUCKET_SECONDS)  # the current bucket
    first, second = journey(start)[:5], journey(start)[5:]
    await send(settings, first)
    snapshot_items(spark, lake)
    store = redis_sync.Redis.from_url(settings.redis_url)

    running = LakeProcess(lake.environment())
    counted = await asyncio.to_thread(until, lambda: bucket(store, lake.prefix, "bought", start), 240)
    running.kill9()
    assert counted, running.output()[-3000:]
    await send(settings, second)
    code, output = await asyncio.to_thread(LakeProcess(lake.environment(), "--once").wait, 300)
    assert code == 0, output[-3000:]

    bought = {key: value[0] for key, value in bucket(store, lake.prefix, "bought", start).items()}
    assert bought == EXPECTED_BOUGHT
    batch_counts, _ = recomputed(spark, lake, start)
    assert bought == {key: value[0] for (kind, key), value in batch_counts.items() if kind == "bought"}

    app = create_app(settings.model_copy(update={"reports_prefix": lake.prefix}))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        trending = (await http.get("/v1/reports/trending", params={"window": "30m", "kind": "bought"})).json()
        kitchen = (await http.get("/v1/reports/trending", params={"kind": "bought", "category": "kitchen"})).json()
        terms = (await http.get("/v1/reports/trending", params={"kind": "searched"})).json()
        revenue = await http.get("/v1/reports/revenue", headers={"X-Admin-Key":
                                                                 settings.admin_key.get_secret_value()})
        anonymous_revenue = await http.get("/v1/reports/revenue")
    assert [(i["item_id"], i["count"]) for i in trending["items"]] == [("kb", 5), ("ka", 3), ("ga", 1)]
    assert [i["item_id"] for i in kitchen["items"]] == ["kb", "ka"]
    assert terms["terms"] == [{"term": "kettle", "count": 2, "zero_results": 0},
                              {"term": "spork", "count": 1, "zero_results": 1}]
    assert {(c["category"], c["revenue"], c["orders"]) for c in revenue.json()["categories"]} == \
        {("kitchen", "337.50", 3), ("garden", "40.00", 1)}
    assert anonymous_revenue.status_code == 401
    assert Counter(trending) and trending["as_of"]
