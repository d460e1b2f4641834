"""What the archive benchmark puts in the stores and takes out again: finished orders made through the API (in
process, as the tests make them), cloned in bulk in MySQL, and removal of everything a run made (its orders wherever
they ended up: MySQL, the archive's tables in Cassandra; the shoppers, items and stock)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

import httpx
from sqlalchemy import bindparam, text

from app.api import create_app
from bench.checkout_data import PINCODE, buyers, fastest_warehouse, remove_run, stocked_items
from orders.payments import SimulatedGateway
from orders.windows import PREFIX as WINDOW_PREFIX
from tests.archival.clones import clone_orders

CHUNK = 2_000
JOURNEYS_PER_SHOPPER = 5  # delivered twice, cancelled unpaid, paid then cancelled (refunded), payment failed


def _ids(sql: str):
    return text(sql).bindparams(bindparam("ids", expanding=True))


@dataclass
class Made:
    """What a run made: shoppers (id, bearer token), items of two sellers, and its finished orders (the ones made
    through the API first, then their clones)."""

    prefix: str
    shoppers: list[tuple[str, str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    sellers: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)


async def finished_orders(settings, stores, made: Made, shoppers: int, count: int) -> None:
    """`shoppers` shoppers each take their orders through the API to every way an order finishes, then those orders
    are cloned in MySQL until `count` (or a little more) finished orders exist; fills `made`."""
    warehouse_id = await fastest_warehouse(stores.serviceability)
    made.shoppers = await buyers(stores.users, settings.jwt_secret.get_secret_value(), made.prefix, shoppers)
    for seller in ("a", "b"):
        made.items += await stocked_items(stores, f"{made.prefix}-{seller}", 1, 10 * shoppers, warehouse_id)
        made.sellers.append(f"{made.prefix}-{seller}-seller")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.test", timeout=60) as http:
            journeys = Journeys(http, app.state.stores, settings)
            for start in range(0, shoppers, 10):
                for ids in await asyncio.gather(*(journeys.of(shopper, made.items)
                                                  for shopper in made.shoppers[start:start + 10])):
                    made.templates += ids
    copies = max(0, -(-(count - len(made.templates)) // len(made.templates)))
    made.orders = made.templates + await clone_orders(stores.mysql, made.templates, copies)


class Journeys:
    def __init__(self, http: httpx.AsyncClient, stores, settings) -> None:
        self.http, self.stores = http, stores
        self.gateway = SimulatedGateway(settings.payment_webhook_secret.get_secret_value())
        self.operator = {"X-Admin-Key": settings.admin_key.get_secret_value()}

    async def of(self, shopper: tuple[str, str], items: list[str]) -> list[str]:
        """One shopper's finished orders of both sellers' items, each finished a different way."""
        headers = {"Authorization": f"Bearer {shopper[1]}"}

        async def placed(n: int) -> dict:
            body = {"pincode": PINCODE, "lines": [{"item_id": items[0], "quantity": 1 + n % 2},
                                                  {"item_id": items[1], "quantity": 1}]}
            response = await self.http.post("/v1/orders", json=body,
                                             headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
            assert response.status_code == 201, response.text
            return response.json()

        async def step(path: str, step_headers: dict, content: bytes | None = None) -> None:
            response = await self.http.post(path, headers=step_headers, content=content)
            assert response.status_code == 200, response.text

        async def pay(order: dict, outcome: str) -> None:
            body, signature = self.gateway.answer(order["order_id"], order["payment"]["payment_id"], outcome,
                                                  order["total"]["amount"])
            await step("/v1/payments/webhook", {"X-Signature": signature, "content-type": "application/json"}, body)

        orders = [await placed(n) for n in range(JOURNEYS_PER_SHOPPER)]
        delivered, unpaid, refunded, failed = orders[:2], orders[2], orders[3], orders[4]
        for order in delivered:
            await pay(order, "succeeded")
            for action in ("ship", "deliver"):
                await step(f"/v1/orders/{order['order_id']}/{action}", self.operator)
        await step(f"/v1/orders/{unpaid['order_id']}/cancel", headers)
        await pay(refunded, "succeeded")
        await step(f"/v1/orders/{refunded['order_id']}/cancel", headers)
        await self.stores.checkout.settle_refunds(10, [refunded["payment"]["payment_id"]])
        await pay(failed, "failed")
        return [order["order_id"] for order in orders]


async def remove_made(stores, made: Made) -> dict:
    """Delete what a run made, wherever its orders are now: MySQL (live or archived) and the archive's tables."""
    mysql, order_ids = stores.mysql, made.orders or made.templates
    for start in range(0, len(order_ids), CHUNK):
        chunk = order_ids[start:start + CHUNK]
        async with mysql.begin() as conn:
            for table, column in (("outbox", "event_key"), ("stock_movements", "order_id"),
                                  ("payment_events", "order_id"), ("refunds", "order_id"), ("order_lines", "order_id"),
                                  ("orders", "order_id"), ("archived_orders", "order_id")):
                await conn.execute(_ids(f"DELETE FROM {table} WHERE {column} IN :ids"), {"ids": chunk})
    if made.templates:
        await stores.redis.delete(*(WINDOW_PREFIX + order_id for order_id in made.templates))
    archived = await remove_archived(stores, made)
    rest = await remove_run(stores, [user_id for user_id, _ in made.shoppers], made.items)
    return {"orders": len(order_ids), "archive rows deleted": archived, "items": rest["items"],
            "buyers": rest["buyers"]}


async def remove_archived(stores, made: Made) -> int:
    """The run's orders out of the archive: each order's row by id, and its shoppers' and sellers' partitions (the
    shoppers and sellers are the run's own)."""
    from cassandra.concurrent import execute_concurrent_with_args

    keyspace = stores.settings.cassandra_keyspace
    session = await stores.cassandra_session()

    def delete() -> int:
        deleted = 0
        for owners, listing, rows, column, bucket in (
                ([u for u, _ in made.shoppers], "user_order_years", "orders_by_user", "user_id", "year"),
                (made.sellers, "seller_order_months", "orders_by_seller", "seller_id", "month")):
            for owner in owners:
                buckets = [row[0] for row in session.execute(
                    f"SELECT {bucket} FROM {keyspace}.{listing} WHERE {column} = %s", (owner,))]
                for value in buckets:
                    session.execute(f"DELETE FROM {keyspace}.{rows} WHERE {column} = %s AND {bucket} = %s",
                                    (owner, value))
                session.execute(f"DELETE FROM {keyspace}.{listing} WHERE {column} = %s", (owner,))
                deleted += len(buckets) + 1
        by_id = session.prepare(f"DELETE FROM {keyspace}.orders_by_id WHERE order_id = ?")
        execute_concurrent_with_args(session, by_id, [(order_id,) for order_id in made.orders], concurrency=100)
        return deleted + len(made.orders)

    return await asyncio.to_thread(delete)


async def leftovers(stores) -> list[Made]:
    """Earlier runs that did not get to remove what they made (stopped, or a store went away), found by the prefix of
    their shoppers' e-mail addresses; each with its shoppers, items, sellers and orders, live or archived."""
    async with stores.mysql.connect() as conn:
        users = (await conn.execute(text("SELECT user_id, email FROM users WHERE email LIKE 'bench-ar-%'"))).all()
        runs: dict[str, Made] = {}
        for user_id, email in users:
            prefix = email.rsplit("-", 1)[0]
            runs.setdefault(prefix, Made(prefix)).shoppers.append((user_id, ""))
        for made in runs.values():
            made.items = [f"{made.prefix}-{seller}-000000" for seller in ("a", "b")]
            made.sellers = [f"{made.prefix}-{seller}-seller" for seller in ("a", "b")]
            params = {"ids": [user_id for user_id, _ in made.shoppers]}
            for table in ("orders", "archived_orders"):
                made.orders += list((await conn.execute(_ids(f"SELECT order_id FROM {table} WHERE user_id IN :ids"),
                                                        params)).scalars())
            made.orders = sorted(set(made.orders))
    return list(runs.values())
