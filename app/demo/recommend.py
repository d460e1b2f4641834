"""The recommendations part of `shop demo`: a crowd of shoppers, each keen on a category or two of the sample catalog,
carts, wishes for and orders items through the API; once the lake has their events, a model is trained on them
(`shop recommend train`), and one shopper's recommendations and one item's similar items are shown with their
reasons."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter

import httpx
from rich.console import Console
from rich.table import Table

from infra.settings import Settings

PINCODE = "560001"


async def sign_up_crowd(settings: Settings, shoppers: int) -> list[dict]:
    """The crowd's accounts and tokens, made in the stores (as many sign-ups from one address in a minute would be
    refused by the API's throttle, rightly)."""
    from datetime import UTC, datetime

    from app.builder import open_stores
    from identity.service import hash_password, issue_token

    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else ""
    password = hash_password("demo-password-1")
    async with open_stores(settings) as stores:
        made = [await stores.users.create(email=f"demo-crowd-{uuid.uuid4().hex[:8]}@example.com", name=f"Crowd {n}",
                                          password_hash=password, default_pincode=PINCODE) for n in range(shoppers)]
    return [{"Authorization": f"Bearer {issue_token(m['user_id'], secret=secret, minutes=60, now=datetime.now(UTC))}"}
            for m in made]


async def shop_around(settings: Settings, base_url: str, console: Console, shoppers: int = 24, seed: int = 3
                      ) -> tuple[list[dict], list[str]]:
    """The crowd's shopping through the API; returns each shopper's headers, and the items their paid orders bought."""
    chance = random.Random(seed)
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        facets = (await client.get("/v1/search", params={"size": 1, "pincode": PINCODE})).json()
        categories = [value["value"] for value in facets.get("facets", {}).get("category", [])][:6]
        shelves = {category: [hit["item_id"] for hit in (await client.get(
            "/v1/search", params={"category": category, "size": 12, "pincode": PINCODE})).json()["items"]]
            for category in categories}
        shelves = {category: items for category, items in shelves.items() if len(items) >= 5}
        if not shelves:
            raise RuntimeError(f"no category has five items deliverable to {PINCODE} to shop from")
        crowd = await sign_up_crowd(settings, shoppers)
        bought: list[str] = []
        for n, headers in enumerate(crowd):
            favourite = list(shelves)[n % len(shelves)]
            # Everyone keen on a category takes the first items of its shelf often, the rest now and then.
            liked = shelves[favourite][:3] + chance.sample(shelves[favourite][3:], 2)
            for item_id in liked[:4]:
                await client.put(f"/v1/cart/items/{item_id}", json={"quantity": 1}, headers=headers)
            await client.put(f"/v1/wishlist/items/{liked[4]}", headers=headers)
            order = await client.post("/v1/orders", json={"pincode": PINCODE,
                                                          "lines": [{"item_id": liked[0], "quantity": 1}]},
                                      headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
            if order.status_code == 201:  # paid at once: an order counts as bought once paid
                paid = await client.post(order.json()["payment"]["pay_url"], json={"outcome": "succeeded"},
                                         headers=headers)
                if paid.status_code == 200:
                    bought.append(liked[0])
        console.print(f"recommendations: {shoppers} shoppers carted, wished for and ordered items of "
                      f"{', '.join(shelves)}")
        return crowd, bought


async def wait_for_lake(base_url: str, bought: list[str], console: Console, timeout: float = 240) -> None:
    """Until the trending report counts the crowd's orders: the lake's reports read its tables, so by then the lake
    holds the crowd's events (their carts and wishes went through the same micro-batches or earlier ones)."""
    wanted = Counter(bought)
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        while time.monotonic() < deadline:
            report = (await client.get("/v1/reports/trending", params={"window": "30m", "kind": "bought",
                                                                       "limit": 100})).json()
            counted = {entry["item_id"]: entry["count"] for entry in report.get("items", [])}
            if all(counted.get(item, 0) >= units for item, units in wanted.items()):
                return
            await asyncio.sleep(3)
    console.print("[yellow]the lake has not taken in all of the crowd's orders yet; training on what it has[/]")


def train(settings: Settings, console: Console) -> int:
    from app.builder import lake_config
    from recommendations.commands import train as train_model

    return train_model(settings, lake_config(settings), console.print)


async def show_recommendations(base_url: str, console: Console, shopper: dict) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        answer = await client.get("/v1/recommendations", params={"limit": 6}, headers=shopper)
        if answer.status_code != 200:
            console.print(f"[yellow]recommendations: {answer.status_code} {answer.text[:200]}[/]")
            return
        body = answer.json()
        table = Table("item", "title", "category", "why", title=f"Recommended for a crowd shopper (model "
                      f"{body['model_version']}, {body['source']})")
        for entry in body["items"]:
            table.add_row(entry["item_id"][:8], entry["title"] or "", entry["category"] or "", entry["reason"])
        console.print(table)
        if not body["items"]:
            return
        first = body["items"][0]
        similar = (await client.get(f"/v1/items/{first['item_id']}/similar", params={"limit": 5})).json()
        table = Table("item", "title", "category", "why", title=f"Similar to {first['title']!r}")
        for entry in similar.get("items", []):
            table.add_row(entry["item_id"][:8], entry["title"] or "", entry["category"] or "", entry["reason"])
        console.print(table)
