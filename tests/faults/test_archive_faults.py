"""Cassandra stopped while the archiver moves orders out of MySQL: nothing leaves MySQL that is not verified in
Cassandra, and the next run, once Cassandra is back, finishes the work with every order archived once, as it was."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.archival.clones import clone_orders
from tests.archival.conftest import FINISHED, in_mysql, journeys
from tests.faults.conftest import report, restart_engine, until

pytestmark = [pytest.mark.stack, pytest.mark.restarts_stack, pytest.mark.timeout(300)]


async def test_stopping_cassandra_mid_archive_deletes_nothing_unverified_and_the_next_run_completes(shop, settings):
    made = await journeys(shop, delivered=3, cancelled=1, refunded=1, failed=1, open_=0)
    templates = [o["order_id"] for o in made.finished]
    ours = templates + await clone_orders(shop.state.mysql, templates, copies=100)
    before = {doc["order_id"]: doc for doc in await shop.state.archiver.finished.documents(ours)}
    archiver = shop.state.archiver
    archiver.batch_size = 10
    running = asyncio.ensure_future(archiver.run(FINISHED))
    left = await until(lambda: in_mysql(shop, ours), lambda counts: counts["orders"] < len(ours) - 20, timeout=60,
                       every=0.05)
    down = asyncio.Event()
    restarting = asyncio.ensure_future(restart_engine(settings, "cassandra", down, hold_seconds=3))
    await down.wait()
    outcome = (await asyncio.gather(running, return_exceptions=True))[0]
    still_in_mysql = await in_mysql(shop, ours)
    away = await restarting

    assert isinstance(outcome, Exception), f"the archiver finished before Cassandra stopped: {outcome}"
    moved = [order_id for order_id in ours if not await _live(shop, order_id)]
    for attempt in range(30):  # the driver reconnects with backoff once the node answers again
        try:
            archived_before_rerun = {order_id: await shop.state.order_archive.get(order_id) for order_id in moved}
            break
        except Exception:  # noqa: BLE001 (NoHostAvailable until the driver reconnects)
            await asyncio.sleep(1)
    assert archived_before_rerun == {order_id: before[order_id] for order_id in moved}  # nothing unverified left

    summary = None
    for attempt in range(30):
        try:
            summary = await archiver.run(FINISHED)
            break
        except Exception:  # noqa: BLE001
            await asyncio.sleep(1)
    assert summary is not None and not summary.unverified
    after = await in_mysql(shop, ours)
    assert (after["orders"], after["order_lines"], after["archived_orders"]) == (0, 0, len(ours))
    assert {order_id: await shop.state.order_archive.get(order_id) for order_id in ours} == before
    listed = Counter(o["order_id"] for o in await shop.state.order_archive.for_user(made.buyer.user_id, None, 1000))
    assert {order_id: listed[order_id] for order_id in ours} == {order_id: 1 for order_id in ours}
    report("test_stopping_cassandra_mid_archive_deletes_nothing_unverified_and_the_next_run_completes",
           orders=f"{len(ours)} finished orders, batches of 10",
           faults=f"Cassandra stopped with {len(ours) - left['orders']}+ archived; away {away:.1f}s; the run failed "
           f"with {type(outcome).__name__} leaving {still_in_mysql['orders']} in MySQL",
           outcome=f"{len(moved)} already moved were verified copies; the next run archived the rest: every order "
           "once in Cassandra, identical, gone from MySQL")


async def _live(shop, order_id: str) -> bool:
    return (await in_mysql(shop, [order_id]))["orders"] == 1
