"""The checkout part of `shop demo`: a shopper orders three times; one payment succeeds (and the order ships and is
delivered), one fails, one never answers and times out. Prints each order's final state. Then the finished orders move
to the archive, and the shopper's orders view shows them with a new, live one."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import httpx
from rich.console import Console
from rich.table import Table

from infra.settings import Settings

PINCODE = "560001"


async def show_checkout(settings: Settings, base_url: str, console: Console, window_seconds: int) -> dict:
    """Returns the shopper's headers (their token), for the archive part."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        shopper = await sign_up(client)
        items = await stocked_items(client, 3)
        outcomes = ("succeeded", "failed", "never")
        orders = []
        for (item_id, title), outcome in zip(items, outcomes):
            order = await place(client, shopper, item_id)
            console.print(f"order {order['order_id'][:8]} for {title!r}: {order['status']}, pay by {order['expires_at']}")
            await client.post(order["payment"]["pay_url"], json={"outcome": outcome}, headers=shopper)
            orders.append((order, outcome))
        admin = {"X-Admin-Key": settings.admin_key.get_secret_value()} if settings.admin_key else {}
        paid = orders[0][0]["order_id"]
        for step in ("ship", "deliver"):
            await client.post(f"/v1/orders/{paid}/{step}", headers=admin)
        console.print(f"waiting up to {window_seconds + 10}s for the unanswered payment's window to close...")
        final = await until_settled(client, shopper, [o["order_id"] for o, _ in orders], window_seconds + 10)
        console.print(orders_table(orders, final))
        return shopper


async def sign_up(client: httpx.AsyncClient) -> dict:
    email, password = f"demo-{uuid.uuid4().hex[:8]}@example.com", "demo-password-1"
    (await client.post("/v1/users", json={"email": email, "name": "Demo Shopper", "password": password,
                                          "default_pincode": PINCODE})).raise_for_status()
    token = (await client.post("/v1/auth/token", data={"username": email, "password": password})).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


async def stocked_items(client: httpx.AsyncClient, count: int, timeout: float = 60) -> list[tuple[str, str]]:
    """Searchable items deliverable to the pincode whose stock the inventory has taken in from the feed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hits = (await client.get("/v1/search", params={"pincode": PINCODE, "size": 30})).json()["items"]
        ready = [(h["item_id"], h["title"]) for h in hits
                 if (await client.get(f"/v1/inventory/{h['item_id']}")).json().get("total_available", 0) > 0]
        if len(ready) >= count:
            return ready[:count]
        await asyncio.sleep(1)
    raise RuntimeError("the inventory did not take in the feed's stock in time")


async def place(client: httpx.AsyncClient, shopper: dict, item_id: str) -> dict:
    response = await client.post("/v1/orders", json={"pincode": PINCODE, "lines": [{"item_id": item_id, "quantity": 1}]},
                                 headers={**shopper, "Idempotency-Key": uuid.uuid4().hex})
    response.raise_for_status()
    return response.json()


async def until_settled(client: httpx.AsyncClient, shopper: dict, order_ids: list[str], timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        final = [(await client.get(f"/v1/orders/{order_id}", headers=shopper)).json() for order_id in order_ids]
        if all(o["status"] != "CREATED" for o in final) or time.monotonic() > deadline:
            return final
        await asyncio.sleep(1)


def orders_table(orders: list[tuple[dict, str]], final: list[dict]) -> Table:
    table = Table("order", "item", "total", "payment", "final status", "reason", title="Orders and their payments")
    for (placed, outcome), order in zip(orders, final):
        table.add_row(order["order_id"][:8], order["lines"][0]["title"], order["total"]["amount"], outcome,
                      order["status"], order.get("cancel_reason") or "")
    return table


async def show_archive(settings: Settings, base_url: str, console: Console, shopper: dict) -> None:
    """One more order (paid: live), then `shop archive` over every finished order, then the shopper's orders view:
    live and archived together, newest first, and where each one is read from."""
    from app.builder import open_stores
    from archival.schedule import archive_once

    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        (item_id, _), = await stocked_items(client, 1)
        live = await place(client, shopper, item_id)
        await client.post(live["payment"]["pay_url"], json={"outcome": "succeeded"}, headers=shopper)
        async with open_stores(settings) as stores:
            summary = await archive_once(stores.mysql, stores.archiver, timedelta(0))
        console.print(f"archive: {summary.line() if summary else 'another archiver is running'}")
        view = (await client.get("/v1/orders", params={"size": 10}, headers=shopper)).json()["orders"]
        table = Table("order", "created", "status", "timeline", "read from", title="The shopper's orders (GET /v1/orders)")
        for order in view:
            archived = (await client.get(f"/v1/history/orders/{order['order_id']}", headers=shopper)).status_code == 200
            table.add_row(order["order_id"][:8], order["created_at"][:19], order["status"],
                          " > ".join(step["status"] for step in order["timeline"]),
                          "Cassandra archive" if archived else "MySQL (live)")
        console.print(table)


async def show_trending(base_url: str, console: Console, timeout: float = 180) -> None:
    """What the lake's streaming reports made of the demo's orders: the most bought items of the last hour."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        deadline = time.monotonic() + timeout
        report: dict = {}
        while time.monotonic() < deadline:
            report = (await client.get("/v1/reports/trending", params={"window": "1h", "kind": "bought"})).json()
            if report.get("items"):
                break
            await asyncio.sleep(3)
        table = Table("item", "title", "category", "units", title=f"Trending: bought in the last hour (as of "
                      f"{report.get('as_of') or 'no report yet'})")
        for item in report.get("items", []):
            table.add_row(item["item_id"][:8], item["title"] or "", item["category"] or "", str(item["count"]))
        console.print(table if report.get("items") else "[yellow]the lake's reports have not caught up yet; see "
                      ".stack/logs/demo-lake.log[/]")
