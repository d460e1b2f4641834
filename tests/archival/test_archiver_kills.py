"""kill -9 of `shop archive` at random points, many times over, on the real stack: every order ends up exactly once in
Cassandra, gone from MySQL, identical to what the API showed before; nothing is lost in between."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from tests.archival.clones import clone_orders
from tests.archival.conftest import in_mysql, journeys

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]
TRIALS = 24
STEPS = ("read", "written", "verified", "removed")


def archive_process() -> subprocess.Popen:
    env = {**os.environ, "SHOP_ARCHIVE_BATCH": "7", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "app.cli", "archive", "--older-than", "0", "--steps"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def kill_at_random_point(rng: random.Random) -> tuple[str, float] | None:
    """Runs the archiver and kills it (SIGKILL to its process group) a random time after a random step line: returns
    (the last step it printed, the delay), or None when it finished first."""
    process = archive_process()
    target, delay = rng.randrange(1, 9), rng.uniform(0, 0.03)
    seen, last = 0, "start"
    assert process.stdout is not None
    for raw in process.stdout:
        line = raw.decode(errors="replace").strip()
        if line.startswith("step "):
            seen, last = seen + 1, line.split()[1]
            if seen == target:
                time.sleep(delay)
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return last, delay
    process.wait()
    return None


async def test_kill_9_of_the_archiver_at_random_points_loses_and_duplicates_nothing(shop, settings):
    made = await journeys(shop, delivered=3, cancelled=1, refunded=1, failed=1, open_=1)
    templates = [o["order_id"] for o in made.finished]
    clones = await clone_orders(shop.state.mysql, templates, copies=40)  # 240 more, 7 per batch: ~35 batches
    ours = templates + clones
    before = await _documents(shop, ours)
    rng = random.Random(20261127)

    kills: Counter[str] = Counter()
    for _ in range(TRIALS):
        killed = await asyncio.to_thread(kill_at_random_point, rng)
        if killed is None:
            break
        kills[killed[0]] += 1
    finished = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "app.cli", "archive", "--older-than", "0"],
                                       capture_output=True, env={**os.environ, "SHOP_ARCHIVE_BATCH": "7"}, timeout=300,
                                       check=False)

    assert finished.returncode == 0, finished.stdout.decode() + finished.stderr.decode()
    assert sum(kills.values()) >= 20, kills
    assert set(kills) == set(STEPS), f"kills landed only after {dict(kills)}"
    left = await in_mysql(shop, ours)
    assert (left["orders"], left["order_lines"], left["refunds"], left["archived_orders"]) == (0, 0, 0, len(ours))
    archived = {order_id: await shop.state.order_archive.get(order_id) for order_id in ours}
    assert archived == before
    per_user = await shop.state.order_archive.for_user(made.buyer.user_id, None, 1000)
    listed = Counter(o["order_id"] for o in per_user)
    assert {order_id: listed[order_id] for order_id in ours} == {order_id: 1 for order_id in ours}
    assert (await in_mysql(shop, [made.open[0]["order_id"]]))["orders"] == 1
    print(f"\n[archive] {sum(kills.values())} kill -9 of `shop archive` after each step: {dict(kills)}; "
          f"{len(ours)} orders archived once each, identical, gone from MySQL")


async def _documents(shop, order_ids: list[str]) -> dict[str, dict]:
    docs = await shop.state.archiver.finished.documents(order_ids)
    assert len(docs) == len(order_ids)
    return {doc["order_id"]: doc for doc in docs}


async def test_an_order_whose_refund_is_pending_stays_live(shop):
    """An order whose refund the gateway has not answered stays in MySQL until it has (its history is not final)."""
    made = await journeys(shop, delivered=0, cancelled=0, refunded=0, failed=0, open_=1)
    order_id = made.open[0]["order_id"]
    await shop.http.post(f"/v1/orders/{order_id}/cancel", headers=made.buyer.headers)
    async with shop.state.mysql.connect() as conn, conn.begin():
        # Held so a worker's refund settling (if one runs on the stack) waits until the archiver has looked.
        pending = (await conn.execute(text("SELECT status FROM refunds WHERE order_id = :o FOR UPDATE"),
                                      {"o": order_id})).scalar()
        due = await shop.state.archiver.finished.due(datetime.now(UTC).replace(tzinfo=None), 1_000_000)
    assert pending == "pending"
    assert order_id not in due
