"""The recommendations part of `shop demo`: a crowd of shoppers, each keen on a category or two of the sample catalog,
carts, wishes for and orders items through the API; once the lake has their events, a model is trained on them
(`shop recommend train`), and one shopper's recommendations and one item's similar items are shown with their
reasons."""

from __future__ import annotations

import random
import uuid

import httpx
from rich.console import Console
from rich.table import Table

from infra.settings import Settings

PINCODE = "560001"


async def shop_around(base_url: str, console: Console, shoppers: int = 24, seed: int = 3) -> list[dict]:
    """The crowd's shopping through the API; returns each shopper's headers."""
    chance = random.Random(seed)
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        facets = (await client.get("/v1/search", params={"size": 1})).json()
        categories = [value["value"] for value in facets.get("facets", {}).get("category", [])][:6]
        shelves = {category: [hit["item_id"] for hit in (await client.get(
            "/v1/search", params={"category": category, "size": 12, "pincode": PINCODE})).json()["items"]]
            for category in categories}
        shelves = {category: items for category, items in shelves.items() if len(items) >= 4}
        crowd = []
        for n in range(shoppers):
            email = f"demo-crowd-{uuid.uuid4().hex[:8]}@example.com"
            (await client.post("/v1/users", json={"email": email, "name": f"Crowd {n}", "password": "demo-password-1",
                                                  "default_pincode": PINCODE})).raise_for_status()
            token = (await client.post("/v1/auth/token", data={"username": email,
                                                                "password": "demo-password-1"})).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            crowd.append(headers)
            favourite = list(shelves)[n % len(shelves)]
            # Everyone keen on a category takes the first items of its shelf often, the rest now and then.
            liked = shelves[favourite][:3] + chance.sample(shelves[favourite][3:], 2)
            for item_id in liked[:4]:
                await client.put(f"/v1/cart/items/{item_id}", json={"quantity": 1}, headers=headers)
            await client.put(f"/v1/wishlist/items/{liked[4]}", headers=headers)
            await client.post("/v1/orders", json={"pincode": PINCODE, "lines": [{"item_id": liked[0], "quantity": 1}]},
                              headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
        console.print(f"recommendations: {shoppers} shoppers carted, wished for and ordered items of "
                      f"{', '.join(shelves)}")
        return crowd


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
