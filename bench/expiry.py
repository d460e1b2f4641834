"""Expiry: how late unpaid orders are cancelled and restocked after their deadline, against Redis' own expiry events.

    .venv/bin/python -m bench.expiry [--sizes 10000 100000] [--spread 30] [--items 2000]

Needs the local stack, and no `shop worker` running (it waits for one to finish): the run's cancellations must come
from the expiry loops it measures, and a worker would relay their `order_cancelled` events to the shared consumers.

For each size N, two phases:
- Redis alone (the baseline): N keys with deadlines spread evenly over `--spread` seconds, nothing else; a separate
  process subscribed to `__keyevent@<db>__:expired` notes when each key's event arrives.
- The expiry machinery: N unpaid orders written in bulk as `OrderStore.place` leaves them (see
  `bench.checkout_data.unpaid_orders`), their deadlines spread the same way and their payment windows opened with
  `PaymentWindows.open`, while `orders.agents.listen_for_expiries` and `orders.agents.sweep` run as tasks of this
  process with the worker's settings and wiring (`checkout` of a second `Stores`, so its own engine and Redis client),
  as `shop worker` runs them. An order's lateness is `updated_at - expires_at` (`updated_at` is set by the cancelling
  transaction, which also puts the unit back), and also the moment that transaction's commit returned. At the end
  every item's stock must be back where it started.
Removes everything it created.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, text

from app.builder import open_stores
from bench.checkout_data import (
    PINCODE,
    SIZE_CLASS,
    buyers,
    fastest_warehouse,
    remove_run,
    set_deadlines,
    stocked_items,
    unpaid_orders,
)
from bench.harness import report, summary
from infra.settings import get_settings
from orders.agents import listen_for_expiries, sweep
from orders.windows import PaymentWindows

BASELINE_PREFIX = "bench-window:"


def running_workers() -> list[str]:
    found = subprocess.run(["pgrep", "-af", "app.cli worker"], capture_output=True, text=True,
                           check=False).stdout.splitlines()
    return [line for line in found if "pgrep" not in line]


def lead_seconds(count: int) -> float:
    """Time from choosing the deadlines until the first one, enough to write them all first."""
    return 5 + count / 8_000


def record_expired(channel: str, count: int, until: float, ready, out_path: str) -> None:
    """Child process: arrival time of each `bench-window:` key's expired event, until `count` came or `until`."""
    async def listen() -> dict[str, float]:
        async with open_stores(get_settings()) as stores:
            pubsub = stores.redis.pubsub()
            await pubsub.subscribe(channel)
            ready.set()
            arrived: dict[str, float] = {}
            while len(arrived) < count and time.time() < until:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message and message["data"].startswith(BASELINE_PREFIX):
                    arrived[message["data"]] = time.time()
            await pubsub.aclose()
        return arrived

    with open(out_path, "w") as out:
        json.dump(asyncio.run(listen()), out)


async def redis_alone(redis, count: int, spread: float, max_wait: float) -> dict:
    run, step = uuid.uuid4().hex[:8], spread / count
    first = time.time() + lead_seconds(count)
    context = multiprocessing.get_context("spawn")
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as made:
        ready, out = context.Event(), made.name
    windows_db = redis.connection_pool.connection_kwargs.get("db", 0)
    child = context.Process(target=record_expired, args=(f"__keyevent@{windows_db}__:expired", count,
                                                         first + spread + max_wait, ready, out))
    child.start()
    await asyncio.to_thread(ready.wait, 30)
    for start in range(0, count, 10_000):
        pipe = redis.pipeline(transaction=False)
        for n in range(start, min(count, start + 10_000)):
            pipe.set(f"{BASELINE_PREFIX}{run}:{n}", "1", pxat=int((first + n * step) * 1000))
        await pipe.execute()
    margin = first - time.time()
    await asyncio.to_thread(child.join)
    arrived = json.loads(await asyncio.to_thread(Path(out).read_text))
    os.unlink(out)
    late = [arrived[key] - (first + int(key.rsplit(":", 1)[1]) * step) for key in arrived if f":{run}:" in key]
    return {"keys": count, "events that never came": count - len(late), "keys all set before the first deadline by (s)":
            margin, **{f"{k} (s late)" if k != "n" else "events": v for k, v in summary(late or [0.0]).items()}}


class Noting:
    """The checkout as one expiry loop sees it: notes which loop cancelled each order and when its commit returned."""

    def __init__(self, checkout, loop: str, cancelled: dict, heard: Counter) -> None:
        self.checkout, self.windows, self.loop = checkout, checkout.windows, loop
        self.cancelled, self.heard = cancelled, heard
        self.busy: list[tuple[int, float]] = []  # (orders cancelled, seconds) of each call that cancelled some

    async def expire_due(self, limit: int, order_ids: list[str] | None = None) -> list[dict]:
        self.heard[self.loop] += 1
        began = time.monotonic()
        done = await self.checkout.expire_due(limit, order_ids)
        now = time.time()
        for order in done:
            self.cancelled[order["order_id"]] = (self.loop, now)
        if done:
            self.busy.append((len(done), time.monotonic() - began))
        return done

    def figures(self) -> dict:
        """How the loop's cancelling calls went: one call is one transaction plus the DEL of the windows."""
        if not self.busy:
            return {f"{self.loop}: calls that cancelled orders": 0}
        orders, seconds = sum(n for n, _ in self.busy), sum(s for _, s in self.busy)
        return {f"{self.loop}: calls that cancelled orders": len(self.busy),
                f"{self.loop}: orders per call (mean)": orders / len(self.busy),
                f"{self.loop}: seconds per call (mean)": seconds / len(self.busy),
                f"{self.loop}: seconds per call (max)": max(s for _, s in self.busy),
                f"{self.loop}: orders cancelled per second of calls": orders / seconds}


async def machinery(settings, stores, count: int, items: int, spread: float, max_wait: float) -> dict:
    """Unpaid orders, then their deadlines and windows, while the expiry loops run; how late each was cancelled.
    `stores` writes and checks the run's data; the loops get a `Stores` of their own, as the worker process has."""
    prefix, mysql = f"bench-ex-{uuid.uuid4().hex[:8]}", stores.mysql
    warehouse_id = await fastest_warehouse(stores.serviceability)
    eta = (await stores.serviceability.deliverable_from(PINCODE))[SIZE_CLASS][warehouse_id]
    user_ids = [u for u, _ in await buyers(stores.users, "tokens-unused-" * 3, prefix, 16)]
    units, item_ids = count // items + 10, []  # never reaches zero, so no stock crossing events
    try:
        item_ids = await stocked_items(stores, prefix, items, units, warehouse_id)
        began = time.monotonic()
        order_ids = await unpaid_orders(mysql, prefix, user_ids, item_ids, warehouse_id, eta, count)
        figures = {"orders": count, "written in bulk in (s)": time.monotonic() - began}
        async with open_stores(settings) as worker:
            figures |= await expire(settings, worker.checkout, mysql, prefix, user_ids, order_ids, spread, max_wait)
        return {**figures, "every unit back in stock": await restocked(mysql, item_ids, units)}
    finally:
        report("removed", await remove_run(stores, user_ids, item_ids))


async def expire(settings, checkout, mysql, prefix: str, user_ids: list[str], order_ids: list[str], spread: float,
                 max_wait: float) -> dict:
    cancelled, heard = {}, Counter()
    listener, sweeper = Noting(checkout, "listener", cancelled, heard), Noting(checkout, "sweeper", cancelled, heard)
    loops = [asyncio.create_task(listen_for_expiries(listener, settings.expiry_sweep_batch)),
             asyncio.create_task(sweep(sweeper, settings.expiry_sweep_seconds, settings.expiry_sweep_batch))]
    await asyncio.sleep(1)  # the listener has subscribed
    first = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=lead_seconds(len(order_ids)))
    step_us = int(spread * 1e6 / len(order_ids))
    await set_deadlines(mysql, PaymentWindows(checkout.windows.redis.pipeline(transaction=False)), prefix, user_ids,
                        order_ids, first, step_us)
    margin = (first - datetime.now(UTC).replace(tzinfo=None)).total_seconds()
    first_at = first.replace(tzinfo=UTC).timestamp()
    still = await wait_until_cancelled(mysql, user_ids, set(order_ids), cancelled, first_at + spread + max_wait)
    for task in loops:
        task.cancel()
    failures = [repr(t.exception()) for t in loops if t.done() and not t.cancelled() and t.exception()]
    deadline_of = {order_id: first_at + n * step_us / 1e6 for n, order_id in enumerate(order_ids)}
    ours = {order_id: done for order_id, done in cancelled.items() if order_id in deadline_of}
    late_commit = [at - deadline_of[order_id] for order_id, (_, at) in ours.items()]
    by_loop = Counter(loop for loop, _ in ours.values())
    return {"windows all open before the first deadline by (s)": margin, "never cancelled": still,
            "cancelled by the listener": by_loop["listener"], "cancelled by the sweeper": by_loop["sweeper"],
            "cancelled by another process": len(order_ids) - still - len(ours),
            "expiry events the listener received": heard["listener"], "loop failures": failures or "none",
            **seconds_late("updated_at - expires_at", await lateness(mysql, user_ids)),
            **seconds_late("commit returned - deadline", late_commit), **sweeper.figures(), **listener.figures()}


async def wait_until_cancelled(mysql, user_ids: list[str], ours: set[str], cancelled: dict, give_up: float) -> int:
    """Waits until the loops cancelled every one of `ours` (or none is left open, or `give_up`); how many are open."""
    for tick in range(10**9):
        if len(ours.intersection(cancelled)) == len(ours) or time.time() > give_up:
            break
        if tick % 10 == 9 and not await still_open(mysql, user_ids):  # some were cancelled by another process
            break
        await asyncio.sleep(0.5)
    return await still_open(mysql, user_ids)


def seconds_late(what: str, values: list[float]) -> dict:
    return {f"{what} {k} (s)": v for k, v in summary(values or [0.0]).items() if k != "n"}


def _ids(sql: str):
    return text(sql).bindparams(bindparam("ids", expanding=True))


async def still_open(mysql, user_ids: list[str]) -> int:
    async with mysql.connect() as conn:
        return (await conn.execute(_ids("SELECT COUNT(*) FROM orders WHERE user_id IN :ids AND status = 'CREATED'"),
                                   {"ids": user_ids})).scalar_one()


async def lateness(mysql, user_ids: list[str]) -> list[float]:
    async with mysql.connect() as conn:
        rows = await conn.execute(_ids("SELECT TIMESTAMPDIFF(MICROSECOND, expires_at, updated_at) FROM orders "
                                       "WHERE user_id IN :ids AND status = 'CANCELLED'"), {"ids": user_ids})
        return [micros / 1e6 for micros in rows.scalars()]


async def restocked(mysql, item_ids: list[str], units: int) -> bool:
    """Every item holds its starting units again, none reserved, and its movements add up to that."""
    async with mysql.connect() as conn:
        rows = (await conn.execute(_ids("SELECT s.on_hand, s.reserved, (SELECT SUM(on_hand_delta) FROM stock_movements m "
                                        "WHERE m.item_id = s.item_id AND m.warehouse_id = s.warehouse_id), "
                                        "(SELECT SUM(reserved_delta) FROM stock_movements m "
                                        "WHERE m.item_id = s.item_id AND m.warehouse_id = s.warehouse_id) "
                                        "FROM stock_levels s WHERE s.item_id IN :ids"), {"ids": item_ids})).all()
    return len(rows) == len(item_ids) and all(on_hand == units == int(moved) and reserved == int(held) == 0
                                              for on_hand, reserved, moved, held in rows)


async def run(args) -> None:
    settings = get_settings()
    waited, deadline = 0.0, time.monotonic() + args.wait_for_worker
    while (workers := running_workers()) and time.monotonic() < deadline:
        print(f"waiting for a running `shop worker` to end: {workers}")
        await asyncio.sleep(5)
        waited += 5
    if workers:
        raise SystemExit(f"a `shop worker` is still running: {workers}")
    report("before the run", {"`shop worker` processes seen": "none" if not waited else f"one; waited {waited:.0f} s"})
    async with open_stores(settings) as stores:
        for count in args.sizes:
            if not args.skip_redis_alone:
                report(f"Redis alone: {count:,} keys expiring over {args.spread:.0f} s, expired events",
                       await redis_alone(stores.redis, count, args.spread, args.max_wait))
            report(f"expiry machinery: {count:,} unpaid orders due over {args.spread:.0f} s, listener + sweeper "
                   f"(sweep every {settings.expiry_sweep_seconds} s, batch {settings.expiry_sweep_batch})",
                   await machinery(settings, stores, count, args.items, args.spread, args.max_wait))
            report("`shop worker` processes seen after this size", {"workers": running_workers() or "none"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--spread", type=float, default=30, help="seconds over which the deadlines fall")
    parser.add_argument("--items", type=int, default=2_000)
    parser.add_argument("--max-wait", type=float, default=120, help="seconds after the last deadline to give up")
    parser.add_argument("--wait-for-worker", type=float, default=300)
    parser.add_argument("--skip-redis-alone", action="store_true", help="only the expiry machinery (for profiling)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
