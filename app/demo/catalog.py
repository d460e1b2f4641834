"""The catalog part of `shop demo`: a logistics network, a seller, a sample catalog through the feed, then searches."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from rich.console import Console
from rich.table import Table

from app.builder import open_stores
from app.demo.sample_catalog import grow, vendure_products
from inbound import commands as seller_commands
from infra.settings import Settings
from logistics import commands as logistics

DEMO_PINCODES = ("110001", "560001", "793001")  # Delhi, Bengaluru, Shillong (north-east: no bulky freight)
DEMO_SEARCHES = (
    {"q": "laptop"},
    {"q": "lapton"},  # a typo
    {"q": "sofa", "pincode": "560001"},
    {"q": "sofa", "pincode": "793001"},
    {"category": "Footwear", "attr.size": "Size 44", "sort": "price_asc"},
)


async def prepare_catalog(settings: Settings, base_url: str, count: int, console: Console) -> None:
    async with open_stores(settings) as stores:
        report = await logistics.load_file(None, stores.serviceability)
        console.print(*report.lines(), sep="\n")
        warehouses = [w["warehouse_id"] for w in await stores.serviceability.warehouses()]
        seller = await seller_commands.create_seller(stores.feed_store, "Demo Traders")
    records = list(grow(vendure_products(settings.stack_dir / "cache"), count, warehouses, seed=11))
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        feed = await post_feed(client, seller, records)
        console.print(f"feed {feed['feed_id']}: {feed['accepted']} accepted, {len(feed['rejected'])} rejected")
        await wait_applied(client, seller, feed, console)


async def post_feed(client: httpx.AsyncClient, seller: dict, records: list[dict]) -> dict:
    response = await client.post(f"/v1/sellers/{seller['seller_id']}/items",
                                 content="".join(json.dumps(r) + "\n" for r in records),
                                 headers={"X-Api-Key": seller["api_key"], "Content-Type": "application/x-ndjson"})
    response.raise_for_status()
    return response.json()


async def wait_applied(client: httpx.AsyncClient, seller: dict, feed: dict, console: Console, timeout: float = 120) -> None:
    began, url = time.monotonic(), f"/v1/sellers/{seller['seller_id']}/feeds/{feed['feed_id']}"
    while time.monotonic() - began < timeout:
        counts = (await client.get(url, headers={"X-Api-Key": seller["api_key"]}, params={"size": 1})).json()["counts"]
        if counts.get("applied", 0) + counts.get("dead_lettered", 0) >= feed["accepted"]:
            console.print(f"all {feed['accepted']} records applied to MongoDB in {time.monotonic() - began:.1f}s: {counts}")
            await asyncio.sleep(1.5)  # Elasticsearch makes new documents searchable within its 1 s refresh
            return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"feed not applied within {timeout:.0f}s")


async def show_searches(base_url: str, console: Console) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for params in DEMO_SEARCHES:
            page = (await client.get("/v1/search", params={**params, "size": 5})).json()
            console.print(search_table(params, page))


def search_table(params: dict, page: dict) -> Table:
    table = Table("title", "price", "category", "brand", "eta (h)",
                  title=f"GET /v1/search?{'&'.join(f'{k}={v}' for k, v in params.items())} -> {page.get('total')} items")
    for hit in page.get("items", []):
        table.add_row(hit["title"], f"{hit['price']['amount']} {hit['price']['currency']}", hit["category"],
                      hit.get("brand") or "", "" if hit.get("eta_hours") is None else f"{hit['eta_hours']:.0f}")
    facets = page.get("facets", {}).get("category", [])[:4]
    table.caption = "categories: " + ", ".join(f"{f['value']} ({f['count']})" for f in facets)
    return table
