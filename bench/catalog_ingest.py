"""Catalog ingest: items/s from the seller feed until every item is in MongoDB and searchable, against a bare loader.

    .venv/bin/python -m bench.catalog_ingest [--count 100000] [--rate 1000 --seconds 20] [--workers 1]

Needs the local stack (`./shop stack up`); starts its own API server and worker. Prints the pipeline's items/s, the bare
loader's (aiokafka consumer + insert_many + Elasticsearch bulk, no validation) over the same records in the same run, the
ratio, and the feed-acceptance-to-searchable latency at a steady rate. Both runs also print the CPU each process spent
per item and the items/s this machine's cores could sustain at that cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid

import httpx

from app.builder import open_stores
from app.demo.sample_catalog import grow, vendure_products
from bench.bare_loader import run_bare_loader
from bench.harness import api_and_worker, cpu_figures, cpu_spent, create_seller, report, stack_pids, summary
from infra.settings import get_settings

PIPELINE_ENGINES = ("kafka", "elasticsearch", "mongodb", "mysql", "redis")
BARE_ENGINES = ("kafka", "elasticsearch", "mongodb")


async def stored_counts(client: httpx.AsyncClient, seller: dict, feed_id: str, es, alias: str) -> tuple[int, int]:
    """(records applied to MongoDB per the feed status, documents searchable in Elasticsearch).

    The feed status is used for MongoDB because a count query makes FerretDB scan the whole collection."""
    status = (await client.get(f"/v1/sellers/{seller['seller_id']}/feeds/{feed_id}", params={"size": 1},
                               headers={"X-Api-Key": seller["api_key"]})).json()
    await es.indices.refresh(index=alias)
    in_search = (await es.count(index=alias, body={"query": {"term": {"seller_id": seller["seller_id"]}}}))["count"]
    return status["counts"].get("applied", 0), in_search


async def pipeline_run(settings, base_url: str, records: list[dict]) -> dict:
    seller = create_seller(f"bench-{uuid.uuid4().hex[:6]}")
    body = "".join(json.dumps(record) + "\n" for record in records).encode()
    headers = {"X-Api-Key": seller["api_key"], "Content-Type": "application/x-ndjson"}
    async with open_stores(settings) as stores, httpx.AsyncClient(base_url=base_url, timeout=600) as client:
        started = time.monotonic()
        response = await client.post(f"/v1/sellers/{seller['seller_id']}/items", content=body, headers=headers)
        accepted = time.monotonic() - started
        assert response.status_code == 202 and response.json()["accepted"] == len(records), response.text[:500]
        feed_id = response.json()["feed_id"]
        es, alias = stores.elasticsearch, stores.search_index.alias
        while await stored_counts(client, seller, feed_id, es, alias) != (len(records),) * 2:
            await asyncio.sleep(0.5)
        elapsed = time.monotonic() - started
    return {"seconds": elapsed, "accepted_seconds": accepted, "items_per_s": len(records) / elapsed}


async def steady_latency(settings, base_url: str, records: list[dict], rate: int, seconds: int) -> dict:
    """Publish `rate` items/s in tenth-of-a-second feeds; a feed's latency is acceptance until all its items are searchable."""
    seller = create_seller(f"bench-{uuid.uuid4().hex[:6]}")
    per_tick, accepted_at, visible_at = rate // 10, {}, {}
    headers = {"X-Api-Key": seller["api_key"], "Content-Type": "application/x-ndjson"}
    async with open_stores(settings) as stores, httpx.AsyncClient(timeout=30) as client:
        es, alias = stores.elasticsearch, stores.search_index.alias
        poller = asyncio.create_task(poll_visible(es, alias, seller["seller_id"], per_tick, accepted_at, visible_at))
        for tick in range(seconds * 10):
            tick_started = time.monotonic()
            chunk = [{**r, "sku": f"{r['sku']}-s{tick}", "attributes": {**r["attributes"], "bench_batch": f"b{tick}"}}
                     for r in records[tick * per_tick:(tick + 1) * per_tick]]
            await client.post(f"{base_url}/v1/sellers/{seller['seller_id']}/items", headers=headers,
                              content="".join(json.dumps(r) + "\n" for r in chunk).encode())
            accepted_at[f"b{tick}"] = time.monotonic()
            await asyncio.sleep(max(0.0, 0.1 - (time.monotonic() - tick_started)))
        deadline = time.monotonic() + 60
        while len(visible_at) < len(accepted_at) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        poller.cancel()
    latencies = [visible_at[b] - accepted_at[b] for b in accepted_at if b in visible_at]
    return {"feeds": len(accepted_at), "feeds_never_visible": len(accepted_at) - len(latencies), **summary(latencies)}


async def poll_visible(es, alias, seller_id, per_tick, accepted_at, visible_at) -> None:
    while True:
        found = await es.search(index=alias, body={"size": 0, "query": {"term": {"seller_id": seller_id}},
                                "aggs": {"b": {"terms": {"field": "attributes.bench_batch", "size": 10_000}}}})
        now = time.monotonic()
        for bucket in found["aggregations"]["b"]["buckets"]:
            if bucket["doc_count"] >= per_tick and bucket["key"] in accepted_at and bucket["key"] not in visible_at:
                visible_at[bucket["key"]] = now
        await asyncio.sleep(0.05)


async def warehouses(settings) -> list[str]:
    async with open_stores(settings) as stores:
        found = [w["warehouse_id"] for w in await stores.serviceability.warehouses()]
    return found or [f"WH-{n:02d}" for n in range(12)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="`shop worker` processes (they share the partitions)")
    args = parser.parse_args()
    settings = get_settings()
    # The steady phase needs rate x seconds records of its own, however few the pipeline run takes.
    grown = list(grow(vendure_products(settings.stack_dir / "cache"), max(args.count, args.rate * args.seconds),
                      asyncio.run(warehouses(settings))))
    records = grown[:args.count]
    stack = {name: pid for name, pid in stack_pids(settings).items() if name in PIPELINE_ENGINES}
    with api_and_worker(settings, args.workers) as (base_url, pids):
        with cpu_spent({**pids, **stack, "benchmark client": os.getpid()}) as spent:
            pipeline = asyncio.run(pipeline_run(settings, base_url, records))
        pipeline.update(cpu_figures(spent, args.count, "item", pipeline["seconds"]))
        latency = asyncio.run(steady_latency(settings, base_url, grown, args.rate, args.seconds))
    bare_engines = {name: pid for name, pid in stack.items() if name in BARE_ENGINES}
    with cpu_spent({**bare_engines, "bare loader": os.getpid()}) as spent:
        bare = asyncio.run(run_bare_loader(settings, records))
    bare.update(cpu_figures(spent, args.count, "item", bare["seconds"]))
    report(f"pipeline: feed -> Kafka -> MongoDB + Elasticsearch ({args.count:,} items, {args.workers} worker(s))",
           pipeline)
    report("bare loader: aiokafka + insert_many + ES bulk, no validation (same records)", bare)
    report("ratio", {"pipeline / bare items/s": pipeline["items_per_s"] / bare["items_per_s"]})
    report(f"feed acceptance -> searchable at {args.rate} items/s for {args.seconds}s (seconds)", latency)


if __name__ == "__main__":
    main()
