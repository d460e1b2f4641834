"""Search latency: p50/p99 at 50 concurrent clients through `GET /v1/search` (facets, pincode filter), and the same
Elasticsearch requests sent straight to Elasticsearch in the same run.

    .venv/bin/python -m bench.search_latency [--items 100000] [--requests 3000] [--clients 50] [--workers 1] [--rounds 3]
                                             [--profile]

Needs the local stack with the logistics network loaded (`shop logistics load`). It searches an item index of its own
(alias `bench-search-items`) holding exactly `--items` items, written by the indexer's own bulk path from feed records
the feed's validation accepted, so the figures do not depend on how large the stack's catalog has grown; the API it
measures is a `shop serve` pointed at that alias. `--profile` then runs the API once more with py-spy sampling it
(its CPU by part) and sends the benchmark's Elasticsearch requests again with Elasticsearch's profile API (its time by
clause and aggregation).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from datetime import UTC, datetime
from itertools import islice
from statistics import median

import aiohttp

from app.bootstrap import create_search_index
from app.builder import open_stores
from app.demo.sample_catalog import grow, vendure_products
from bench.es_profile import per_search_ms
from bench.harness import api_server, cpu_figures, cpu_spent, report, stack_pids, summary
from bench.profile import SEARCH_PARTS, sampled, shares, top_functions
from inbound.service import FeedContext, judge
from infra.settings import get_settings
from search.query import SearchParams, attribute_names_search, build_search
from search.store import SEARCH_OPTIONS

WORDS = ("laptop", "shoe", "camera", "sofa", "lamp", "tablet", "running", "wireless", "cotton", "plant", "lptop", "camra")
CATEGORIES = ("Computers", "Footwear", "Photo", "Furniture", "Plants", "Electronics")
PINCODES = ("110001", "400001", "560001", "600001", "700001", "500001", "380001", "793001")
BENCH_PREFIX = "bench-search"  # the bench's own item index: `<prefix>-items`
FILL_CHUNK = 2000


def query_mix(n: int, seed: int = 3) -> list[dict]:
    rng, queries = random.Random(seed), []
    for _ in range(n):
        query = {"q": rng.choice(WORDS), "pincode": rng.choice(PINCODES), "size": 20}
        if rng.random() < 0.5:
            query["category"] = rng.choice(CATEGORIES)
        if rng.random() < 0.3:
            query["sort"] = rng.choice(("price_asc", "price_desc", "newest"))
        queries.append(query)
    return queries


async def es_bodies(serviceability, query: dict) -> list[dict]:
    """The requests the API sends to Elasticsearch for `query` (an attribute-name lookup first when a category is set)."""
    deliverable = await serviceability.deliverable_from(query["pincode"])
    params = SearchParams(q=query["q"], categories=[query["category"]] if "category" in query else [],
                          pincode=query["pincode"], sort=query.get("sort", "relevance"), size=query["size"])
    bodies = [attribute_names_search(params, deliverable)] if params.categories else []
    return [*bodies, build_search(params, deliverable, [])]


async def timed_run(send, requests: list, clients: int) -> tuple[list[float], float]:
    latencies, queue = [], list(reversed(requests))

    async def client() -> None:
        while queue:
            request = queue.pop()
            began = time.perf_counter()
            await send(request)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, time.perf_counter() - began


def http_client(base_url: str, clients: int) -> aiohttp.ClientSession:
    """aiohttp: it spends a fraction of httpx's CPU per request, which on a small machine the servers need."""
    return aiohttp.ClientSession(base_url, connector=aiohttp.TCPConnector(limit=clients),
                                 timeout=aiohttp.ClientTimeout(total=30), raise_for_status=True)


async def measured_run(send, queries: list[dict], clients: int, pids: dict[str, int]) -> dict:
    """A warm-up, then the timed run: latency in ms, searches/s, and each process's CPU per search. Each starts with
    Elasticsearch's request cache emptied, so no run reuses answers an earlier run left there."""
    settings = get_settings()
    async with (aiohttp.ClientSession(settings.elasticsearch_url) as es,
                es.post("/_cache/clear", params={"request": "true"}) as cleared):
        cleared.raise_for_status()
    await timed_run(send, queries[:200], clients)
    with cpu_spent(pids) as spent:
        latencies, seconds = await timed_run(send, queries, clients)
    return {**{k: v * 1000 if k != "n" else v for k, v in summary(latencies).items()},
            "requests_per_s": len(queries) / seconds, **cpu_figures(spent, len(queries), "search", seconds, "searches")}


async def through_api(base_url: str, queries: list[dict], clients: int, pids: dict[str, int]) -> dict:
    async with http_client(base_url, clients) as http:
        async def send(query: dict) -> None:
            async with http.get("/v1/search", params=query) as response:
                await response.read()

        return await measured_run(send, queries, clients, pids)


async def straight_to_es(settings, queries: list[dict], clients: int, pids: dict[str, int]) -> dict:
    bodies = {}
    direct_options = {key: str(value).lower() for key, value in SEARCH_OPTIONS.items()}  # what the API asks too
    async with open_stores(settings) as stores:
        alias = stores.search_index.alias
        for query in {json.dumps(q, sort_keys=True) for q in queries}:
            bodies[query] = await es_bodies(stores.serviceability, json.loads(query))
    async with http_client(settings.elasticsearch_url, clients) as http:
        async def send(query: dict) -> None:
            for body in bodies[json.dumps(query, sort_keys=True)]:
                async with http.post(f"/{alias}/_search", json=body, params=direct_options) as response:
                    await response.read()

        return await measured_run(send, queries, clients, pids)


async def es_profiles(settings, queries: list[dict]) -> list[dict]:
    """The profile Elasticsearch gives of each of the queries' requests (`"profile": true`), one request at a time."""
    profiles = []
    async with open_stores(settings) as stores:
        alias = stores.search_index.alias
        for query in queries:
            for body in await es_bodies(stores.serviceability, query):
                answer = await stores.elasticsearch.search(index=alias, body={**body, "profile": True})
                profiles.append(answer["profile"])
    return profiles


async def searchable_items(es, alias: str) -> int:
    if not await es.indices.exists_alias(name=alias):
        return -1
    body = {"query": {"bool": {"must_not": {"term": {"deleted": True}}}}}
    return (await es.count(index=alias, body=body))["count"]


async def dedicated_index(settings, count: int) -> int:
    """The bench's own item index with exactly `count` items; rebuilt only when it holds another number."""
    async with open_stores(settings) as stores:
        es, index = stores.elasticsearch, stores.search_index  # the index behind the bench's alias (settings' prefix)
        if await searchable_items(es, index.alias) == count:
            return count
        await es.indices.delete(index=f"{index.alias}-*", ignore=404)
        await create_search_index(settings)
        warehouses = [w["warehouse_id"] for w in await stores.serviceability.warehouses()]
        feed = FeedContext(feed_id="bench-search", seller_id="bench-search-seller", received_at=datetime.now(UTC))
        rows = grow(vendure_products(settings.stack_dir / "cache"), count, warehouses, seed=5)
        for start in range(0, count, FILL_CHUNK):
            records = [judge(start + n, row, feed, default_version=1) for n, row in enumerate(islice(rows, FILL_CHUNK))]
            if refused := await index.apply_records(records):  # a RejectedRecord has no item_id: fails here too
                raise RuntimeError(f"the index refused bench records: {list(refused.values())[:3]}")
        await es.indices.refresh(index=index.alias)
        return await searchable_items(es, index.alias)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of the API")
    parser.add_argument("--rounds", type=int, default=3, help="API then direct, this many times; medians reported")
    parser.add_argument("--profile", action="store_true",
                        help="then profile the API (py-spy) and Elasticsearch (its profile API) on the same queries")
    args = parser.parse_args()
    settings = get_settings().model_copy(update={"elasticsearch_index_prefix": BENCH_PREFIX})
    queries = query_mix(args.requests)
    indexed = asyncio.run(dedicated_index(settings, args.items))
    stack = {name: pid for name, pid in stack_pids(settings).items() if name in ("elasticsearch", "redis", "kafka")}
    client = {"bench client": os.getpid()}
    rounds = []
    with api_server(settings, env={"SHOP_ELASTICSEARCH_INDEX_PREFIX": BENCH_PREFIX}, workers=args.workers) as (base_url, pid):
        for _ in range(args.rounds):  # alternating, so a noisy neighbour's burst lands on both sides alike
            api = asyncio.run(through_api(base_url, queries, args.clients, {"API server": pid, **stack, **client}))
            direct = asyncio.run(straight_to_es(settings, queries, args.clients,
                                                {"elasticsearch": stack["elasticsearch"], **client}))
            rounds.append((api, direct))
        if args.profile:  # a run of its own: sampling costs the sampled process a little, so no figure below has it
            with sampled(pid, "search.txt") as profile:
                asyncio.run(through_api(base_url, queries, args.clients, {"API server": pid, **stack, **client}))
            stacks = profile.read()
            report(f"profile: the API's CPU by part ({profile.path})", shares(stacks, SEARCH_PARTS))
            report("profile: the API's top functions (self)", top_functions(stacks))
    if args.profile:
        sample = queries[:300]
        report(f"profile: Elasticsearch ms per search by part ({len(sample)} searches, profile API)",
               per_search_ms(asyncio.run(es_profiles(settings, sample)), len(sample)))
    for n, (api, direct) in enumerate(rounds, 1):
        report(f"round {n}: GET /v1/search, {args.clients} clients, {indexed:,} searchable items (ms)", api)
        report(f"round {n}: the same Elasticsearch requests sent directly (ms)", direct)
    report(f"medians of {args.rounds} rounds (ms)", {
        "API p50": median(a["p50"] for a, _ in rounds), "API p99": median(a["p99"] for a, _ in rounds),
        "direct p50": median(d["p50"] for _, d in rounds), "direct p99": median(d["p99"] for _, d in rounds),
        "ratio API / direct p50": median(a["p50"] / d["p50"] for a, d in rounds),
        "ratio API / direct p99": median(a["p99"] / d["p99"] for a, d in rounds),
        "API searches/s": median(a["requests_per_s"] for a, _ in rounds),
        "direct searches/s": median(d["requests_per_s"] for _, d in rounds)})
    # Little's law: clients always waiting keep `clients` searches in flight, so mean latency = clients / rate.
    report("what the aim needs", {"searches/s for a mean of 50 ms": args.clients / 0.050})
    distinct = len({json.dumps(q, sort_keys=True) for q in queries})
    report("the query mix", {"searches per run": len(queries), "distinct searches": distinct,
                             "share of searches that repeat an earlier one (%)": 100 * (1 - distinct / len(queries))})


if __name__ == "__main__":
    main()
