"""The event lake on the real stack: every event once in its table across kill -9 of the job, typed from its record
and partitioned by event date; what is not its topic's record goes to the quarantine with the reason, and the job goes
on."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from analytics import job
from analytics.schema import required_fields, struct_of
from orders.events import OrderEvent
from tests.analytics.conftest import LakeProcess, order_event, search_event, send, until, wishlist_event

pytestmark = [pytest.mark.stack, pytest.mark.timeout(900)]


def test_tables_are_typed_from_the_records():
    schema = {field.name: field.dataType.simpleString() for field in struct_of(OrderEvent).fields}
    assert schema["total"] == "decimal(38,6)" and schema["at"] == "timestamp"
    assert schema["lines"].startswith("array<struct<item_id:string,seller_id:string")
    assert "unit_price:decimal(38,6)" in schema["lines"]
    assert required_fields(OrderEvent) == ["type", "order_id", "user_id", "status", "pincode", "currency", "total",
                                           "payment_id", "at"]


async def test_malformed_events_are_quarantined_with_their_reason_and_the_rest_land(settings, lake, spark):
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    good = [order_event(at, [("i1", 1, "10.00")]) for _ in range(3)]
    wrong_type = json.loads(good[0][2])
    wrong_type.update(order_id=uuid.uuid4().hex, total="a lot")
    missing = {k: v for k, v in json.loads(good[1][2]).items() if k not in ("order_id", "currency")}
    bad = [("orders.events", "x", b"{not json"), ("orders.events", "y", json.dumps(wrong_type).encode()),
           ("orders.events", "z", json.dumps(missing).encode()), ("wishlist.events", "w", b"[1, 2]")]
    await send(settings, [good[0], *bad, *good[1:], wishlist_event(at, "i1")])

    job.ensure_tables(spark, lake.config)
    job.start_events(spark, lake.config, once=True).awaitTermination()

    orders = lake.read(spark, "orders")
    quarantined = {(r.kafka_topic, r.value): r.reason for r in lake.read(spark, "quarantine").collect()}
    assert sorted(r.order_id for r in orders.collect()) == sorted(key for _, key, _ in good)
    assert {r.event_date.isoformat() for r in orders.select("event_date").collect()} == {"2026-03-01"}
    assert quarantined[("orders.events", "{not json")].startswith("not a OrderEvent record")
    assert quarantined[("orders.events", json.dumps(wrong_type))].startswith("not a OrderEvent record")
    assert quarantined[("orders.events", json.dumps(missing))] == "missing required fields: order_id, currency"
    assert ("wishlist.events", "[1, 2]") in quarantined
    assert lake.read(spark, "wishlist").count() == 1


async def test_kill_9_of_the_lake_job_loses_and_duplicates_no_event(settings, lake, spark):
    """Small micro-batches (60 records) of eight table appends each, the job killed three times at random moments
    while events keep arriving; then `shop lake --once` catches up. Every event is in its table exactly once."""
    rng = random.Random(20261127)
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    sent: list[tuple[str, str, bytes]] = []

    async def more(n: int) -> None:
        batch = []
        for k in range(n):
            at = start + timedelta(seconds=len(sent) + k)
            batch += [order_event(at, [(f"i{k % 7}", 1 + k % 3, "12.50")]), wishlist_event(at, f"i{k % 5}"),
                      search_event(at, f"kettle {k % 4}", k % 2)]
        sent.extend(batch)
        await send(settings, batch)

    await more(150)
    environment = lake.environment(SHOP_LAKE_MAX_OFFSETS_PER_TRIGGER="60", SHOP_LAKE_TRIGGER_SECONDS="0.2")
    kills = 0
    for _ in range(3):
        running = LakeProcess(environment)
        landed = await asyncio.to_thread(until, lambda: _count(spark, lake, "orders") > 0, 240)
        if not landed:
            running.kill9()
            pytest.fail(f"no order reached the lake in 240 s: {running.output()[-3000:]}")
        await asyncio.sleep(rng.uniform(0.5, 4.0))
        running.kill9()
        kills += 1
        await more(60)
    code, output = await asyncio.to_thread(LakeProcess(lake.environment(), "--once").wait, 300)

    assert code == 0, output[-3000:]
    for table, topic in (("orders", "orders.events"), ("wishlist", "wishlist.events"), ("searches", "search.performed")):
        ids = [json.loads(value)["event_id" if topic != "search.performed" else "search_id"]
               for t, _, value in sent if t == topic]
        column = "search_id" if table == "searches" else "event_id"
        stored = Counter(row[0] for row in lake.read(spark, table).select(column).collect())
        assert stored == Counter(ids), f"{table}: {sum(stored.values())} rows for {len(ids)} events"
    print(f"\n[lake] {kills} kill -9 of `shop lake` mid-stream; {len(sent)} events, each once in its table")


def _count(spark, lake, table: str) -> int:
    try:
        return lake.read(spark, table).count()
    except Exception:  # noqa: BLE001 (not created yet)
        return 0
