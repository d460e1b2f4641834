"""`kill -9` of the worker on the real stack, while it applies a seller feed and while it relays the outbox: nothing
accepted is lost, and what the kill makes a worker do twice changes nothing (versions in the stores, event ids on
Kafka)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest

from inbound.service import item_id_for
from item_service.events import OUTCOMES_TOPIC, RecordOutcome
from orders.events import ORDERS_TOPIC
from tests.faults.accounting import differences, order_events, outbox_rows, stock_rows
from tests.faults.conftest import TopicLog, fresh_mysql, report, running, until
from tests.faults.feeds import FEEDS, PER_FEED, WAREHOUSE, SellerFeeds, expected_documents
from tests.faults.load import OrderLoad
from tests.faults.locks import hold_pending_rows, hold_stock_row, writers_waiting

pytestmark = [pytest.mark.stack, pytest.mark.restarts_stack, pytest.mark.timeout(170)]

RELAY_BATCH = 500  # OutboxRelay's batch: what one relay can have sent and not yet deleted


async def test_killing_the_worker_mid_feed_loses_and_duplicates_no_record(shop, worker, settings, unique_name):
    """Injects: a seller posts 8 feeds of 250 new items (2,000 records, each with a version and stock) through the API
    while a `shop worker` applies them. The test holds a row lock on the first item's stock row, so the feed-stock
    consumer stops mid-batch there (inside its transaction, its offsets uncommitted) while the other consumers go on;
    once it waits there and the first records are applied (3 feeds posted), the worker's whole process group gets
    SIGKILL. The lock is let go, 3 more feeds are posted with no worker running, a new worker is started and the last
    2 feeds are posted while it starts.
    Checks: every accepted record is in MongoDB once (its id is the seller's sku's) at its version, in Elasticsearch at
    its version and in stock in its warehouse (`GET /v1/search` finds all 2,000), its stock row holds its units, and
    each feed counts every record `applied`, once; every record's outcome reached `catalog.items.outcomes` (a batch
    the kill interrupted is delivered again: its outcomes twice, which the feed status absorbs)."""
    outcomes = await TopicLog.opened(settings, OUTCOMES_TOPIC)
    await running(worker)
    feeds = SellerFeeds(shop, unique_name)
    feeds.seller_id, feeds.api_key = await shop.state.feed_store.create_seller(unique_name)

    async with fresh_mysql(settings) as engine:
        held = await hold_stock_row(engine, item_id_for(feeds.seller_id, f"{unique_name}-0"), WAREHOUSE)
        try:
            await feeds.post(range(3))
            waiting = await until(lambda: writers_waiting(engine, "INSERT INTO stock_levels"), bool, 60, every=0.05)
            applied_at_kill = await until(feeds.applied, lambda applied: applied > 0, timeout=60, every=0.05)
            worker.kill9()
        finally:
            await held.release()
    assert waiting, "the feed-stock consumer never reached the held row"
    await feeds.post(range(3, 6))
    restarting = asyncio.ensure_future(asyncio.to_thread(worker.start))
    await feeds.post(range(6, 8))
    ready_after = await restarting

    expected_counts = {feed_id: {"applied": PER_FEED} for feed_id in feeds.feed_ids}
    documents = expected_documents(feeds)
    counts = await until(feeds.counts, lambda counts: counts == expected_counts, timeout=90)
    stored = await shop.state.item_store.current_docs(feeds.expected)
    indexed = await until(feeds.indexed, lambda found: found == documents, timeout=60)
    searchable = await until(feeds.searchable, lambda total: total == len(feeds.expected), timeout=30)
    async with fresh_mysql(settings) as engine:
        stock = await stock_rows(engine, list(feeds.expected))
    reported = Counter((o.feed_id, o.index) for o in map(outcome_of, await outcomes.read()) if o.feed_id in counts)
    assert len(feeds.expected) == FEEDS * PER_FEED
    assert counts == expected_counts
    assert not differences({i: (d["sku"], d["version"], d["deleted"]) for i, d in stored.items()},
                           {i: (sku, version, False) for i, (sku, version, _) in feeds.expected.items()}, "items")
    assert not differences(indexed, documents, "search documents")
    assert searchable == FEEDS * PER_FEED
    assert not differences(stock, {i: {WAREHOUSE: (units, 0)} for i, (_, _, units) in feeds.expected.items()}, "stock")
    assert set(reported) == {(feed_id, n) for feed_id in feeds.feed_ids for n in range(PER_FEED)}
    report("test_killing_the_worker_mid_feed_loses_and_duplicates_no_record",
           requests=f"{FEEDS} feeds of {PER_FEED} records ({feeds.tally.summary()})",
           accepted=f"{len(feeds.expected)} records", faults=f"1 kill -9 of the worker with {applied_at_kill} of "
           f"{3 * PER_FEED} posted records applied and its feed-stock consumer mid-batch; the new worker was ready "
           f"{ready_after:.1f}s after its start",
           outcome=f"{len(stored)} items in MongoDB at their versions, {searchable} searchable, {len(stock)} stock "
           f"rows set, feed status {sum(c['applied'] for c in counts.values())} applied; {sum(reported.values())} "
           f"outcome messages for {len(reported)} records (redelivered after the kill: "
           f"{sum(reported.values()) - len(reported)}, counted once by the feed status)")


def outcome_of(message) -> RecordOutcome:
    return RecordOutcome.model_validate_json(message.value)


async def test_killing_the_worker_mid_relay_publishes_every_outbox_event_once(shop, worker, settings):
    """Injects: shoppers place orders through the API (each order queues `order_created` in the outbox) while a worker
    relays them: 100 orders, then more until some of their outbox rows are caught pending; the test row-locks those,
    so the relay sends them and then waits in its DELETE; once they are on `orders.events` the worker's whole process
    group gets SIGKILL (between send and delete, every time, not by luck); the lock is let go, 100 orders are placed
    with no worker running, and a new worker is started.
    "Exactly once" here: the relay publishes at least once and every event carries an event_id. An event sent by a
    relay killed before it deleted the row is sent again by the next relay (allowed); consumers drop it by event_id
    (notifications records each event_id it has sent for). So each order has exactly one distinct
    `order_created` event_id on Kafka, each event_id appears once or, if it was in the killed relay's batch, twice;
    the held rows' events twice (three times if the killed relay's DELETE timed out on them and it sent them again
    before the kill); and the outbox is empty afterwards."""
    events = await TopicLog.opened(settings, ORDERS_TOPIC)
    await running(worker)
    items = [(await shop.sellable_item(10_000))[0] for _ in range(3)]
    load = OrderLoad(shop, [await shop.buyer() for _ in range(10)], lambda n: [(items[n % 3], 1 + n % 2)])

    async with fresh_mysql(settings) as engine:
        await load.place_many(100)
        held = None
        for _ in range(3):
            placing = asyncio.ensure_future(load.place_many(100))
            held = await hold_pending_rows(engine, placing)
            await placing
            if held:
                break
        assert held is not None, "the relay kept the outbox empty through 300 orders: no pending row to hold"
        held_ids = {json.loads(payload)["event_id"] for payload, in held.rows}
        try:
            sent = await until(events.read, lambda messages: held_ids <= event_ids(messages), timeout=90)
            worker.kill9()
        finally:
            await held.release()
        assert held_ids <= event_ids(sent), "the relay never sent the rows it could not delete"
        await load.place_many(100)
        ready_after = await asyncio.to_thread(worker.start)

        pending = await until(lambda: outbox_rows(engine, load.order_ids), lambda left: left == 0, timeout=60)
    published = await until(events.read, lambda m: created_ids(m, load.order_ids).keys() == set(load.order_ids), 30)
    per_order, counts = created_ids(published, load.order_ids), Counter(event_ids_in(published))
    ours = Counter(event.event_id for event in order_events(published, load.order_ids))
    assert pending == 0
    assert {order_id: len(ids) for order_id, ids in per_order.items()} == {order_id: 1 for order_id in load.order_ids}
    assert all(count <= 2 for event_id, count in ours.items() if event_id not in held_ids)
    # The held rows' events: sent by the killed relay and again by the next one; a third time when the killed relay's
    # DELETE waited out MariaDB's lock wait timeout (50 s) on them before the kill and it sent its batch again.
    assert {counts[event_id] for event_id in held_ids} <= {2, 3}
    assert sum(1 for count in counts.values() if count == 2) <= RELAY_BATCH
    duplicates = sum(count - 1 for count in ours.values())
    report("test_killing_the_worker_mid_relay_publishes_every_outbox_event_once", requests=load.summary(),
           faults=f"1 kill -9 of the worker with {len(held_ids)} sent events' rows held undeleted; the new "
           f"worker was ready {ready_after:.1f}s after its start",
           outcome=f"{len(per_order)} orders, each with one order_created event id on orders.events; "
           f"{sum(ours.values())} messages for their {len(ours)} event ids ({duplicates} sent again after the kill, "
           f"dropped by event_id); outbox empty")


def event_ids_in(messages: list) -> list[str]:
    return [json.loads(message.value)["event_id"] for message in messages]


def event_ids(messages: list) -> set[str]:
    return set(event_ids_in(messages))


def created_ids(messages: list, order_ids: list[str]) -> dict[str, set[str]]:
    """Order id -> the distinct event ids of its `order_created` events."""
    found: dict[str, set[str]] = {}
    for event in order_events(messages, order_ids):
        if event.type == "order_created":
            found.setdefault(event.order_id, set()).add(event.event_id)
    return found
