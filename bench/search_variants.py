"""What a search costs Elasticsearch the first time it sees it, and what other forms of the same request would cost.

Every distinct search of the benchmark's mix (`bench.search_latency.query_mix`) is sent once per round, straight to
Elasticsearch, with its request cache off, 8 at a time; Elasticsearch's CPU per search is measured per variant of the
request, the variants alternating within each round, and the node query cache's hits and misses are counted. Variants:

- `as sent`: what the API sends (`search.query`).
- `pincode split`: the pincode's `terms` filter (~2.4 KB of slots) as several `terms` filters of under 512 bytes of
  terms each (same matches), small enough for the node query cache to be allowed to keep them.
- `in stock as must_not`: `must_not in_stock: false` instead of `filter in_stock: true` (same matches: every document
  has the flag), a sparse exclusion instead of a dense conjunction.
- `no pincode filter` and `no aggregations`: NOT the same answers; the bounds of what the pincode filter and the facets
  cost.

Needs the benchmark's own index (`python -m bench.search_latency` builds it). `python -m bench.search_variants [--rounds 4]`
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import statistics
from collections.abc import Callable

import aiohttp

from app.builder import open_stores
from bench.harness import cpu_spent, report, stack_pids
from bench.search_latency import BENCH_PREFIX, es_bodies, query_mix
from infra.settings import get_settings

CLIENTS = 8
TERMS_BYTES = 512


def as_sent(body: dict) -> dict:
    return body


def pincode_split(body: dict) -> dict:
    body = copy.deepcopy(body)
    filters = body["query"]["bool"]["filter"]
    for n, clause in enumerate(filters):
        slots = clause.get("terms", {}).get("delivery_slots")
        if slots:
            parts = [{"terms": {"delivery_slots": part}} for part in _parts(slots, TERMS_BYTES)]
            filters[n] = {"bool": {"should": parts, "minimum_should_match": 1}}
    return body


def in_stock_as_must_not(body: dict) -> dict:
    body = copy.deepcopy(body)
    query = body["query"]["bool"]
    if {"term": {"in_stock": True}} in query["filter"]:
        query["filter"].remove({"term": {"in_stock": True}})
        query["must_not"] = [{"term": {"in_stock": False}}]
    return body


def no_pincode_filter(body: dict) -> dict:
    body = copy.deepcopy(body)
    query = body["query"]["bool"]
    query["filter"] = [c for c in query["filter"] if "delivery_slots" not in c.get("terms", {}) and "match_none" not in c]
    return body


def no_aggregations(body: dict) -> dict:
    body = copy.deepcopy(body)
    body.pop("aggs", None)
    return body


VARIANTS: dict[str, Callable[[dict], dict]] = {
    "as sent": as_sent, "pincode split": pincode_split, "in stock as must_not": in_stock_as_must_not,
    "no pincode filter (other answers)": no_pincode_filter, "no aggregations (other answers)": no_aggregations}


def _parts(terms: list[str], limit: int) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    size = 0
    for term in terms:
        if parts[-1] and size + len(term) > limit:
            parts.append([])
            size = 0
        parts[-1].append(term)
        size += len(term)
    return parts


async def run(args) -> None:
    settings = get_settings().model_copy(update={"elasticsearch_index_prefix": BENCH_PREFIX})
    es_pid = stack_pids(settings)["elasticsearch"]
    distinct = [json.loads(q) for q in sorted({json.dumps(q, sort_keys=True) for q in query_mix(args.requests)})]
    async with open_stores(settings) as stores:
        alias = stores.search_index.alias
        bodies = [body for query in distinct for body in await es_bodies(stores.serviceability, query)]
    cpu: dict[str, list[float]] = {name: [] for name in VARIANTS}
    cache: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    async with aiohttp.ClientSession(settings.elasticsearch_url, raise_for_status=True) as http:
        async def send_all(requests: list[dict]) -> None:
            queue = list(requests)

            async def client() -> None:
                while queue:
                    body = queue.pop()
                    async with http.post(f"/{alias}/_search", json=body, params={"request_cache": "false"}) as answer:
                        await answer.read()

            await asyncio.gather(*(client() for _ in range(CLIENTS)))

        async def query_cache() -> dict:
            async with http.get(f"/{alias}/_stats/query_cache") as answer:
                return (await answer.json())["_all"]["primaries"]["query_cache"]

        for _ in range(args.rounds):
            for name, variant in VARIANTS.items():
                requests = [variant(body) for body in bodies]
                await send_all(requests[:100])  # warm-up
                before = await query_cache()
                with cpu_spent({"elasticsearch": es_pid}) as spent:
                    await send_all(requests)
                after = await query_cache()
                cpu[name].append(1000 * spent["elasticsearch"] / len(distinct))
                cache[name].append({k: after[k] - before[k] for k in ("hit_count", "miss_count", "cache_count")})
    baseline = statistics.median(cpu["as sent"])
    for name in VARIANTS:
        median = statistics.median(cpu[name])
        report(f"{name}: {len(distinct)} distinct searches ({len(bodies)} requests), median of {args.rounds} rounds", {
            "Elasticsearch CPU ms per search": median, "ratio to as sent": median / baseline,
            "rounds (ms per search)": " / ".join(f"{ms:.2f}" for ms in cpu[name]),
            "query cache hits / misses / cached per round": " ; ".join(
                f"{c['hit_count']} / {c['miss_count']} / {c['cache_count']}" for c in cache[name])})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000, help="the mix's size, as bench.search_latency's")
    parser.add_argument("--rounds", type=int, default=4)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
