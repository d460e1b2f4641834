"""Event lake: events per second into the lake and the CPU each event costs, against a bare Structured Streaming query
that copies the same Kafka records to Parquet unparsed; and the trending report's freshness, from an order's commit to
its count in `GET /v1/reports/trending`.

    .venv/bin/python -m bench.lake [--events 200000] [--rounds 3] [--orders 240] [--rate 2] [--trigger 5]
    .venv/bin/python -m bench.lake --only throughput     # or: --only freshness

Needs the local stack, and no `shop worker` of its own running: the throughput events go to the business topics
(the lake reads those), where a running worker's consumers would take them too.
Throughput: `--events` valid events of the business topics (searches, cart and wishlist changes, placed orders, stock
changes, in the shares of `MIX`) are sent to Kafka first; then, in `--rounds` rounds, each query reads all of them from
where the topics ended before (one `availableNow` run, `maxOffsetsPerTrigger` from the settings, in this process's Spark
session, each into a fresh folder under `.stack/`), alternating (bare, lake, bare, lake, ...) so whatever else the
shared machine runs falls on both. A warm-up pair over a few thousand events runs first (JIT, class loading) and is not
counted.
- bare: `readStream.format("kafka")` -> `writeStream.format("parquet")` of (topic, partition, offset, timestamp,
  value): no parsing, no typing, no partitioning, no transaction log;
- lake: `analytics.job.start_events(once=True)`, what `shop lake --once` runs: parse and type every record by its
  topic's model, split into seven Delta tables partitioned by event date plus the quarantine, idempotent appends.
Both report events/s and CPU per event of the Spark JVM, this Python driver and the Kafka broker, and their ratios.
Freshness: the API and a worker (which relays the orders' outbox to Kafka) and `shop lake` (streaming, trigger
`--trigger` seconds, its own lake folder and Redis prefix) as processes; a shopper places `--orders` orders at `--rate`
per second, one unit each of five items of their own, each paid at once through the development gateway (an order
counts as bought once paid); a poller reads the 30-minute trending report every 0.2 s. The n-th order counts as shown when the five items' units in the report first reach n (orders are placed one after
another, so this is the n-th commit's delay, give or take the order of two close ones). Removes what it made."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import httpx
import psutil

from analytics import job
from analytics.config import LakeConfig
from analytics.session import lake_spark
from analytics.tables import EVENT_TABLES
from app.builder import open_stores
from bench.checkout_data import PINCODE, buyers, fastest_warehouse, remove_run, stocked_items
from bench.harness import api_and_worker, cpu_figures, cpu_spent, percentile, report, stack_pids
from infra import connections
from infra.settings import Settings, get_settings
from tests.analytics.conftest import end_offsets  # where the lake tests start their lakes, too

MIX = {"search.performed": 0.40, "cart.events": 0.25, "wishlist.events": 0.15, "orders.events": 0.15,
       "inventory.stock_changed": 0.05}
WARMUP_EVENTS = 5_000
ITEMS = [f"bench-lake-item-{n}" for n in range(500)]
WORDS = ["kettle", "teapot", "shirt", "lamp", "camera", "markers", "whiteboard", "mug", "rice", "soap"]


# --- events ---
def now_text() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def event(topic: str, at: str) -> tuple[str, bytes, bytes]:
    """One valid record of `topic`: (topic, key, value)."""
    item, user = random.choice(ITEMS), f"bench-lake-user-{random.randrange(5000)}"
    if topic == "search.performed":
        value = {"search_id": uuid.uuid4().hex, "shopper_id": user, "query": " ".join(random.sample(WORDS, 2)),
                 "filters": {"pincode": PINCODE}, "page": 1, "total": random.randrange(0, 50),
                 "top_item_ids": random.sample(ITEMS, 5), "at": at}
    elif topic == "cart.events":
        value = {"event_id": uuid.uuid4().hex, "type": "item_added", "user_id": user, "item_id": item, "quantity": 1,
                 "previous_quantity": 0, "reason": "shopper", "at": at}
    elif topic == "wishlist.events":
        value = {"event_id": uuid.uuid4().hex, "type": "item_added", "user_id": user, "item_id": item, "at": at}
    elif topic == "orders.events":
        value = {"event_id": uuid.uuid4().hex, "type": "order_placed", "order_id": uuid.uuid4().hex, "user_id": user,
                 "status": "PLACED", "cancel_reason": None, "pincode": PINCODE, "currency": "INR", "total": "500.00",
                 "payment_id": uuid.uuid4().hex, "replaces_order_id": None, "at": at,
                 "lines": [{"item_id": line, "seller_id": "bench-lake-seller", "warehouse_id": "WH-BLR-01",
                            "title": f"Bench {line}", "quantity": 1, "unit_price": "250.00"}
                           for line in random.sample(ITEMS, 2)]}
    else:
        value = {"item_id": item, "warehouses": [{"warehouse_id": "WH-BLR-01", "available": 7}], "in_stock": True,
                 "version": time.time_ns()}
    return topic, user.encode(), json.dumps(value).encode()


async def send_events(settings: Settings, count: int) -> float:
    """`count` events of `MIX` into Kafka, acknowledged; returns the seconds it took."""
    topics, weights = list(MIX), list(MIX.values())
    producer = connections.kafka_producer(settings, linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    began = time.monotonic()
    try:
        at = now_text()
        for start in range(0, count, 10_000):
            sent = [await producer.send(topic, key=key, value=value)
                    for topic, key, value in (event(t, at) for t in random.choices(topics, weights,
                                                                                    k=min(10_000, count - start)))]
            await asyncio.gather(*sent)
        await producer.flush()
    finally:
        await producer.stop()
    return time.monotonic() - began


# --- throughput ---
def bare_copy(spark, config: LakeConfig, folder: Path):
    records = (spark.readStream.format("kafka").option("kafka.bootstrap.servers", config.bootstrap)
               .option("subscribe", ",".join(table.topic for table in EVENT_TABLES))
               .option("startingOffsets", config.starting_offsets).option("failOnDataLoss", "false")
               .option("maxOffsetsPerTrigger", config.max_offsets_per_trigger).load())
    return (records.select("topic", "partition", "offset", "timestamp", "value").writeStream.format("parquet")
            .option("path", str(folder / "copy")).option("checkpointLocation", str(folder / "checkpoint"))
            .trigger(availableNow=True).start())


def timed(name: str, start, pids: dict[str, int]) -> dict:
    """Runs the query `start()` gives to its end: events read, seconds, CPU of the measured processes."""
    began = time.monotonic()
    with cpu_spent(pids) as spent:
        query = start()
        query.awaitTermination()
    seconds = time.monotonic() - began
    events = sum(progress.get("numInputRows", 0) for progress in query.recentProgress)
    return {"name": name, "events": events, "seconds": seconds, "spent": spent}


def figures(run: dict) -> dict:
    return {"events": run["events"], "seconds": run["seconds"], "events/s": run["events"] / run["seconds"],
            **cpu_figures(run["spent"], run["events"], "event", run["seconds"])}


def cpu_per_event(run: dict) -> float:
    return sum(used for name, used in run["spent"].items() if name != "machine") / run["events"]


async def throughput(settings: Settings, args) -> None:
    folder = settings.stack_dir / "bench-lake" / uuid.uuid4().hex[:8]
    spark = lake_spark(settings, "bench-lake")
    jvm = next(child.pid for child in psutil.Process().children(recursive=True) if "java" in child.name())
    pids = {"Spark JVM": jvm, "driver (Python)": os.getpid(), "kafka": stack_pids(settings)["kafka"]}
    try:
        def config(offsets: str, root: Path) -> LakeConfig:
            return LakeConfig(root=str(root), bootstrap=settings.kafka_bootstrap,
                              max_offsets_per_trigger=settings.lake_max_offsets_per_trigger, starting_offsets=offsets)

        warm_from = await end_offsets(settings)
        await send_events(settings, WARMUP_EVENTS)
        warm_lake = config(warm_from, folder / "warm-lake")
        for kind, start in (("bare", lambda: bare_copy(spark, warm_lake, folder / "warm-bare")),
                            ("lake", lambda: job.start_events(spark, warm_lake, once=True))):
            report(f"warm-up, {kind} (not counted)", figures(timed(kind, start, pids)))
        start_from = await end_offsets(settings)
        report("events sent to Kafka", {"events": args.events,
                                        "seconds": await send_events(settings, args.events)})
        runs: dict[str, list[dict]] = {"bare": [], "lake": []}
        for n in range(1, args.rounds + 1):
            bare_folder, lake_config = folder / f"bare-{n}", config(start_from, folder / f"lake-{n}")
            runs["bare"].append(timed("bare", partial(bare_copy, spark, lake_config, bare_folder), pids))
            report(f"round {n}: bare Kafka -> Parquet copy, unparsed", figures(runs["bare"][-1]))
            runs["lake"].append(timed("lake", partial(job.start_events, spark, lake_config, once=True), pids))
            report(f"round {n}: lake (shop lake --once: typed Delta tables + quarantine)", figures(runs["lake"][-1]))
        rates = {kind: sorted(r["events"] / r["seconds"] for r in done) for kind, done in runs.items()}
        cpus = {kind: sorted(cpu_per_event(r) for r in done) for kind, done in runs.items()}
        report("lake / bare, medians over the rounds", {
            "events/s, bare": median(rates["bare"]), "events/s, lake": median(rates["lake"]),
            "ratio events/s (aim >= 0.5)": median(rates["lake"]) / median(rates["bare"]),
            "CPU ms per 1,000 events, bare": 1e6 * median(cpus["bare"]),
            "CPU ms per 1,000 events, lake": 1e6 * median(cpus["lake"]),
            "ratio of ceilings, bare CPU / lake CPU": median(cpus["bare"]) / median(cpus["lake"]),
            **{f"round {n}: ratio events/s": (lake["events"] / lake["seconds"]) / (bare["events"] / bare["seconds"])
               for n, (bare, lake) in enumerate(zip(runs["bare"], runs["lake"]), 1)}})
    finally:
        spark.stop()
        shutil.rmtree(folder, ignore_errors=True)


def median(values: list[float]) -> float:
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


# --- freshness ---
class LakeJob:
    """`shop lake` streaming, as its own process group; `ready` once it says it is streaming."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "app.cli", "lake"], env=environment,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                                        text=True)
        self.ready, self.lines = threading.Event(), list[str]()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            if "streaming into" in line:
                self.ready.set()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


async def freshness(settings: Settings, args) -> None:
    prefix = f"bench-lk-{uuid.uuid4().hex[:8]}"
    root = settings.stack_dir / "bench-lake" / prefix
    os.environ["SHOP_REPORTS_PREFIX"] = f"{prefix}-reports"  # the API's reader, and the lake's writer below
    async with open_stores(settings) as stores:
        warehouse = await fastest_warehouse(stores.serviceability)
        shoppers = await buyers(stores.users, settings.jwt_secret.get_secret_value(), prefix, 1)
        items = await stocked_items(stores, prefix, 5, 100_000, warehouse)
        # No dimension snapshot: the report is read by item id here, and a snapshot of every item the development
        # stores hold would only delay the start.
        environment = {**os.environ, "SHOP_LAKE_ROOT": str(root), "SHOP_LAKE_TRIGGER_SECONDS": str(args.trigger),
                       "SHOP_LAKE_STARTING_OFFSETS": await end_offsets(settings), "SHOP_LAKE_DIMENSIONS_SECONDS": "0",
                       "PYTHONUNBUFFERED": "1"}  # its "streaming" line as it is printed
        lake = LakeJob(environment)
        try:
            with api_and_worker(settings) as (base_url, _):
                if not await asyncio.to_thread(lake.ready.wait, 600):
                    raise RuntimeError("shop lake did not start:\n" + "\n".join(lake.lines[-30:]))
                committed, shown = await place_and_watch(base_url, shoppers[0][1], items, args)
        finally:
            lake.stop()
            report("removed", await remove_run(stores, [user for user, _ in shoppers], items))
            keys = [key async for key in stores.redis.scan_iter(match=f"{prefix}-reports*")]
            if keys:
                await stores.redis.delete(*keys)
            shutil.rmtree(root, ignore_errors=True)
    delays = [shown[n] - committed[n] for n in range(len(committed)) if n in shown]
    if len(delays) < len(committed):
        print("shop lake printed:\n" + "\n".join(lake.lines[-40:]))
    report(f"freshness: order paid (commit) -> GET /v1/reports/trending, {args.rate:g} orders/s, trigger {args.trigger:g} s "
           f"(events query, then reports query)", {
               "orders placed": len(committed), "orders shown": len(delays),
               **({"p50 s": percentile(delays, 50), "p99 s": percentile(delays, 99), "max s": max(delays),
                   "min s": min(delays)} if delays else {})})


async def place_and_watch(base_url: str, token: str, items: list[str], args) -> tuple[list[float], dict[int, float]]:
    """Places the orders at the rate while polling the report; (commit time per order, time each count was shown)."""
    committed: list[float] = []
    shown: dict[int, float] = {}
    done = asyncio.Event()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        async def place() -> None:
            began = time.monotonic()
            for n in range(args.orders):
                await asyncio.sleep(max(0.0, began + n / args.rate - time.monotonic()))
                key = uuid.uuid4().hex
                for attempt in range(3):  # a keep-alive connection the server closed: the same key places it once
                    try:
                        answer = await http.post("/v1/orders", headers={**headers, "Idempotency-Key": key},
                                                 json={"pincode": PINCODE,
                                                       "lines": [{"item_id": items[n % len(items)], "quantity": 1}]})
                        break
                    except httpx.TransportError:
                        if attempt == 2:
                            raise
                answer.raise_for_status()
                # Bought is counted once paid (`order_placed`): the commit timed is the payment's.
                paid = await http.post(answer.json()["payment"]["pay_url"], json={"outcome": "succeeded"},
                                       headers=headers)
                paid.raise_for_status()
                committed.append(time.monotonic())

        async def watch() -> None:
            wanted, deadline = set(items), None
            while deadline is None or time.monotonic() < deadline:
                try:
                    answer = await http.get("/v1/reports/trending",
                                            params={"window": "30m", "kind": "bought", "limit": "100"})
                except httpx.TransportError:
                    continue
                seen = time.monotonic()
                count = sum(entry["count"] for entry in answer.json()["items"] if entry["item_id"] in wanted)
                for n in range(len(shown), min(count, args.orders)):
                    shown[n] = seen
                if len(shown) >= args.orders:
                    return
                if done.is_set() and deadline is None:
                    deadline = time.monotonic() + 180
                await asyncio.sleep(0.2)

        watcher = asyncio.create_task(watch())
        await place()
        done.set()
        await watcher
    return committed, shown


async def run(args) -> None:
    settings = get_settings()
    random.seed(7)
    if args.only in (None, "throughput"):
        await throughput(settings, args)
    if args.only in (None, "freshness"):
        await freshness(settings, args)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000, help="events read by each query in each round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--orders", type=int, default=240, help="orders placed for the freshness figures")
    parser.add_argument("--rate", type=float, default=2.0, help="orders per second")
    parser.add_argument("--trigger", type=float, default=5.0, help="shop lake's trigger interval, seconds")
    parser.add_argument("--only", choices=["throughput", "freshness"])
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
