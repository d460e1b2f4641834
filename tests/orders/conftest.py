"""Builders for the order tests: the app served in-process over HTTP, shoppers with tokens, sellable items stocked in a
warehouse that delivers to the test pincode, and signed gateway answers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text

from app.api import create_app
from identity.service import hash_password, issue_token
from inbound.events import ItemRecord
from infra import connections
from inventory.store import StockStore
from item_service.service import upserted
from logistics.commands import load_file
from logistics.store import ServiceabilityStore
from orders.payments import SimulatedGateway

PINCODE = "560001"  # Bengaluru: several warehouses of the sample network deliver here
PASSWORD_HASH = hash_password("not used by these tests")


@dataclass(frozen=True)
class Buyer:
    user_id: str
    headers: dict[str, str]


@dataclass
class Shop:
    """Handles on the real stores behind the API, for arranging and checking what the API did."""

    http: httpx.AsyncClient
    app: object
    settings: object

    @property
    def state(self):
        return self.app.state.stores

    async def buyer(self) -> Buyer:
        profile = await self.state.users.create(email=f"b-{uuid.uuid4().hex}@example.com", name="Buyer",
                                                password_hash=PASSWORD_HASH, default_pincode=PINCODE)
        token = issue_token(profile["user_id"], secret=self.settings.jwt_secret.get_secret_value(), minutes=30,
                            now=datetime.now(UTC))
        return Buyer(profile["user_id"], {"Authorization": f"Bearer {token}"})

    async def sellable_item(self, units: int, *, price: str = "250.00", size_class: str = "small",
                            category: str = "kitchen", searchable: bool = False,
                            seller_id: str | None = None) -> tuple[str, str]:
        """(item_id, warehouse_id): a live item with `units` on hand in the fastest warehouse for PINCODE
        (and, when `searchable`, indexed for search as the search consumer would index it)."""
        item_id = uuid.uuid4().hex
        etas = (await self.state.serviceability.deliverable_from(PINCODE))[size_class]
        warehouse_id = min(etas, key=etas.get)
        record = ItemRecord(item_id=item_id, seller_id=seller_id or f"seller-{item_id[:6]}", sku=f"sku-{item_id}", op="upsert",
                            version=1, feed_id="orders-test", index=0, received_at="2026-01-01T00:00:00Z",
                            fields={"title": f"Kettle {item_id[:6]}", "category": category, "price": price,
                                    "currency": "INR", "size_class": size_class, "attributes": {},
                                    "stock": [{"warehouse_id": warehouse_id, "quantity": units}]})
        await self.state.item_store.write_newer([upserted(None, record, "2026-01-01T00:00:00Z")])
        if searchable:
            await self.state.search_index.apply_records([record])
        await StockStore(self.state.mysql).set_levels(item_id, {warehouse_id: units})
        return item_id, warehouse_id

    async def stock(self, item_id: str) -> dict[str, int]:
        return await StockStore(self.state.mysql).levels(item_id)

    async def order(self, buyer: Buyer, lines: list[tuple[str, int]], *, key: str | None = None,
                    pincode: str = PINCODE) -> httpx.Response:
        body = {"pincode": pincode, "lines": [{"item_id": i, "quantity": q} for i, q in lines]}
        return await self.http.post("/v1/orders", json=body,
                                    headers={**buyer.headers, "Idempotency-Key": key or uuid.uuid4().hex})

    async def order_cart(self, buyer: Buyer, *, key: str | None = None) -> httpx.Response:
        return await self.http.post("/v1/orders", json={"pincode": PINCODE, "from_cart": True},
                                    headers={**buyer.headers, "Idempotency-Key": key or uuid.uuid4().hex})

    async def pay(self, order: dict, outcome: str, *, event_id: str | None = None,
                  secret: str | None = None) -> httpx.Response:
        """The gateway's signed webhook for `order` (signed with another secret when `secret` is given)."""
        gateway = SimulatedGateway(secret or self.settings.payment_webhook_secret.get_secret_value())
        body, signature = gateway.answer(order["order_id"], order["payment"]["payment_id"], outcome,
                                         order["total"]["amount"], event_id)
        return await self.http.post("/v1/payments/webhook", content=body,
                                    headers={"X-Signature": signature, "content-type": "application/json"})

    async def status(self, buyer: Buyer, order_id: str) -> dict:
        return (await self.http.get(f"/v1/orders/{order_id}", headers=buyer.headers)).json()

    def operator(self) -> dict[str, str]:
        return {"X-Admin-Key": self.settings.admin_key.get_secret_value()}

    async def picture(self, item_id: str) -> list[dict]:
        """The item's warehouses as `GET /v1/inventory/{item_id}` shows them."""
        response = await self.http.get(f"/v1/inventory/{item_id}")
        assert response.status_code == 200, response.text
        return response.json()["warehouses"]

    async def timed_out(self, buyer: Buyer, *, stocked: int, ordered: int) -> tuple[dict, str, str]:
        """(order, item_id, warehouse_id): an order of `ordered` units (of `stocked`) whose payment window closed
        unpaid, cancelled with `payment_timeout` (here, or by a worker's sweeper running on the shared stack)."""
        self.state.checkout.window_seconds = 1
        item_id, warehouse_id = await self.sellable_item(stocked)
        order = (await self.order(buyer, [(item_id, ordered)])).json()
        await asyncio.sleep(1.2)
        await self.state.checkout.expire_due(100, [order["order_id"]])
        cancelled = await self.status(buyer, order["order_id"])
        for _ in range(50):  # a worker's sweeper holding the row (SKIP LOCKED skipped it here) cancels it instead
            if cancelled["status"] != "CREATED":
                break
            await asyncio.sleep(0.2)
            await self.state.checkout.expire_due(100, [order["order_id"]])
            cancelled = await self.status(buyer, order["order_id"])
        assert (cancelled["status"], cancelled["cancel_reason"]) == ("CANCELLED", "payment_timeout")
        return order, item_id, warehouse_id

    async def refund_of(self, order: dict) -> tuple[str, str] | None:
        """(reason, status) of the refund of the order's payment, if one is recorded."""
        async with self.state.mysql.connect() as conn:
            row = (await conn.execute(text("SELECT reason, status FROM refunds WHERE payment_id = :p"),
                                      {"p": order["payment"]["payment_id"]})).first()
        return (row[0], row[1]) if row else None

    async def replacements(self, order: dict) -> list[str]:
        """Statuses of the orders that reinstate `order` (a late payment's new orders)."""
        async with self.state.mysql.connect() as conn:
            rows = await conn.execute(text("SELECT status FROM orders WHERE replaces_order_id = :o"),
                                      {"o": order["order_id"]})
            return list(rows.scalars())


@pytest.fixture(scope="session")
async def sample_network(settings) -> None:
    redis = connections.redis(settings)
    store = ServiceabilityStore(redis)
    if not (await store.deliverable_from(PINCODE))["small"]:
        await load_file(None, store)
    await redis.aclose()


async def open_shop(settings) -> AsyncIterator[Shop]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop.test", timeout=60) as http:
            yield Shop(http, app, settings)


@pytest.fixture
async def shop(settings, sample_network) -> AsyncIterator[Shop]:
    async for opened in open_shop(settings):
        yield opened


@asynccontextmanager
async def shop_with(settings, **changes) -> AsyncIterator[Shop]:
    """The shop served with some settings changed, e.g. `shop_with(settings, payment_simulator=False)`."""
    async for opened in open_shop(settings.model_copy(update=changes)):
        yield opened
